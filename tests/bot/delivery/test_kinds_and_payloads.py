"""Issue 17: delivery kinds are an enum, and each kind's payload is a typed value that alone writes and reads
its JSON. Rows written by the previous version — every kind, reminders with and without ``target`` — still
parse and send; a row of an unknown kind, or whose payload is not its kind's, fails alone with a reason."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.announcements.model import AnnouncementState
from bot.announcements.payloads import AnnouncementPayload, AnnouncementTarget, ReportPayload
from bot.commands.invoke import invoke
from bot.delivery.model import DeliveryKind, DeliveryPayload, DeliveryStatus, PayloadError, UnknownKind, parse_kind
from bot.delivery.outcomes import MissedReminder
from bot.delivery.payloads import ChangePayload, NoticePayload
from bot.i18n import _, _n
from bot.meetings.declarations import RSVP
from bot.meetings.model import epoch
from bot.meetings.payloads import ReminderPayload, ReminderTarget
from bot.messages import Action, ActionStyle, Field, Message
from bot.model import Role
from bot.subscriptions.declarations import SUBSCRIBE
from storage.database import to_db_time
from tests.support import Harness, english

TIMEOUT = 30
MEMBER: dict[str, Any] = {"platform": "test", "platform_role": Role.MEMBER}
START = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 1796130000
CHANNEL = "wg-disinformation"

# Message payloads exactly as the previous version wrote them: json.dumps(message.to_json(), ensure_ascii=False).
OLD_NOTICE = ('{"title": "Old notice", "body": ["Queued before the upgrade"], "fields": [], "actions": [], '
              '"footer": null}')
OLD_DIGEST = (
    '{"title": {"msgid": "Your daily digest", "plural": null, "n": null, "params": []}, "body": [{"msgid": '
    '"{n} announcement:", "plural": "{n} announcements:", "n": 1, "params": [["n", 1]]}, {"msgid": "• {topic}: '
    '{text}", "plural": null, "n": null, "params": [["text", "Old digest line"], ["topic", "disinformation"]]}], '
    '"fields": [], "actions": [[{"msgid": "Switch {topic} to immediate", "plural": null, "n": null, "params": '
    '[["topic", "disinformation"]]}, "subscribe disinformation mode:immediate", "default"]], "footer": null}')
OLD_MEETING_NOTICE = (
    '{"title": {"msgid": "Meeting moved: {title}", "plural": null, "n": null, "params": [["title", '
    '"Disinformation working group call"]]}, "body": ["Now on Wednesday"], "fields": [], "actions": [], '
    '"footer": {"msgid": "Topic “{topic}”", "plural": null, "n": null, "params": [["topic", "disinformation"]]}}')


def test_the_kinds_are_the_strings_stored_before() -> None:
    # Issue 21 added "announcement-copy" (the extra copies of someone who takes announcements on every account).
    assert {kind.value for kind in DeliveryKind} == {
        "announcement", "report", "edit", "delete", "reminder", "digest", "notice", "meeting-notice",
        "announcement-copy"}
    assert parse_kind("meeting-notice") is DeliveryKind.MEETING_NOTICE
    assert parse_kind("carrier-pigeon") == UnknownKind("carrier-pigeon")


@pytest.mark.parametrize(("payload", "stored"), [
    (AnnouncementPayload(3, AnnouncementTarget.DM), '{"announcement": 3, "target": "dm"}'),
    (AnnouncementPayload(3, AnnouncementTarget.CHANNEL), '{"announcement": 3, "target": "channel"}'),
    (AnnouncementPayload(3, AnnouncementTarget.PUBLIC), '{"announcement": 3, "target": "public"}'),
    (ReportPayload(3), '{"announcement": 3}'),
    (ChangePayload(9), '{"of": 9}'),
    (ReminderPayload(1, START, START + timedelta(hours=1), 60, late=False, target=ReminderTarget.DM),
     '{"meeting": 1, "original": 1796130000, "start": 1796133600, "offset": 60, "late": false, "target": "dm"}'),
    (ReminderPayload(1, START, START, 1440, late=True, target=ReminderTarget.CHANNEL),
     '{"meeting": 1, "original": 1796130000, "start": 1796130000, "offset": 1440, "late": true, '
     '"target": "channel"}'),
    # A reminder missed while the bot was down was recorded without a target.
    (ReminderPayload(1, START, START, 60, late=True),
     '{"meeting": 1, "original": 1796130000, "start": 1796130000, "offset": 60, "late": true}'),
    (NoticePayload(Message(title="Old notice", body=("Queued before the upgrade",))), OLD_NOTICE),
    (NoticePayload(Message(
        title=_("Your daily digest"),
        body=(_n("{n} announcement:", "{n} announcements:", 1),
              _("• {topic}: {text}", topic="disinformation", text="Old digest line")),
        actions=(Action(_("Switch {topic} to immediate", topic="disinformation"),
                        invoke(SUBSCRIBE, topic="disinformation", mode="immediate")),))), OLD_DIGEST),
])
def test_each_payload_writes_what_the_previous_version_wrote_and_reads_it_back(payload: DeliveryPayload,
                                                                                stored: str) -> None:
    assert payload.to_json() == stored
    assert type(payload).from_json(stored) == payload


def test_a_message_payload_keeps_fields_styles_and_lazy_texts() -> None:
    message = Message(title=_("Meeting moved: {title}", title="Call"), body=("plain", _("Welcome")),
                      fields=(Field(_("Link"), "https://example.org"),),
                      actions=(Action(_("Yes"), invoke(RSVP, id=1, answer="yes"), ActionStyle.PRIMARY),),
                      footer="Topic")
    assert NoticePayload.from_json(NoticePayload(message).to_json()) == NoticePayload(message)


@pytest.mark.parametrize(("parse", "stored"), [
    (ReminderPayload.from_json, "{}"),
    (ReminderPayload.from_json, '{"meeting": "soon", "original": 1, "start": 1, "offset": 60}'),
    (ReminderPayload.from_json, '{"meeting": true, "original": 1, "start": 1, "offset": 60}'),
    (ReminderPayload.from_json, '{"meeting": 1, "original": 1, "start": 1, "offset": 60, "late": "yes"}'),
    (ReminderPayload.from_json, '{"meeting": 1, "original": 1, "start": 1, "offset": 60, "target": "owl"}'),
    (AnnouncementPayload.from_json, '{"announcement": 3}'),
    (AnnouncementPayload.from_json, '{"announcement": 3, "target": "owl"}'),
    (ReportPayload.from_json, "[3]"),
    (ChangePayload.from_json, "not json"),
    (NoticePayload.from_json, '{"title": 5}'),
    (NoticePayload.from_json, '{"actions": [["Yes"]]}'),
])
def test_a_payload_that_is_not_its_kinds_is_refused(parse: Callable[[str], object], stored: str) -> None:
    with pytest.raises(PayloadError):
        parse(stored)


async def _insert(h: Harness, key: str, kind: str, payload: str, *, person: int | None = None,
                  channel: str | None = None, topic: int | None = None, announcement: int | None = None,
                  status: str = "pending", sent_ids: str | None = None, expires: datetime | None = None,
                  reason: str | None = None) -> int:
    """A row as the previous version's SqliteOutbox.enqueue (or record_skipped_delivery) stored it."""
    now = to_db_time(h.clock.now())
    return await h.app.db.insert(
        "INSERT INTO deliveries (dedupe_key, kind, person_id, platform, channel_id, topic_id, payload, status,"
        " not_before, created_at, announcement_id, expires_at, sent_at, sent_platform, sent_channel_id,"
        " sent_message_ids, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (key, kind, person, "test" if channel else None, channel, topic, payload, status, now, now, announcement,
         to_db_time(expires) if expires else None, now if status != "pending" else None,
         "test" if sent_ids else None, channel if sent_ids else None, sent_ids, reason))


