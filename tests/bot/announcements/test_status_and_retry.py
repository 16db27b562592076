"""``announce status`` per platform and ``announce retry`` (issue 16): copies counted by the platform they
went or go through, paused ones with the time their platform's circuit reopens, and only transient failures
re-queued — once, however many retries arrive at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.console import format_stamp
from bot.messages import render_stamps
from bot.model import Identity
from storage.database import to_db_time
from tests.support import Harness

INTERNAL = "Something went wrong"


async def _person(h: Harness, user: str) -> int:
    record = await h.app.store.people.identity(Identity("console", user))
    assert record is not None
    return record.person_id


async def _sent_announcement(h: Harness) -> None:
    """Announcement #1 to “disinformation”, delivered to its one immediate subscriber (demo-coordinator)."""
    await h.say("demo-coordinator", "announce new disinformation Hello all")
    await h.say("demo-coordinator", "announce confirm 1")
    await h.app.run_due()


async def _copy(h: Harness, key: str, status: str, *, person: int | None = None, platform: str | None = None,
                channel: str | None = None, sent_platform: str | None = None, attempt_platform: str | None = None,
                retryable: bool = False, uncertain: bool = False, reason: str | None = None) -> int:
    """A copy of announcement #1 in any state, as the worker would leave it."""
    now = h.clock.now()
    later = to_db_time(now + timedelta(hours=1))  # pending ones are not due: the test reads them as they are
    ended = to_db_time(now) if status not in ("pending", "sending") else None
    return await h.app.db.insert(
        "INSERT INTO deliveries (dedupe_key, kind, person_id, platform, channel_id, topic_id, payload, status,"
        " attempts, not_before, created_at, sent_at, sent_platform, sent_channel_id, sent_message_ids, reason,"
        " announcement_id, uncertain, retrying_since, retryable, attempt_platform)"
        " VALUES (?, 'announcement', ?, ?, ?, 1, '{\"announcement\": 1, \"target\": \"dm\"}', ?, 3, ?, ?, ?, ?, ?,"
        " ?, ?, 1, ?, ?, ?, ?)",
        (f"ann:1:test:{key}", person, platform, channel, status, later, to_db_time(now), ended, sent_platform,
         "C9" if sent_platform else None, '["1"]' if sent_platform else None, reason, int(uncertain),
         to_db_time(now - timedelta(hours=2)) if retryable else None, int(retryable), attempt_platform))


async def _status(h: Harness, user: str = "demo-coordinator") -> str:
    return render_stamps(await h.text(user, "announce status 1"), lambda unix, style: format_stamp(unix, style, "UTC"))


async def test_status_counts_copies_per_platform_in_every_state(h: Harness) -> None:
    await _sent_announcement(h)
    member, admin = await _person(h, "demo-member"), await _person(h, "demo-admin")
    now = h.clock.now()
    # demo-admin also has a Slack account: a DM to them picks its platform when it is sent.
    await h.app.db.execute("INSERT INTO identities (platform, external_id, person_id, display_name)"
                           " VALUES ('slack', 'U-ADMIN', ?, 'demo-admin')", (admin,))
    await h.app.db.execute("INSERT INTO platform_circuits (platform, failures, opened_at, retry_at, reason,"
                           " updated_at) VALUES ('slack', 5, ?, ?, 'HTTP 503', ?)",
                           (to_db_time(now), to_db_time(now + timedelta(minutes=10)), to_db_time(now)))
    await _copy(h, "slack-channel", "pending", platform="slack", channel="C1")
    await _copy(h, "slack-channel-2", "pending", platform="slack", channel="C2")
    await _copy(h, "discord-sent", "sent", person=member, sent_platform="discord")
    await _copy(h, "discord-outage", "failed", person=member, attempt_platform="discord", retryable=True,
                reason="gave up: HTTP 503")
    await _copy(h, "discord-closed", "failed", person=member, attempt_platform="discord", reason="DMs closed")
    await _copy(h, "discord-skip", "skipped", platform="discord", channel="D1", reason="topic archived")
    await _copy(h, "discord-missed", "missed", platform="discord", channel="D2", reason="too late")
    await _copy(h, "member-pending", "pending", person=member)  # one identity: console
    await _copy(h, "admin-pending", "pending", person=admin)  # two identities: not chosen yet
    text = await _status(h)
    assert "By platform:" in text
    assert "• Console: 1 queued, 1 sent" in text  # demo-coordinator's copy went out; demo-member's waits
    assert "• Discord: 1 sent, 2 failed (1 can be retried), 1 skipped, 1 missed" in text
    assert "• Slack: 2 paused until 12:10\u202fPM (UTC)" in text
    assert "• not chosen yet: 1 queued" in text
    assert "1 failed copy failed for a passing reason (an outage) and can be sent again." in text
    assert "[Retry] /announce retry 1" in text
    assert "1 copy was missed" in text


