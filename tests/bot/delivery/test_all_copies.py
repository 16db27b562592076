"""``settings platform all`` (issue 21 review): one message per platform, never two on one, whichever rows the
worker holds at once — the counted row's platform picked by one rule (email only for public topics), a counted
row that falls back onto a copy's platform adopting the copy instead of posting, an adopted copy changed once,
and copies included wherever the announcement's rows are meant (settle, cancel, the missed summary)."""

from __future__ import annotations

from pathlib import Path

from bot.announcements.model import AnnouncementState
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.model import DeliveryKind, DeliveryStatus, copy_key, counted_key
from tests.bot.delivery.platforms import CANNOT_DM, Platforms, announce, dms, follow, person, platforms
from tests.support import FixedClock, english


async def _all(p: Platforms, *identities: tuple[str, str], slug: str = "news") -> int:
    """A member holding ``identities`` who takes announcements on every account and follows ``slug``."""
    ana = await person(p, *identities)
    await p.h.app.store.people.set_preferred_platform(ana, "all")
    await follow(p, ana, slug)
    return ana


async def _confirm(p: Platforms, slug: str = "news", text: str = "Hello all") -> int:
    """Announce and confirm, leaving every row queued (the worker has not run)."""
    await p.h.say("demo-admin", f"announce new {slug} {text}")
    [announcement] = await p.h.app.store.announcements.recent(None, 1)
    assert "on its way" in await p.h.text("demo-admin", f"announce confirm {announcement.id}")
    return announcement.id


async def _counted_and_copy(p: Platforms, announcement: int, person_id: int, platform: str) -> tuple[
        tuple[DeliveryStatus, object], tuple[DeliveryStatus, object]]:
    outbox = p.h.app.store.outbox
    counted = await outbox.by_key(counted_key(announcement, person_id))
    copy = await outbox.by_key(copy_key(announcement, platform, person_id))
    assert counted is not None and copy is not None
    return (counted.status, counted.sent), (copy.status, copy.sent)


# --- one rule for the counted row's platform ---------------------------------------------------------------------


async def test_all_with_email_and_slack_on_a_members_topic_gets_one_slack_dm(p: Platforms) -> None:
    """Email carries public topics only, so the counted row's platform is Slack and there is no copy at all (the
    counted row used to be "email", fell to Slack, and met a Slack copy in the same round: two DMs)."""
    ana = await _all(p, ("email", "ana@example.org"), ("slack", "U1"), slug="inner")
    announcement = await announce(p, "inner")
    assert dms(p.slack) == ["U1"] and dms(p.email) == []
    assert await p.h.app.store.outbox.of_announcement(announcement, DeliveryKind.ANNOUNCEMENT_COPY) == []
    counted = await p.h.app.store.outbox.by_key(counted_key(announcement, ana))
    assert counted is not None and counted.sent is not None and counted.sent.platform == "slack"
    inner = await p.h.app.store.topics.by_slug("inner")
    assert inner is not None
    assert await p.h.app.store.announcements.audience_platforms(inner.id) == [("slack", 1)]  # the live estimate


async def test_on_a_public_topic_email_is_an_account_like_the_others(p: Platforms) -> None:
    ana = await _all(p, ("email", "ana@example.org"), ("slack", "U1"))
    announcement = await announce(p)
    assert dms(p.email) == ["ana@example.org"] and dms(p.slack) == ["U1"]
    (counted_status, counted_sent), (copy_status, copy_sent) = await _counted_and_copy(p, announcement, ana, "slack")
    assert counted_status is copy_status is DeliveryStatus.SENT
    assert getattr(counted_sent, "platform", None) == "email" and getattr(copy_sent, "platform", None) == "slack"


# --- a counted row that falls back onto a copy's platform adopts it ---------------------------------------------------


async def test_a_counted_platform_not_running_adopts_the_copy_held_in_the_same_round(
        tmp_path: Path, clock: FixedClock) -> None:
    """Discord (the counted row's platform) is not running: the counted row falls to Slack, where the copy is in
    the same batch. It waits for the copy and then takes its message: one Slack DM, one person counted."""
    async with platforms(tmp_path, clock, running=("slack", "email")) as p:
        ana = await _all(p, ("discord", "D1"), ("slack", "U1"))
        announcement = await announce(p)
        assert dms(p.slack) == ["U1"]
        counted, copy = await _counted_and_copy(p, announcement, ana, "slack")
        assert counted[0] is DeliveryStatus.PENDING and copy[0] is DeliveryStatus.SENT  # it waits, nothing counted
        clock.advance(seconds=1)
        await p.h.app.run_due()
        assert dms(p.slack) == ["U1"]
        counted, copy = await _counted_and_copy(p, announcement, ana, "slack")
        assert counted == (DeliveryStatus.SENT, copy[1])
        report = await p.h.text("demo-admin", f"announce status {announcement}")
        assert "Delivered 1 / 1" in report
        assert (await p.h.app.store.announcements.get(announcement)).state is AnnouncementState.SENT