async def _outcomes(h: Harness) -> dict[str, tuple[str, str]]:
    rows = await h.app.db.fetch_all("SELECT dedupe_key, status, reason FROM deliveries WHERE dedupe_key LIKE"
                                    " 'old:%' ORDER BY id")
    return {row["dedupe_key"]: (row["status"], english(row["reason"])) for row in rows}


async def test_rows_written_by_the_previous_version_parse_and_send(h: Harness) -> None:
    store = h.app.store
    now = h.clock.now()
    await h.say("alice", "subscribe disinformation", **MEMBER)
    [alice] = await store.people.find_by_name("alice")
    topic = await store.topics.by_slug("disinformation")
    assert topic is not None
    queued = await store.announcements.create(topic.id, alice.id, "Queued before the upgrade", None, now)
    await store.announcements.transition(queued.id, AnnouncementState.SENDING, [AnnouncementState.DRAFT], now)
    earlier = await store.announcements.create(topic.id, alice.id, "Sent before the upgrade", None, now)
    await store.announcements.transition(earlier.id, AnnouncementState.SENT, [AnnouncementState.DRAFT], now)
    [occurrence] = await store.meetings.occurrences(1, now, 1)
    at = epoch(occurrence.start)
    to_alice: dict[str, Any] = {"person": alice.id}
    in_channel: dict[str, Any] = {"channel": CHANNEL}

    a = queued.id
    await _insert(h, "old:ann:channel", "announcement", f'{{"announcement": {a}, "target": "channel"}}',
                  topic=topic.id, announcement=a, **in_channel)
    await _insert(h, "old:ann:dm", "announcement", f'{{"announcement": {a}, "target": "dm"}}', topic=topic.id,
                  announcement=a, **to_alice)
    await _insert(h, "old:report", "report", f'{{"announcement": {a}}}', announcement=a, **to_alice)
    edited = await _insert(h, "old:copy:edited", "announcement", f'{{"announcement": {earlier.id}, "target": '
                           '"channel"}', topic=topic.id, announcement=earlier.id, status="sent", sent_ids='["41"]',
                           **in_channel)
    removed = await _insert(h, "old:copy:removed", "announcement", f'{{"announcement": {earlier.id}, "target": '
                            '"channel"}', topic=topic.id, announcement=earlier.id, status="sent",
                            sent_ids='["42"]', **in_channel)
    await _insert(h, "old:edit", "edit", f'{{"of": {edited}}}', announcement=earlier.id, channel=CHANNEL)
    await _insert(h, "old:delete", "delete", f'{{"of": {removed}}}', announcement=earlier.id, channel=CHANNEL)
    await _insert(h, "old:reminder:dm", "reminder", f'{{"meeting": 1, "original": {at}, "start": {at}, "offset": '
                  '60, "late": false, "target": "dm"}', topic=topic.id, expires=occurrence.start, **to_alice)
    await _insert(h, "old:reminder:channel", "reminder", f'{{"meeting": 1, "original": {at}, "start": {at}, '
                  '"offset": 60, "late": true, "target": "channel"}', topic=topic.id, expires=occurrence.start,
                  **in_channel)
    await _insert(h, "old:reminder:missed", "reminder", f'{{"meeting": 1, "original": {at}, "start": {at}, '
                  '"offset": 1440, "late": true}', topic=topic.id, status="missed", reason="offline", **to_alice)
    await _insert(h, "old:digest", "digest", OLD_DIGEST, expires=now + timedelta(days=1), **to_alice)
    await _insert(h, "old:notice", "notice", OLD_NOTICE, **to_alice)
    await _insert(h, "old:meeting-notice", "meeting-notice", OLD_MEETING_NOTICE, topic=topic.id, **in_channel)

    async with asyncio.timeout(TIMEOUT):
        await h.app.run_due()

    outcomes = await _outcomes(h)
    assert outcomes.pop("old:reminder:missed") == ("missed", "offline")
    assert outcomes == {key: ("sent", "") for key in outcomes}
    sent = {s.key: s.message for s in h.adapter.sent}
    assert "Queued before the upgrade" in sent["old:ann:channel"].plain_text()
    assert sent["old:ann:channel"].actions == ()
    assert [a.command for a in sent["old:ann:dm"].actions] == ["unsubscribe disinformation",
                                                              "subscribe disinformation mode:channel"]
    assert sent["old:report"].title == f"Delivery report for announcement #{a}"
    assert sent["old:reminder:dm"].title == "Reminder: Disinformation working group call"
    assert [a.command for a in sent["old:reminder:dm"].actions] == ["rsvp 1 yes", "rsvp 1 maybe", "rsvp 1 no"]
    assert "This reminder is late: the bot was offline when it was due." in sent["old:reminder:channel"].body
    assert sent["old:reminder:channel"].actions == ()
    assert sent["old:digest"].title == "Your daily digest"
    assert "• disinformation: Old digest line" in sent["old:digest"].body
    assert [a.command for a in sent["old:digest"].actions] == ["subscribe disinformation mode:immediate"]
    assert sent["old:notice"].plain_text() == "Old notice\nQueued before the upgrade"
    assert sent["old:meeting-notice"].title == "Meeting moved: Disinformation working group call"
    assert sent["old:meeting-notice"].footer == "Topic “disinformation”"
    [edit] = [message for copy, message in h.adapter.edits if copy.message_ids == ("41",)]
    assert "Sent before the upgrade" in edit.plain_text()
    assert [copy.message_ids for copy in h.adapter.deletes] == [("42",)]
    # The missed reminder (no target) is read by the summary and by the SQL behind "meeting show".
    assert "the 1 day reminder of “Disinformation working group call” (meeting #1) — offline" in h.console_output()
    assert await store.delivery_reports.missed_reminders(1, 5) == [
        MissedReminder(meeting_id=1, start=occurrence.start, offset_minutes=1440, reason="offline", copies=1)]


