"""A platform role counts through a linked account only while its own platform vouches for it (issue 21 review,
point 3): calling through a Slack guest, the member role a linked Discord account holds is asked of Discord again
(at most every ten minutes, the answer stored), and while Discord cannot be asked it counts for a day after it was
last confirmed, never for ever. The people service on a real SQLite file, with a fake role checker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from bot.commands.context import Caller, IncomingCommand
from bot.config import CoreConfig
from bot.i18n import Translator
from bot.model import Identity, Role
from bot.people import service as people_service
from bot.people.roles import ROLE_CHECK_EVERY, ROLE_RETRY, ROLE_TRUSTED_FOR
from bot.people.service import PeopleService
from storage.database import Database
from storage.store import SqliteStore
from tests.postgres_server import storage_target
from tests.support import FixedClock

GUEST = Identity("slack", "UGUEST")
MEMBER = Identity("discord", "4242")
ADMIN = Identity("slack", "UADMIN")
MINUTE = timedelta(minutes=1)


@dataclass
class FakeRoles:
    """What each platform says now (absent: it cannot be asked); records every question."""

    says: dict[Identity, Role] = field(default_factory=dict)
    asked: list[Identity] = field(default_factory=list)
    hang: bool = False

    async def current_role(self, identity: Identity) -> Role | None:
        self.asked.append(identity)
        if self.hang:
            await asyncio.Event().wait()  # a platform that never answers
        return self.says.get(identity)


@dataclass
class World:
    store: SqliteStore
    db: Database
    clock: FixedClock
    roles: FakeRoles
    people: PeopleService

    async def call(self, identity: Identity, role: Role = Role.OUTSIDER) -> Caller:
        """A command from ``identity``, its platform saying ``role`` with it."""
        return await self.people.caller_for(IncomingCommand(identity, identity.external_id, platform_role=role))

    async def stored(self, identity: Identity) -> Role:
        record = await self.store.people.identity(identity)
        assert record is not None
        return record.platform_role

    async def checked_at(self, identity: Identity) -> object:
        row = await self.db.fetch_one("SELECT role_checked_at FROM identities WHERE platform = ? AND external_id = ?",
                                      (identity.platform, identity.external_id))
        assert row is not None
        return row["role_checked_at"]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = FixedClock()
    roles = FakeRoles()
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        people = PeopleService(store, CoreConfig(admins=frozenset({ADMIN})), Translator.load(), clock, roles)
        yield World(store, db, clock, roles, people)


async def add_identity(world: World, person_id: int, identity: Identity) -> None:
    """``identity`` joins the person (as a confirmed link leaves it), never having made contact."""
    await world.db.execute(
        "INSERT INTO identities (platform, external_id, person_id, display_name) VALUES (?, ?, ?, ?)",
        (identity.platform, identity.external_id, person_id, identity.external_id))


async def linked(world: World, calling: Identity, other: Identity, other_role: Role) -> None:
    """``calling`` and ``other`` are one person; ``other``'s platform said ``other_role`` at its last contact (now)."""
    people = world.store.people
    record = await people.ensure_identity(calling, calling.external_id, world.clock.now())
    await add_identity(world, record.person_id, other)
    await people.touch_identity(other, other.external_id, other_role, None, world.clock.now())


async def test_a_role_taken_away_on_its_own_platform_no_longer_counts_through_the_linked_account(world: World) -> None:
    await linked(world, GUEST, MEMBER, Role.MEMBER)
    assert (await world.call(GUEST)).role is Role.MEMBER, "just confirmed: no question asked"
    assert world.roles.asked == []

    world.roles.says[MEMBER] = Role.OUTSIDER  # the member role is taken away on Discord
    world.clock.advance(minutes=11)
    caller = await world.call(GUEST)
    assert caller.role is Role.OUTSIDER and caller.roles.from_platform is Role.OUTSIDER
    assert world.roles.asked == [MEMBER]
    assert await world.stored(MEMBER) is Role.OUTSIDER, "the answer is stored for the Discord identity"
    # The dispatcher's second look after a handler wrote something sees the same role.
    again = await world.people.caller_for_person(caller.person.id, via=GUEST)
    assert again.role is Role.OUTSIDER


