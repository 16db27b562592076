"""Announcements end to end through the real dispatcher, outbox and worker, on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.announcements.model import AnnouncementState
from bot.delivery.errors import TransientDeliveryError
from bot.delivery.model import DeliveryStatus
from bot.model import Identity, Role
from tests.support import FixedClock, Harness, console_settings, english, harness


async def _state(h: Harness, announcement_id: int) -> AnnouncementState:
    announcement = await h.app.store.announcements.get(announcement_id)
    assert announcement is not None
    return announcement.state


async def test_preview_confirm_and_delivery_to_every_target(h: Harness) -> None:
    await h.say("demo-admin", "setup public-channel #coalition-public")
    await h.say("demo-admin", "setup topic-channel disinformation #wg-disinformation")
    await h.say("demo-member", "subscribe disinformation")
    await h.say("demo-outsider", "subscribe disinformation mode:daily")
    preview = await h.text("demo-coordinator", "announce new disinformation New report on election "
                                               "disinformation is out")
    assert "Preview of announcement #1 to “disinformation”" in preview
    assert "New report on election disinformation is out" in preview
    assert "Sends when you confirm." in preview
    assert "immediate (direct message): 2 (console 2)" in preview and "daily digest: 1 (console 1)" in preview
    assert "console:#wg-disinformation" in preview and "console:#coalition-public" in preview
    assert "/announce confirm 1" in preview and "/announce cancel 1" in preview
    assert h.console_output() == ""  # nothing is sent before confirming
    assert "on its way to 5 targets" in await h.text("demo-coordinator", "announce confirm 1")
    await h.app.run_due()
    out = h.console_output()
    assert "[#wg-disinformation] == Countering disinformation — announcement ==" in out
    assert "[#coalition-public] == Countering disinformation — announcement ==" in out
    assert out.count("[DM → demo-member] == Countering disinformation — announcement ==") == 1
    assert "[DM → demo-coordinator] == Countering disinformation — announcement ==" in out
    assert "[Unsubscribe] /unsubscribe disinformation" in out
    assert "[Mute this topic] /subscribe disinformation mode:channel" in out
    assert "[DM → demo-outsider]" not in out  # daily digest, not a DM
    assert "Delivery report for announcement #1" in out
    assert await _state(h, 1) is AnnouncementState.SENT
    status = await h.text("demo-coordinator", "announce status 1")
    assert "Delivered 4 / 4, 0 failed, 0 skipped." in status and "Digests: 1 queued, 0 sent." in status
    assert "Announcement #1 is already sent." in await h.text("demo-coordinator", "announce confirm 1")


async def test_members_and_outsiders_cannot_announce(h: Harness) -> None:
    assert "coordinator role" in await h.text("demo-member", "announce new disinformation hi")
    assert "coordinator role" in await h.text("demo-outsider", "announce new disinformation hi")
    assert "Only a coordinator of “elections”" in await h.text("demo-coordinator", "announce new elections hi")
    assert await h.app.store.announcements.recent(None) == []


async def test_scheduled_announcement_waits_for_its_time(h: Harness) -> None:
    await h.say("demo-coordinator", "settings timezone Africa/Nairobi")
    preview = await h.text("demo-coordinator", 'announce new disinformation when:"tomorrow 09:00" Webinar today')
    assert "Tuesday, November 24, 2026, 9:00\u202fAM (Africa/Nairobi)" in preview
    assert "scheduled for" in await h.text("demo-coordinator", "announce confirm 1")
    await h.app.run_due()
    assert "Webinar today" not in h.console_output()
    h.clock.current = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 09:00 in Nairobi
    await h.app.run_due()
    assert "[DM → demo-coordinator] == Countering disinformation — announcement ==" in h.console_output()


async def test_bad_times_are_refused_and_nothing_is_stored(h: Harness) -> None:
    past = await h.text("demo-coordinator", "announce new disinformation when:2026-11-01 hello")
    assert "in the past" in past
    far = await h.text("demo-coordinator", "announce new disinformation when:2028-01-01 hello")
    assert "year" in far
    assert "now, in 2h" in await h.text("demo-coordinator", "announce new disinformation when:soonish hi")
    assert await h.app.store.announcements.recent(None) == []


async def test_recipient_who_lost_access_gets_nothing(h: Harness) -> None:
    await h.say("bob", "subscribe research", platform="test", platform_role=Role.MEMBER)
    await h.say("demo-admin", "announce new research Members-only update")
    await h.say("demo-admin", "announce confirm 1")
    await h.say("bob", "whoami", platform="test", platform_role=Role.OUTSIDER)  # left the organisation
    await h.app.run_due()
    assert h.adapter.dms_to("bob") == []
    deliveries = await h.app.store.outbox.of_announcement(1)
    assert [(d.status, english(d.reason)) for d in deliveries if d.person_id] == \
        [(DeliveryStatus.SKIPPED, "the recipient may no longer see this topic")]


async def test_roles_are_rechecked_with_the_platform_when_a_delivery_goes_out(h: Harness) -> None:
    await h.say("bob", "subscribe research", platform="test", platform_role=Role.MEMBER)
    await h.say("demo-admin", "announce new research Members-only update")
    await h.say("demo-admin", "announce confirm 1")
    h.adapter.roles["bob"] = Role.OUTSIDER  # removed from the organisation; bob never talks to the bot again
    await h.app.run_due()
    assert h.adapter.dms_to("bob") == []
    record = await h.app.store.people.identity(Identity("test", "bob"))
    assert record is not None and record.platform_role is Role.OUTSIDER


async def test_edit_and_cancel_reach_delivered_copies(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation")
    await h.say("demo-coordinator", "announce new disinformation Meeting at 10")
    await h.say("demo-coordinator", "announce confirm 1")
    await h.app.run_due()
    edited = await h.text("demo-coordinator", "announce edit 1 Meeting at 11")
    assert "2 delivered copies are being updated" in edited
    await h.app.run_due()
    out = h.console_output()
    assert "[DM → demo-member, edited]" in out and "Meeting at 11" in out.split("[DM → demo-member, edited]")[1]
    cancelled = await h.text("demo-coordinator", "announce cancel 1")
    assert "2 delivered copies are being removed" in cancelled
    await h.app.run_due()
    assert "[DM → demo-member] the message “Countering disinformation — announcement” was deleted" \
        in h.console_output()
    assert await _state(h, 1) is AnnouncementState.CANCELLED


async def test_cancel_before_sending_stops_pending_deliveries(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation")
    await h.say("demo-coordinator", "announce new disinformation Oops")
    await h.say("demo-coordinator", "announce confirm 1")
    assert "2 deliveries not yet sent were stopped" in await h.text("demo-coordinator", "announce cancel 1")
    await h.app.run_due()
    assert "Oops" not in h.console_output()


async def test_429_and_5xx_are_retried_and_reported(h: Harness) -> None:
    await h.say("bob", "subscribe disinformation", platform="test", platform_role=Role.MEMBER)
    h.adapter.failures += [TransientDeliveryError("ratelimited", retry_after=30), TransientDeliveryError("HTTP 500")]
    await h.say("demo-coordinator", "announce new disinformation Retry me")
    await h.say("demo-coordinator", "announce confirm 1")
    await h.app.run_due()
    assert h.adapter.dms_to("bob") == []
    h.clock.advance(seconds=31)
    await h.app.run_due()
    h.clock.advance(minutes=5)
    await h.app.run_due()
    assert len(h.adapter.dms_to("bob")) == 1
    assert "Delivered 2 / 2" in await h.text("demo-coordinator", "announce status 1")


async def test_mentions_are_neutralised(h: Harness) -> None:
    await h.say("bob", "subscribe disinformation", platform="test", platform_role=Role.MEMBER)
    await h.say("demo-coordinator", "announce new disinformation @everyone look <!channel> <@U123> @here")
    await h.say("demo-coordinator", "announce confirm 1")
    await h.app.run_due()
    [message] = h.adapter.dms_to("bob")
    text = message.plain_text()
    for ping in ("@everyone", "@here", "<!channel>", "<@U123>"):
        assert ping not in text


async def test_unsubscribe_from_a_dm_action(h: Harness) -> None:
    await h.say("bob", "subscribe disinformation", platform="test", platform_role=Role.MEMBER)
    await h.say("demo-coordinator", "announce new disinformation Hello")
    await h.say("demo-coordinator", "announce confirm 1")
    await h.app.run_due()
    [message] = h.adapter.dms_to("bob")
    unsubscribe = next(a for a in message.actions if a.label == "Unsubscribe")
    reply = await h.text("bob", unsubscribe.command, platform="test", platform_role=Role.MEMBER)
    assert "no longer follow “disinformation”" in reply


async def test_digest_groups_announcements_at_the_local_hour(h: Harness) -> None:
    await h.say("demo-member", "settings timezone Asia/Kolkata")
    await h.say("demo-member", "subscribe disinformation mode:daily")
    h.clock.current = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 08:30 in Kolkata: today's slot has passed
    for text in ("First news", "Second news"):
        await h.say("demo-coordinator", f"announce new disinformation {text}")
    await h.say("demo-coordinator", "announce confirm 1")
    await h.say("demo-coordinator", "announce confirm 2")
    await h.app.run_due()
    assert "Your daily digest" not in h.console_output()
    h.clock.current = datetime(2026, 11, 24, 2, 29, tzinfo=UTC)  # 07:59 next day in Kolkata
    await h.app.run_due()
    assert "Your daily digest" not in h.console_output()
    h.clock.current = datetime(2026, 11, 24, 2, 31, tzinfo=UTC)  # 08:01
    await h.app.run_due()
    out = h.console_output()
    assert out.count("[DM → demo-member] == Your daily digest ==") == 1
    digest = out.split("[DM → demo-member] == Your daily digest ==")[1]
    assert "2 announcements:" in digest and "First news" in digest and "Second news" in digest
    h.clock.current = datetime(2026, 11, 25, 2, 31, tzinfo=UTC)
    await h.app.run_due()
    assert h.console_output().count("Your daily digest") == 1  # no empty digests


async def test_overdue_scheduled_announcements_after_downtime(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    clock = FixedClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    async with harness(settings, clock) as h:
        await h.say("demo-coordinator", "announce new disinformation when:“in 1h” Beyond the grace period")
        await h.say("demo-coordinator", "announce confirm 1")
        await h.say("demo-coordinator", "announce new disinformation when:“in 2h” Within the grace period")
        await h.say("demo-coordinator", "announce confirm 2")
    clock.current = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # down 7.5 h: #1 is 6.5 h late, #2 5.5 h
    async with harness(settings, clock) as h:
        await h.app.run_due()
        assert await _state(h, 1) is AnnouncementState.MISSED
        assert await _state(h, 2) is AnnouncementState.SENT
        out = h.console_output()
        missed_notice = out.split("[DM → demo-coordinator] == Announcement #1 was not sent ==")[1]
        assert "Beyond the grace period" in missed_notice.split("[DM")[0]
        sent = out.split("[DM → demo-coordinator] == Countering disinformation — announcement ==")[1]
        assert "Within the grace period" in sent.split("[DM")[0]
        assert "Beyond the grace period" not in sent.split("[DM")[0]