async def test_an_unknown_kind_or_an_unreadable_payload_fails_that_row_alone(h: Harness) -> None:
    await h.say("alice", "subscribe disinformation", **MEMBER)
    [alice] = await h.app.store.people.find_by_name("alice")
    to_alice: dict[str, Any] = {"person": alice.id}
    await _insert(h, "old:pigeon", "carrier-pigeon", "{}", **to_alice)
    await _insert(h, "old:reminder", "reminder", '{"meeting": "soon"}', **to_alice)
    await _insert(h, "old:notice:broken", "notice", "not json", **to_alice)
    await _insert(h, "old:edit", "edit", '{"of": null}', channel=CHANNEL)
    await _insert(h, "old:notice", "notice", OLD_NOTICE, **to_alice)

    async with asyncio.timeout(TIMEOUT):
        await h.app.run_due()

    assert await _outcomes(h) == {
        "old:pigeon": ("failed", "unknown kind “carrier-pigeon”: written by another version of the bot"),
        "old:reminder": ("failed", "its content could not be read as “reminder”"),
        "old:notice:broken": ("failed", "its content could not be read as “notice”"),
        "old:edit": ("failed", "its content could not be read as “edit”"),
        "old:notice": ("sent", ""),
    }
    [row] = [row for row in await h.app.store.outbox.by_kind(DeliveryKind.NOTICE) if row.dedupe_key == "old:notice"]
    assert row.status is DeliveryStatus.SENT and row.attempts == 1
    # Status reports count an unknown kind as a notice instead of failing.
    counts = await h.app.store.delivery_reports.outbox_counts(h.clock.now() - timedelta(hours=1))
    assert UnknownKind("carrier-pigeon") in {count.kind for count in counts}
    assert "notices" in await h.text("demo-admin", "delivery status")