async def test_an_answer_is_kept_ten_minutes_so_most_commands_ask_nothing(world: World) -> None:
    await linked(world, GUEST, MEMBER, Role.MEMBER)
    world.roles.says[MEMBER] = Role.MEMBER
    world.clock.advance(minutes=30)
    assert (await world.call(GUEST)).role is Role.MEMBER
    assert world.roles.asked == [MEMBER]
    assert await world.checked_at(MEMBER) is not None
    for _ in range(5):
        world.clock.advance(minutes=1)
        assert (await world.call(GUEST)).role is Role.MEMBER
    assert world.roles.asked == [MEMBER], "confirmed less than ten minutes ago: asked once"
    world.clock.current += ROLE_CHECK_EVERY
    assert (await world.call(GUEST)).role is Role.MEMBER
    assert world.roles.asked == [MEMBER, MEMBER]


async def test_while_the_platform_cannot_be_asked_the_role_counts_for_a_day_after_its_last_confirmation(
        world: World) -> None:
    await linked(world, GUEST, MEMBER, Role.MEMBER)
    confirmed = world.clock.now()
    world.clock.advance(hours=1)  # Discord cannot be asked (not running, or failing)
    assert (await world.call(GUEST)).role is Role.MEMBER
    assert world.roles.asked == [MEMBER]
    world.clock.advance(seconds=30)
    assert (await world.call(GUEST)).role is Role.MEMBER
    assert world.roles.asked == [MEMBER], "a platform that could not answer is not asked again at once"
    world.clock.current += ROLE_RETRY
    await world.call(GUEST)
    assert world.roles.asked == [MEMBER, MEMBER]

    world.clock.current = confirmed + ROLE_TRUSTED_FOR
    caller = await world.call(GUEST)
    assert caller.role is Role.OUTSIDER, "a day after the last confirmation, an unconfirmed role no longer counts"
    assert await world.stored(MEMBER) is Role.MEMBER, "not confirmed is not taken away: nothing is written"
    assert (await world.people.caller_for_person(caller.person.id, via=GUEST)).role is Role.OUTSIDER

    world.roles.says[MEMBER] = Role.MEMBER  # Discord answers again
    world.clock.current += ROLE_RETRY
    assert (await world.call(GUEST)).role is Role.MEMBER


