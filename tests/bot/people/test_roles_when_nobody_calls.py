"""Second review, point 5: where nobody is calling (a digest being built, an invitation), a person with two or more
identities gets a platform role only while its platform vouches for it, as a caller does. A Slack guest linked to a
Discord account since removed from the server kept getting members-only items in their digests: the digest took the
highest stored role, and a digest row has no topic, so the delivery worker never asked the platform again.

The real app: ``guest`` on the console (whose platform cannot be asked) linked to ``dana`` on the recording platform
``test``, whose ``roles`` say what that platform gives now. "cybersecurity" is a members topic, "disinformation"
public; the coalition's zone is UTC, so the daily digest is due at 08:00 UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.model import Identity, Role
from tests.bot.linking.helpers import link
from tests.support import FixedClock, Harness, RecordingAdapter, console_settings, harness

DUE = datetime(2026, 11, 24, 8, 1, tzinfo=UTC)
"""A minute after the first daily digest slot after the harness's start (2026-11-23 12:00 UTC)."""
DANA = Identity("test", "dana")


async def _announce(h: Harness, topic: str, text: str) -> None:
    await h.say("demo-admin", f"announce new {topic} {text}")
    listed = await h.text("demo-admin", "announce list")
    number = listed.split(text)[0].rsplit("#", 1)[1].split()[0].rstrip(":")
    confirmed = await h.text("demo-admin", f"announce confirm {number}")
    assert "Cannot" not in confirmed, confirmed


async def _guest_following_both(h: Harness) -> int:
    """``guest`` (console) linked to ``dana`` (test, a member there), following both topics by daily digest, with
    one announcement in each queued for the digest. Returns the person's id."""
    person = await link(h, ("console", "guest"), ("test", "dana"), claimer_role=Role.MEMBER)
    for topic in ("cybersecurity", "disinformation"):
        reply = await h.say("guest", f"subscribe {topic} mode:daily")
        assert not reply.message.is_error, reply.message.plain_text()
    await _announce(h, "cybersecurity", "Members news")
    await _announce(h, "disinformation", "Public news")
    await h.app.run_due()
    return person


def _digest(h: Harness, user: str) -> str:
    out = h.console_output()
    head = f"[DM → {user}] == Your daily digest =="
    assert out.count(head) == 1, out
    return out.split(head)[1]


async def test_a_digest_asks_the_platform_and_leaves_out_what_a_role_taken_away_no_longer_lets_them_see(
        h: Harness) -> None:
    await _guest_following_both(h)
    h.adapter.roles[DANA.external_id] = Role.OUTSIDER  # dana left the server
    h.clock.current = DUE
    await h.app.run_due()
    digest = _digest(h, "guest")
    assert "Public news" in digest and "Members news" not in digest
    record = await h.app.store.people.identity(DANA)
    assert record is not None and record.platform_role is Role.OUTSIDER, "the platform's answer is stored"


async def test_a_stored_role_its_platform_has_not_confirmed_for_a_day_stops_counting_in_a_digest(
        h: Harness) -> None:
    await _guest_following_both(h)  # the test platform cannot be asked from now on: no entry in its roles
    h.clock.current = DUE.replace(day=25)  # the last confirmation (the link) is 44 hours old
    await h.app.run_due()
    digest = _digest(h, "guest")
    assert "Public news" in digest and "Members news" not in digest


async def test_a_linked_member_who_never_writes_keeps_getting_members_items_while_their_platform_says_so(
        h: Harness) -> None:
    await _guest_following_both(h)
    h.adapter.roles[DANA.external_id] = Role.MEMBER
    h.clock.current = DUE.replace(day=26)  # three days without a word from either account
    await h.app.run_due()
    digest = _digest(h, "guest")
    assert "Public news" in digest and "Members news" in digest


