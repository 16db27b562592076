"""A platform role follows the person only while its own platform vouches for it (issue 21 review, point 3), through
the real slack_bolt / slack_sdk and discord.py clients against both loopback fakes.

A Slack guest links with a Discord coordinator: from Slack they may do what a coordinator does. Discord takes the
roles away; the next command from Slack (once the last answer is ten minutes old) asks Discord again, and is refused,
naming the role, as it was before the accounts were linked. The Discord account never spoke again: without the
check, the role stored at its last contact counted for ever."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from bot.model import Identity, Role
from tests.adapters.both_platforms import BothPlatforms, JsonDict, both_platforms, buttons, discord_text, text_of
from tests.fakes.discord_server import ALICE, BOB, FakeUser
from tests.support import FixedClock

GUEST = "UGUEST"
ADMIN = "U1"
CODE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b")
NEEDS_COORDINATOR = "This needs the coordinator role."
UNKNOWN = "There is no topic “{}”."


async def link(both: BothPlatforms, claimer: FakeUser) -> None:
    """The guest gives a code on Slack, ``claimer`` claims it on Discord, the guest confirms with the button in its
    DM."""
    codes = set(CODE.findall(text_of(await both.on_slack(GUEST, "link"))))
    assert len(codes) == 1, codes
    claimed = discord_text(await both.on_discord(claimer, "link", {"code": codes.pop()}))
    assert "confirm" in claimed.lower(), claimed
    await both.settle()
    asking = [m for m in both.slack_dms(GUEST) if [answer(b) for b in buttons(m)] == ["confirm", "cancel"]]
    assert len(asking) == 1, both.slack_dms(GUEST)
    [confirm] = [b for b in buttons(asking[0]) if answer(b) == "confirm"]
    done = text_of(await both.click_on_slack(GUEST, confirm))
    assert "now one person" in done, done
    await both.settle()


def answer(button: JsonDict) -> str | None:
    """``confirm`` or ``cancel`` for a button that answers a link proposal (its value may carry the proposal's
    reference after the word), else ``None``."""
    found = re.fullmatch(r"link (confirm|cancel)(?: \S+)?", str(button.get("value", "")))
    return found.group(1) if found else None


async def subscribe(both: BothPlatforms, slug: str) -> JsonDict:
    return await both.on_slack(GUEST, f"subscribe {slug}")


async def stored_role(both: BothPlatforms, identity: Identity) -> Role:
    record = await both.app.store.people.identity(identity)
    assert record is not None
    return record.platform_role


async def checked_at(both: BothPlatforms, identity: Identity) -> datetime | None:
    """When Discord last vouched for the identity's role, as the profile reads it."""
    profile = await both.app.store.people.profile_of(identity)
    assert profile is not None
    return profile.role_checked_at(identity)


async def test_roles_taken_away_on_discord_stop_counting_through_the_linked_slack_guest(tmp_path: Path) -> None:
    clock = FixedClock()
    async with both_platforms(tmp_path, clock, slack_users=(ADMIN,)) as both:
        both.slack.add_user(GUEST, name="guest", is_restricted=True)  # a Slack guest: an outsider there
        for slug in ("insiders", "strategy"):
            created = text_of(await both.on_slack(ADMIN, f"topic create {slug} Members only visibility:members"))
            assert f"“{slug}”" in created, created
        assert NEEDS_COORDINATOR in text_of(await both.on_slack(GUEST, "topic create mine Mine"))
        assert UNKNOWN.format("insiders") in text_of(await subscribe(both, "insiders")), "hidden from outsiders"

        await link(both, ALICE)  # a coordinator and a member on Discord
        assert await both.person_of("slack", GUEST) == await both.person_of("discord", ALICE.id)
        # Linked, the guest may do from Slack what Alice's roles on Discord allow.
        joined = text_of(await subscribe(both, "insiders"))
        assert "You now follow “insiders”" in joined, joined
        created = text_of(await both.on_slack(GUEST, "topic create mine Mine"))
        assert "“mine”" in created and NEEDS_COORDINATOR not in created, created

        await both.discord.set_member_roles(ALICE.id, [])  # Discord takes both roles away
        clock.advance(minutes=11)  # the last answer about Alice's roles is older than ten minutes
        refused = text_of(await both.on_slack(GUEST, "topic create other Other"))
        assert NEEDS_COORDINATOR in refused, refused
        alice = Identity("discord", str(ALICE.id))
        assert await stored_role(both, alice) is Role.OUTSIDER, "Discord's answer is kept for Alice's identity"
        assert await checked_at(both, alice) == clock.now()
        # A members-only topic is hidden again, as from any outsider, and nothing is written.
        assert UNKNOWN.format("strategy") in text_of(await subscribe(both, "strategy"))
        topic = await both.app.store.topics.by_slug("strategy")
        person = await both.person_of("slack", GUEST)
        assert topic is not None and person is not None
        assert await both.app.store.subscriptions.get(person, topic.id) is None
        assert await both.app.store.topics.by_slug("other") is None


async def test_a_member_role_still_held_on_discord_keeps_counting_and_is_asked_once_per_ten_minutes(
        tmp_path: Path) -> None:
    clock = FixedClock()
    async with both_platforms(tmp_path, clock, slack_users=(ADMIN,)) as both:
        both.slack.add_user(GUEST, name="guest", is_restricted=True)
        for slug in ("insiders", "strategy", "finance"):
            await both.on_slack(ADMIN, f"topic create {slug} Members only visibility:members")
        await link(both, BOB)  # a member on Discord
        member_fetches = "/guilds/{guild_id}/members/{user_id}"

        def asked() -> int:
            return sum(1 for request in both.discord.requests if request.route == member_fetches
                       and request.path.endswith(str(BOB.id)))
        bob = Identity("discord", str(BOB.id))
        clock.advance(minutes=11)
        assert "You now follow “insiders”" in text_of(await subscribe(both, "insiders"))
        assert asked() == 1, "Discord was asked about Bob's member role"
        checked = clock.now()
        assert await checked_at(both, bob) == checked
        clock.advance(minutes=2)
        assert "You now follow “strategy”" in text_of(await subscribe(both, "strategy"))
        assert await checked_at(both, bob) == checked, "an answer two minutes old is taken as it is"
        clock.advance(minutes=9)
        assert "You now follow “finance”" in text_of(await subscribe(both, "finance"))
        assert await checked_at(both, bob) == clock.now(), "eleven minutes old: asked again"
        assert await stored_role(both, bob) is Role.MEMBER