async def test_the_counted_row_never_posts_while_the_copy_is_still_on_its_way(
        tmp_path: Path, clock: FixedClock) -> None:
    """The copy meets a passing error and is retried later: the counted row, falling back onto its platform, waits
    for it as long as it takes (never posting beside it), then adopts it."""
    async with platforms(tmp_path, clock, running=("slack", "email")) as p:
        ana = await _all(p, ("discord", "D1"), ("slack", "U1"))
        p.slack.failures.append(TransientDeliveryError("Slack: temporary error (internal_error)."))
        announcement = await announce(p)
        assert dms(p.slack) == []
        for _round in range(6):
            clock.advance(seconds=1)
            await p.h.app.run_due()
        assert dms(p.slack) == ["U1"]
        counted, copy = await _counted_and_copy(p, announcement, ana, "slack")
        assert counted == (DeliveryStatus.SENT, copy[1]) and copy[0] is DeliveryStatus.SENT
        stored = await p.h.app.store.outbox.by_key(counted_key(announcement, ana))
        assert stored is not None and stored.attempts <= 1  # waiting counted no attempt


async def test_a_copy_that_failed_leaves_its_platform_to_the_counted_row_and_is_not_retried_behind_it(
        tmp_path: Path, clock: FixedClock) -> None:
    async with platforms(tmp_path, clock, running=("slack", "email")) as p:
        ana = await _all(p, ("discord", "D1"), ("slack", "U1"))
        announcement = await _confirm(p)
        copy = await p.h.app.store.outbox.by_key(copy_key(announcement, "slack", ana))
        assert copy is not None
        await p.h.app.store.outbox.mark_final(copy.id, DeliveryStatus.FAILED, "outage", clock.now(), retryable=True)
        await p.h.app.run_due()
        assert dms(p.slack) == ["U1"]
        counted, _copy = await _counted_and_copy(p, announcement, ana, "slack")
        assert counted[0] is DeliveryStatus.SENT
        answer = await p.h.text("demo-admin", f"announce retry {announcement}")
        assert "nothing to retry" in answer
        await p.h.app.run_due()
        assert dms(p.slack) == ["U1"]


# --- an adopted copy is changed once --------------------------------------------------------------------------------


async def test_an_adopted_copy_is_edited_once_and_deleted_once(p: Platforms) -> None:
    await _all(p, ("slack", "U1"), ("discord", "D1"))
    p.discord.failures.append(PermanentDeliveryError(CANNOT_DM, dm_closed=True))
    announcement = await announce(p)
    assert dms(p.slack) == ["U1"] and dms(p.discord) == []
    edited = await p.h.text("demo-admin", f"announce edit {announcement} Hello again")
    assert "1 delivered copy is being updated" in edited
    await p.h.app.run_due()
    assert [(sent.platform, message.body) for sent, message in p.slack.edits] == [("slack", ("Hello again",))]
    cancelled = await p.h.text("demo-admin", f"announce cancel {announcement}")
    assert "1 delivered copy is being removed" in cancelled
    await p.h.app.run_due()
    assert [sent.platform for sent in p.slack.deletes] == ["slack"]


async def test_a_counted_row_being_sent_at_the_edit_and_adopting_the_copy_later_is_edited_once(
        tmp_path: Path, clock: FixedClock) -> None:
    """The worker holds the counted row (it is ``sending``) when the author edits, so it gets a change row of its
    own beside the copy's; it then adopts the copy's message. Its change stands aside for the copy's: one
    correction, not two on one message (second review, finding 1)."""
    async with platforms(tmp_path, clock, running=("slack", "email")) as p:
        ana = await _all(p, ("discord", "D1"), ("slack", "U1"))
        announcement = await announce(p)
        assert dms(p.slack) == ["U1"]
        counted = await p.h.app.store.outbox.by_key(counted_key(announcement, ana))
        assert counted is not None and counted.status is DeliveryStatus.PENDING
        await p.h.app.db.execute("UPDATE deliveries SET status = 'sending' WHERE id = ?", (counted.id,))
        edited = await p.h.text("demo-admin", f"announce edit {announcement} Hello again")
        assert "2 delivered copies are being updated" in edited  # the copy's change, and the held row's
        await p.h.app.db.execute("UPDATE deliveries SET status = 'pending' WHERE id = ?", (counted.id,))
        for _round in range(5):
            clock.advance(seconds=2)
            await p.h.app.run_due()
        assert dms(p.slack) == ["U1"]
        (counted_status, counted_sent), (_status, copy_sent) = await _counted_and_copy(p, announcement, ana, "slack")
        assert counted_status is DeliveryStatus.SENT and counted_sent == copy_sent
        assert [(sent.platform, message.body) for sent, message in p.slack.edits] == [("slack", ("Hello again",))]
        [stood_aside] = [row for row in await p.h.app.store.outbox.by_kind(DeliveryKind.EDIT)
                         if row.status is DeliveryStatus.SKIPPED]
        assert english(stood_aside.reason) == "changed through its copy"