async def test_retry_requeues_only_transient_failures_and_then_sends_them(h: Harness) -> None:
    await _sent_announcement(h)
    member = await _person(h, "demo-member")
    outage = await _copy(h, "outage", "failed", person=member, attempt_platform="console", retryable=True,
                         uncertain=True, reason="gave up: HTTP 503")
    closed = await _copy(h, "closed", "failed", person=member, attempt_platform="console", reason="DMs closed")
    assert "1 failed delivery of announcement #1 is queued again." in await h.text("demo-coordinator",
                                                                                  "announce retry 1")
    row = await h.app.store.outbox.get(outage)
    assert row is not None
    assert (row.status.value, row.attempts, row.retryable, row.uncertain, row.retrying_since) == \
        ("pending", 0, False, True, None)  # `uncertain` kept: the retry reads back before posting
    assert row.not_before == h.clock.now()
    permanent = await h.app.store.outbox.get(closed)
    assert permanent is not None and permanent.status.value == "failed"
    again = await h.say("demo-coordinator", "announce retry 1")
    assert again.message.is_error and "nothing to retry" in again.message.plain_text()
    await h.app.run_due()
    sent = await h.app.store.outbox.get(outage)
    assert sent is not None and sent.status.value == "sent"
    assert h.console_output().count("[DM → demo-member] == Countering disinformation — announcement ==") == 1
    announcement = await h.app.store.announcements.get(1)
    assert announcement is not None and announcement.state.value == "sent"  # closed again once it ended


async def test_retry_answers_and_refusals(h: Harness) -> None:
    await _sent_announcement(h)
    member = await _person(h, "demo-member")
    nothing = await h.say("demo-coordinator", "announce retry 1")
    assert nothing.message.is_error
    assert "Announcement #1 has no delivery that failed for a passing reason" in nothing.message.plain_text()
    refused = await h.say("demo-member", "announce retry 1")
    assert refused.message.is_error and "This needs the coordinator role." in refused.message.plain_text()
    await _copy(h, "outage", "failed", person=member, attempt_platform="console", retryable=True)
    await h.say("demo-coordinator", "announce cancel 1")
    cancelled = await h.say("demo-coordinator", "announce retry 1")
    assert cancelled.message.is_error and "was cancelled" in cancelled.message.plain_text()
    rows = await h.app.db.fetch_all("SELECT status FROM deliveries WHERE dedupe_key = 'ann:1:test:outage'")
    assert rows[0]["status"] == "failed"


async def test_fifty_concurrent_retries_requeue_once(h: Harness) -> None:
    await _sent_announcement(h)
    member = await _person(h, "demo-member")
    for n in range(3):
        await _copy(h, f"outage-{n}", "failed", person=member, attempt_platform="console", retryable=True)
    replies = await asyncio.wait_for(asyncio.gather(
        *(h.say("demo-coordinator", "announce retry 1") for _ in range(50))), timeout=60)
    texts = [reply.message.plain_text() for reply in replies]
    assert not [t for t in texts if INTERNAL in t], texts
    assert sum("3 failed deliveries of announcement #1 are queued again." in t for t in texts) == 1, texts
    assert sum("nothing to retry" in t for t in texts) == 49, texts
    audit = [e for e in await h.app.store.audit.recent() if e.action == "announce.retry"]
    assert len(audit) == 1
    pending = await h.app.db.fetch_all(
        "SELECT COUNT(*) FROM deliveries WHERE dedupe_key LIKE 'ann:1:test:outage-%' AND status = 'pending'")
    assert pending[0][0] == 3