async def test_a_member_with_one_account_keeps_their_role_however_long_they_stay_silent(h: Harness) -> None:
    """Nothing to compare with: the role is refreshed when they write, and the worker asks before a DM."""
    reply = await h.say("solo", "subscribe cybersecurity mode:daily", platform="test", platform_role=Role.MEMBER)
    assert not reply.message.is_error
    await _announce(h, "cybersecurity", "Members news")
    await h.app.run_due()
    h.clock.current = DUE.replace(day=27)  # the test platform cannot be asked
    await h.app.run_due()
    [digest] = h.adapter.dms_to("solo")
    assert "Members news" in digest.plain_text()


async def test_a_members_only_dm_confirms_the_linked_role_it_was_checked_against(h: Harness) -> None:
    """The worker asks each platform before a members-only DM; an unchanged answer is stored as confirmed too, or
    a linked member who never writes would lose the role a day after linking, though their platform still gives
    it."""
    person = await link(h, ("console", "guest"), ("test", "dana"), claimer_role=Role.MEMBER)
    assert not (await h.say("guest", "subscribe cybersecurity mode:immediate")).message.is_error
    h.adapter.roles[DANA.external_id] = Role.MEMBER
    h.clock.advance(days=3)
    await _announce(h, "cybersecurity", "Members news")
    await h.app.run_due()
    assert "[DM → guest]" in h.console_output() and "Members news" in h.console_output().split("[DM → guest]")[1]
    profile = await h.app.store.people.profile(person)
    assert profile is not None and profile.role_checked_at(DANA) == h.clock.now()


async def test_an_invitation_asks_the_platform_of_the_invitee_s_linked_account(h: Harness) -> None:
    await link(h, ("console", "guest"), ("test", "dana"), claimer_role=Role.MEMBER)
    for slug in ("cells", "labs"):
        assert not (await h.say("demo-admin", f"topic create {slug} {slug} visibility:members")).message.is_error
    h.clock.advance(days=2)  # confirmed two days ago: it counts again only once the platform says so
    h.adapter.roles[DANA.external_id] = Role.MEMBER
    invited = await h.say("demo-admin", "topic invite cells console:guest")
    assert not invited.message.is_error, invited.message.plain_text()
    h.adapter.roles[DANA.external_id] = Role.OUTSIDER
    h.clock.advance(minutes=11)
    refused = await h.say("demo-admin", "topic invite labs console:guest")
    assert refused.message.is_error and "cannot see" in refused.message.plain_text()


@dataclass
class AskedAdapter(RecordingAdapter):
    """The recording platform, noting each question about a role."""

    asked: list[str] = field(default_factory=list)

    async def current_role(self, external_id: str) -> Role | None:
        self.asked.append(external_id)
        return await super().current_role(external_id)


async def test_digests_ask_a_platform_only_for_a_digest_that_goes(tmp_path: Path) -> None:
    """Digests are looked at on every poll: a slot not due yet, or one whose digest is queued already (the
    meetings-only digest is looked at again on each poll), must cost no question to the platform."""
    adapter = AskedAdapter(roles={DANA.external_id: Role.MEMBER})
    async with harness(console_settings(tmp_path), FixedClock(), adapter) as h:
        await link(h, ("console", "guest"), ("test", "dana"), claimer_role=Role.MEMBER)
        assert not (await h.say("guest", "subscribe cybersecurity mode:daily")).message.is_error
        created = await h.text("demo-admin", "meeting create cybersecurity Briefing 2026-11-26 15:00")
        assert "Briefing" in created, created
        await _announce(h, "cybersecurity", "Members news")
        for _ in range(59):  # every 20 minutes until 07:40, the slot is 08:00
            h.clock.advance(minutes=20)
            await h.app.run_due()
        assert adapter.asked == [], "no digest due: nothing asked"
        h.clock.current = DUE
        await h.app.run_due()
        assert "Members news" in _digest(h, "guest")
        assert adapter.asked == ["dana"]
        for _ in range(4):
            h.clock.advance(minutes=20)
            await h.app.run_due()
        assert adapter.asked == ["dana"], "this slot's digest is queued: nothing to build, nothing to ask"