async def test_leaving_all_mid_delivery_still_adopts_the_copy_already_on_the_new_platform(p: Platforms) -> None:
    """Ana leaves ``all`` for Slack after her Slack copy arrived and while her counted row (Discord) waits for a
    retry: the counted row now goes through Slack and must still find the copy there and adopt it. Why the copy
    is looked up whatever the person's preference is now: the copies were written for the preference at the
    fan-out."""
    ana = await _all(p, ("slack", "U1"), ("discord", "D1"))
    p.discord.failures.append(TransientDeliveryError("Discord: temporary error (500)."))
    announcement = await announce(p)
    assert dms(p.slack) == ["U1"] and dms(p.discord) == []
    await p.h.app.store.people.set_preferred_platform(ana, "slack")
    for _round in range(8):
        p.h.clock.advance(seconds=30)
        await p.h.app.run_due()
    assert dms(p.slack) == ["U1"] and dms(p.discord) == []
    (counted_status, counted_sent), (_status, copy_sent) = await _counted_and_copy(p, announcement, ana, "slack")
    assert counted_status is DeliveryStatus.SENT and counted_sent == copy_sent


# --- a counted row waiting for its copy does not spin -----------------------------------------------------------


async def test_a_counted_row_waiting_for_a_copy_in_flight_looks_again_less_and_less_often(
        tmp_path: Path, clock: FixedClock) -> None:
    """The copy is being sent (its platform slow to answer) while the counted row falls back onto its platform:
    the counted row used to come back every half second for as long as the copy took. Now each wait is as long
    as the copy has been due, up to a minute, and nothing is counted (second review, finding 3)."""
    async with platforms(tmp_path, clock, running=("slack", "email")) as p:
        ana = await _all(p, ("discord", "D1"), ("slack", "U1"))
        announcement = await _confirm(p)
        outbox = p.h.app.store.outbox
        copy = await outbox.by_key(copy_key(announcement, "slack", ana))
        assert copy is not None
        await p.h.app.db.execute("UPDATE deliveries SET status = 'sending' WHERE id = ?", (copy.id,))
        waits: list[float] = []
        for _round in range(10):
            await p.h.app.run_due()
            counted = await outbox.by_key(counted_key(announcement, ana))
            assert counted is not None and counted.status is DeliveryStatus.PENDING and counted.attempts == 0
            waits.append((counted.not_before - clock.now()).total_seconds())
            clock.advance(seconds=waits[-1])
        assert waits == [0.5, 0.5, 1, 2, 4, 8, 16, 32, 60, 60]
        assert dms(p.slack) == []


# --- copies wherever the announcement's rows are meant ------------------------------------------------------------


async def test_an_announcement_is_not_sent_while_a_copy_is_still_pending(p: Platforms) -> None:
    ana = await _all(p, ("slack", "U1"), ("discord", "D1"))
    p.slack.failures.append(TransientDeliveryError("Slack: temporary error (internal_error)."))
    announcement = await announce(p)
    counted, copy = await _counted_and_copy(p, announcement, ana, "slack")
    assert counted[0] is DeliveryStatus.SENT and copy[0] is DeliveryStatus.PENDING
    fetched = await p.h.app.store.announcements.get(announcement)
    assert fetched is not None and fetched.state is AnnouncementState.SENDING
    assert await p.h.app.store.outbox.open_for_announcement(announcement) == 1
    clock = p.h.clock
    for _round in range(6):
        clock.advance(seconds=5)
        await p.h.app.run_due()
    assert dms(p.slack) == ["U1"]
    fetched = await p.h.app.store.announcements.get(announcement)
    assert fetched is not None and fetched.state is AnnouncementState.SENT


async def test_a_cancel_stops_the_copies_too_and_counts_people(p: Platforms) -> None:
    ana = await _all(p, ("slack", "U1"), ("discord", "D1"))
    announcement = await _confirm(p)
    answer = await p.h.text("demo-admin", f"announce cancel {announcement}")
    assert "1 delivery not yet sent was stopped" in answer  # one person, however many accounts
    copy = await p.h.app.store.outbox.by_key(copy_key(announcement, "slack", ana))
    assert copy is not None and copy.status is DeliveryStatus.CANCELLED
    assert english(copy.reason) == "the announcement was cancelled"
    await p.h.app.run_due()
    assert dms(p.slack) == [] and dms(p.discord) == []


async def test_the_missed_summary_tells_copies_with_their_announcement_not_as_more_people(p: Platforms) -> None:
    ana = await _all(p, ("slack", "U1"), ("discord", "D1"))
    announcement = await _confirm(p)
    outbox, now = p.h.app.store.outbox, p.h.clock.now()
    for key in (counted_key(announcement, ana), copy_key(announcement, "slack", ana)):
        found = await outbox.by_key(key)
        assert found is not None
        await outbox.mark_final(found.id, DeliveryStatus.MISSED, "too late", now)
    await p.h.app.services.missed.run_due()
    await p.h.app.run_due()
    out = p.h.console_output()
    assert f"• 1 copy of announcement #{announcement} — too late" in out
    assert f"• 1 more copy of announcement #{announcement} on people's other accounts — too late" in out
    assert "other message" not in out
