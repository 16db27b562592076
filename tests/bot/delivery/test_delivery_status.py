"""``delivery status`` (issue 16): admins see what is queued, paused, failed and missed per platform and kind,
and each platform's circuit — counts only, never a message's text (private topics included)."""

from __future__ import annotations

import json
from datetime import timedelta

from adapters.console import format_stamp
from bot.messages import Message, render_stamps
from bot.model import Identity
from storage.database import to_db_time
from tests.support import Harness

SECRET = "Safe-house address for Thursday"


async def _row(h: Harness, key: str, kind: str, status: str, *, person: int | None = None,
               platform: str | None = None, channel: str | None = None, ended_ago: timedelta = timedelta(0),
               retryable: bool = False, attempt_platform: str | None = None, topic: int | None = None) -> None:
    now = h.clock.now()
    payload = json.dumps(Message(body=(SECRET,)).to_json())
    open_row = status in ("pending", "sending")
    await h.app.db.execute(
        "INSERT INTO deliveries (dedupe_key, kind, person_id, platform, channel_id, topic_id, payload, status,"
        " not_before, created_at, sent_at, reason, retryable, attempt_platform)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (key, kind, person, platform, channel, topic, payload, status, to_db_time(now + timedelta(hours=1)),
         to_db_time(now - ended_ago), None if open_row else to_db_time(now - ended_ago), SECRET, int(retryable),
         attempt_platform))


async def test_delivery_status_is_for_admins_and_names_the_role(h: Harness) -> None:
    for user in ("demo-member", "demo-coordinator"):
        reply = await h.say(user, "delivery status")
        assert reply.message.is_error
        assert "This needs the admin role." in reply.message.plain_text()


async def test_delivery_status_counts_per_platform_and_kind_with_circuits_and_no_text(h: Harness) -> None:
    now = h.clock.now()
    member = await h.app.store.people.identity(Identity("console", "demo-member"))
    assert member is not None
    private = await h.app.store.topics.by_slug("incident-response")
    assert private is not None
    circuits = [("slack", 4, now, now + timedelta(minutes=30), "HTTP 503"),  # open
                ("discord", 3, now - timedelta(minutes=5), now - timedelta(minutes=1), "timeout")]  # probing
    for platform, failures, opened, retry, reason in circuits:
        await h.app.db.execute(
            "INSERT INTO platform_circuits (platform, failures, opened_at, retry_at, reason, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (platform, failures, to_db_time(opened), to_db_time(retry), reason,
                                           to_db_time(now)))
    await _row(h, "a1", "announcement", "pending", platform="slack", channel="C1", topic=private.id)
    await _row(h, "a2", "announcement", "failed", platform="discord", channel="D1", retryable=True)
    await _row(h, "r1", "reminder", "missed", person=member.person_id, topic=private.id)
    await _row(h, "d1", "digest", "sent", person=member.person_id, attempt_platform="console")
    await _row(h, "n1", "notice", "pending", person=member.person_id)
    await _row(h, "old", "digest", "failed", person=member.person_id, ended_ago=timedelta(hours=30))
    reply = await h.say("demo-admin", "delivery status")
    text = render_stamps(reply.message.plain_text(), lambda unix, style: format_stamp(unix, style, "UTC"))
    assert not reply.message.is_error
    assert SECRET not in text  # neither the text nor the stored reasons
    assert "Queued now, by platform:" in text and "Queued now, by kind:" in text
    assert "• Console: 1 queued\n" in text  # demo-member's notice: their only account is on the console
    assert "• Slack: 1 paused until 12:30\u202fPM (UTC)" in text
    assert "• announcement copies: 1 paused" in text and "• notices: 1 queued" in text
    assert "In the last 24 hours, by platform:" in text and "In the last 24 hours, by kind:" in text
    assert "• Discord: 1 failed (1 can be retried)" in text
    assert "• Console: 1 sent, 1 missed" in text
    assert "• digests: 1 sent\n" in text  # the failure 30 hours ago is outside the window
    assert "• reminders: 1 missed" in text
    assert "Platforms:" in text
    assert "• Console: sending normally" in text
    assert "• Slack: sending paused until 12:30\u202fPM (UTC) — HTTP 503" in text
    assert "• Discord: trying again — the next send decides whether it is back" in text