async def test_a_platform_that_does_not_answer_in_time_is_one_that_cannot_be_asked(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(people_service, "ROLE_CHECK_SECONDS", 0.05)
    await linked(world, GUEST, MEMBER, Role.MEMBER)
    world.roles.hang = True
    world.clock.advance(hours=2)
    async with asyncio.timeout(5):
        assert (await world.call(GUEST)).role is Role.MEMBER, "confirmed two hours ago: still counts"
    world.clock.current += ROLE_TRUSTED_FOR
    async with asyncio.timeout(5):
        assert (await world.call(GUEST)).role is Role.OUTSIDER
    assert world.roles.asked == [MEMBER, MEMBER]


async def test_the_calling_identity_s_own_role_needs_no_question(world: World) -> None:
    # The member calls on Discord (Discord said member with the command): nothing to ask, whatever the age.
    await linked(world, MEMBER, GUEST, Role.OUTSIDER)
    world.clock.advance(days=30)
    assert (await world.call(MEMBER, Role.MEMBER)).role is Role.MEMBER
    # Linking never lowers: the guest's outsider does not take the member's role away.
    assert (await world.call(MEMBER, Role.MEMBER)).roles.from_platform is Role.MEMBER
    assert world.roles.asked == []


async def test_nothing_is_asked_when_a_grant_or_the_settings_file_give_as_much(world: World) -> None:
    await linked(world, GUEST, MEMBER, Role.MEMBER)
    person = (await world.call(GUEST)).person.id
    await world.store.grants.add(person, Role.MEMBER, None, None, world.clock.now())
    world.clock.advance(days=3)
    assert (await world.call(GUEST)).role is Role.MEMBER
    assert world.roles.asked == [], "a member by grant: Discord's member role would add nothing"


async def test_settings_file_admins_stay_admins_whatever_the_other_platform_says(world: World) -> None:
    await linked(world, ADMIN, MEMBER, Role.COORDINATOR)
    world.roles.says[MEMBER] = Role.OUTSIDER
    world.clock.advance(days=3)
    caller = await world.call(ADMIN)
    assert caller.role is Role.ADMIN and caller.roles.from_settings is Role.ADMIN
    assert world.roles.asked == []
    # Called through the other account, which lost everything on its platform: still an admin (the settings file
    # names the person's Slack identity).
    caller = await world.call(MEMBER, Role.OUTSIDER)
    assert caller.role is Role.ADMIN


async def test_only_the_highest_role_that_would_count_is_asked_about(world: World) -> None:
    coordinator = Identity("test", "coord")
    await linked(world, GUEST, MEMBER, Role.MEMBER)
    person = (await world.store.people.identity(GUEST))
    assert person is not None
    await add_identity(world, person.person_id, coordinator)
    await world.store.people.touch_identity(coordinator, "coord", Role.COORDINATOR, None, world.clock.now())
    world.clock.advance(minutes=20)
    world.roles.says.update({coordinator: Role.COORDINATOR, MEMBER: Role.MEMBER})
    assert (await world.call(GUEST)).role is Role.COORDINATOR
    assert world.roles.asked == [coordinator, MEMBER], "highest first; the lower one may be what is left"
    world.clock.advance(minutes=1)
    await world.call(GUEST)
    assert world.roles.asked == [coordinator, MEMBER], "both fresh now"


async def test_with_one_account_nobody_calling_keeps_the_stored_role(world: World) -> None:
    """Nothing to compare with: the role is refreshed on contact, and the delivery worker asks before a members-only
    DM; a member who only reads must not lose it a day after they last wrote."""
    person = (await world.call(MEMBER, Role.MEMBER)).person.id
    world.clock.advance(days=3)
    assert (await world.people.recipient(person)).caller.role is Role.MEMBER
    assert (await world.people.caller_for_person(person)).role is Role.MEMBER
    assert world.roles.asked == []


async def test_nobody_calling_a_linked_role_counts_only_while_its_platform_vouches_for_it(world: World) -> None:
    """Second review, point 5: without a caller (a digest, an approval, an invitation) the highest stored role
    counted, however long ago its platform last gave it."""
    await linked(world, GUEST, MEMBER, Role.MEMBER)
    person = (await world.call(GUEST)).person.id
    confirmed = world.clock.now()
    world.clock.advance(hours=1)
    assert (await world.people.caller_for_person(person)).role is Role.MEMBER, "Discord cannot say: still trusted"
    assert world.roles.asked == [MEMBER]

    world.clock.current = confirmed + ROLE_TRUSTED_FOR
    assert (await world.people.recipient(person)).caller.role is Role.OUTSIDER, "the worker's view asks nothing"
    assert (await world.people.caller_for_person(person)).role is Role.OUTSIDER
    assert world.roles.asked == [MEMBER, MEMBER]

    world.roles.says[MEMBER] = Role.MEMBER  # Discord answers again: confirmed, and stored as such
    world.clock.current += ROLE_RETRY
    assert (await world.people.caller_for_person(person)).role is Role.MEMBER
    assert await world.checked_at(MEMBER) is not None
    assert (await world.people.recipient(person)).caller.role is Role.MEMBER
    world.clock.advance(minutes=1)
    await world.people.caller_for_person(person)
    assert world.roles.asked == [MEMBER, MEMBER, MEMBER], "confirmed a minute ago: not asked again"

    world.roles.says[MEMBER] = Role.OUTSIDER  # taken away on Discord
    world.clock.current += ROLE_CHECK_EVERY
    assert (await world.people.caller_for_person(person)).role is Role.OUTSIDER
    assert await world.stored(MEMBER) is Role.OUTSIDER


async def test_contact_and_answers_record_when_the_role_was_confirmed(world: World) -> None:
    await linked(world, GUEST, MEMBER, Role.MEMBER)
    first = await world.checked_at(MEMBER)
    world.clock.advance(minutes=15)
    await world.store.people.set_platform_role(MEMBER, Role.MEMBER)  # a change with no time keeps the last one
    assert await world.checked_at(MEMBER) == first
    await world.store.people.set_platform_role(MEMBER, Role.MEMBER, checked_at=world.clock.now())
    profile = await world.store.people.profile_of(GUEST)
    assert profile is not None and profile.role_checked_at(MEMBER) == world.clock.now()
    assert profile.role_checked_at(Identity("slack", "nobody")) is None
