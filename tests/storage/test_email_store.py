"""Email followers' tables on a real SQLite file: the conditional use of a signup, keys that die with their
identity, people removed only when nothing holds them, pruning, and bounce health."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.audit import AuditAction
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility
from storage.database import Database
from storage.store import SqliteStore
from tests.postgres_server import storage_target
from tests.support import FixedClock

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(hours=48)
ANN = "ann@example.org"


async def _ann(store: SqliteStore) -> tuple[int, int]:
    """Ann's person id and a public topic's id."""
    person = (await store.people.ensure_identity(Identity("email", ANN), ANN, NOW)).person_id
    await store.email.ensure_key(ANN, "k" * 32, NOW)
    topic = await store.topics.create("climate", "Climate", "", Visibility.PUBLIC, Policy.OPEN, NOW)
    return person, topic.id


async def test_a_signup_is_used_once_even_at_once(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        person, topic = await _ann(store)
        signup = await store.email.add_signup(person, ANN, topic, DeliveryMode.DAILY, "fr", "UTC", "t" * 32, NOW,
                                              EXPIRES)
        assert await store.email.signup("t" * 32) == signup and signup.confirmed_at is None
        used = await asyncio.wait_for(asyncio.gather(*(store.email.use_signup(signup.id, NOW) for _ in range(3))),
                                      timeout=5)
        assert sorted(used) == [False, False, True]
        late = await store.email.add_signup(person, ANN, topic, DeliveryMode.DAILY, "fr", "UTC", "u" * 32, NOW,
                                            EXPIRES)
        assert not await store.email.use_signup(late.id, EXPIRES)  # expired at that instant
        spent = await store.email.add_signup(person, ANN, topic, DeliveryMode.DAILY, "fr", "UTC", "v" * 32, NOW,
                                             EXPIRES, used=True)
        assert spent.confirmed_at == NOW and not await store.email.use_signup(spent.id, NOW)


async def test_a_key_is_made_once_and_dies_with_its_identity(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        person, _topic = await _ann(store)
        assert await store.email.ensure_key(ANN, "z" * 32, NOW) == "k" * 32  # the first key stays
        owner = await store.email.by_key("k" * 32)
        assert owner is not None and (owner.person_id, owner.address) == (person, ANN)
        assert await store.email.remove_address(ANN) == person
        assert await store.email.remove_address(ANN) is None
        assert await store.email.by_key("k" * 32) is None and await store.email.key_of(ANN) is None
        assert await store.people.get(person) is not None  # the person goes only when asked
        assert await store.email.remove_person_if_unused(person)
        assert await store.people.get(person) is None


async def test_a_person_who_left_a_trace_is_kept(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        person, _topic = await _ann(store)
        await store.audit.record(person, AuditAction.ROLE_GRANT, "person:1", None, "member", NOW)
        await store.email.remove_address(ANN)
        assert not await store.email.remove_person_if_unused(person)
        assert await store.people.get(person) is not None


async def test_a_database_restored_without_its_salt_gets_a_new_one_that_stays(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        migrated = await store.email.client_salt()
        await db.execute("DELETE FROM email_salt")
        salt = await store.email.client_salt()
        assert re.fullmatch("[0-9a-f]{32}", salt) and salt != migrated
        assert await store.email.client_salt() == salt
        row = await db.fetch_one("SELECT salt FROM email_salt WHERE id = 1")
        assert row is not None and row["salt"] == salt


async def test_stamps_are_counted_in_their_window_and_pruned(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        salt = await store.email.client_salt()
        assert len(salt) == 32 and await store.email.client_salt() == salt
        await store.email.stamp(("a", "b"), NOW)
        await store.email.stamp(("a",), NOW + timedelta(minutes=5))
        assert await store.email.count_stamps("a", NOW - timedelta(minutes=1)) == 2
        assert await store.email.count_stamps("a", NOW) == 1  # strictly after
        assert await store.email.count_stamps("c", NOW - timedelta(days=1)) == 0
        assert await store.email.prune(NOW, NOW + timedelta(minutes=1)) == (0, 0)
        assert await store.email.count_stamps("a", NOW - timedelta(days=1)) == 1


async def test_prune_keeps_confirmed_and_linked_people(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        ann, topic = await _ann(store)
        await store.email.add_signup(ann, ANN, topic, DeliveryMode.DAILY, "en", "UTC", "t" * 32, NOW, EXPIRES)
        bob = (await store.people.ensure_identity(Identity("email", "bob@example.org"), "bob", NOW)).person_id
        await store.email.ensure_key("bob@example.org", "b" * 32, NOW)
        await store.email.mark_confirmed("bob@example.org", NOW)
        cyd = (await store.people.ensure_identity(Identity("email", "cyd@example.org"), "cyd", NOW)).person_id
        await db.execute("INSERT INTO identities (platform, external_id, person_id, display_name)"
                         " VALUES ('slack', 'U9', ?, 'Cyd')", (cyd,))
        assert await store.email.prune(EXPIRES - timedelta(seconds=1), NOW) == (0, 0)
        assert await store.people.get(ann) is not None  # ann still has a live signup
        assert await store.email.prune(EXPIRES, NOW) == (1, 1)
        assert await store.people.get(ann) is None
        assert await store.people.get(bob) is not None and await store.people.get(cyd) is not None


async def test_pruning_an_address_forgets_its_refusals(tmp_path: Path) -> None:
    """A paused address nobody holds any more must not stay stored, nor refuse its real owner's mail later."""
    from bot.email.health import EmailHealth

    clock = FixedClock()
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        health = EmailHealth(store.email_health)
        await store.people.ensure_identity(Identity("email", "gone@example.org"), "g•••@example.org", clock.now())
        for _refusal in range(3):
            await health.refused("gone@example.org", clock.now())
        assert await health.is_paused("gone@example.org")
        await store.email.prune(clock.now() + timedelta(days=3), clock.now())
        assert await store.people.identity(Identity("email", "gone@example.org")) is None
        assert not await health.is_paused("gone@example.org")
        assert await db.fetch_all("SELECT * FROM email_health") == []
