"""The delivery-report queries on a real SQLite file: which platform a row is counted under, the window of
recent outcomes, summarising missed rows once, a meeting's missed reminders, and re-queueing retryable rows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery.model import DeliveryStatus
from bot.model import Identity
from bot.topics.model import Policy, Visibility
from storage.database import Database, to_db_time
from storage.store import SqliteStore
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        yield SqliteStore(db)


async def _row(store: SqliteStore, key: str, status: str, *, kind: str = "announcement", person: int | None = None,
               platform: str | None = None, sent_platform: str | None = None, attempt_platform: str | None = None,
               retryable: bool = False, uncertain: bool = False, ended: datetime | None = NOW,
               payload: str = "{}", announcement: int | None = None, reason: str | None = None) -> int:
    return await store.db.insert(
        "INSERT INTO deliveries (dedupe_key, kind, person_id, platform, channel_id, payload, status, attempts,"
        " not_before, created_at, sent_at, sent_platform, reason, announcement_id, uncertain, retrying_since,"
        " retryable, attempt_platform) VALUES (?, ?, ?, ?, ?, ?, ?, 4, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (key, kind, person, platform, "C1" if platform else None, payload, status, to_db_time(NOW),
         to_db_time(NOW - timedelta(days=3)), to_db_time(ended) if ended else None, sent_platform, reason,
         announcement, int(uncertain), to_db_time(NOW - timedelta(hours=5)) if retryable else None, int(retryable),
         attempt_platform))


async def _announcement(store: SqliteStore, author: int) -> int:
    topics = await store.topics.all()
    topic = topics[0] if topics else await store.topics.create("t", "T", "", Visibility.PUBLIC, Policy.OPEN, NOW)
    return (await store.announcements.create(topic.id, author, "Hi", None, NOW)).id


async def test_rows_are_counted_under_the_platform_they_went_or_go_through(store: SqliteStore) -> None:
    one = (await store.people.ensure_identity(Identity("slack", "U1"), "one", NOW)).person_id
    two = (await store.people.ensure_identity(Identity("slack", "U2"), "two", NOW)).person_id
    await store.db.execute("INSERT INTO identities (platform, external_id, person_id, display_name)"
                           " VALUES ('discord', 'D2', ?, 'two')", (two,))
    await _row(store, "sent", "sent", person=two, sent_platform="discord", attempt_platform="slack")
    await _row(store, "tried", "failed", person=two, attempt_platform="slack", retryable=True)
    await _row(store, "channel", "pending", platform="console", ended=None)
    await _row(store, "only-identity", "pending", person=one, ended=None)
    await _row(store, "undecided", "pending", person=two, ended=None)
    counts = {(c.platform, c.status): (c.count, c.retryable)
              for c in await store.delivery_reports.outbox_counts(NOW - timedelta(hours=24))}
    assert counts == {("discord", DeliveryStatus.SENT): (1, 0), ("slack", DeliveryStatus.FAILED): (1, 1),
                      ("console", DeliveryStatus.PENDING): (1, 0), ("slack", DeliveryStatus.PENDING): (1, 0),
                      (None, DeliveryStatus.PENDING): (1, 0)}


async def test_recent_outcomes_have_a_window_and_queued_rows_have_none(store: SqliteStore) -> None:
    await _row(store, "old-sent", "sent", platform="console", ended=NOW - timedelta(hours=25))
    await _row(store, "new-sent", "sent", platform="console", ended=NOW - timedelta(hours=1))
    await _row(store, "old-pending", "pending", platform="console", ended=None)  # created three days ago
    counts = {c.status: c.count for c in await store.delivery_reports.outbox_counts(NOW - timedelta(hours=24))}
    assert counts == {DeliveryStatus.SENT: 1, DeliveryStatus.PENDING: 1}


async def test_missed_rows_are_listed_until_marked_reported(store: SqliteStore) -> None:
    first = await _row(store, "m1", "missed", kind="reminder", platform="console")
    second = await _row(store, "m2", "missed", kind="digest", platform="console")
    await _row(store, "f1", "failed", platform="console")
    assert [m.id for m in await store.delivery_reports.unreported_missed(10)] == [first, second]
    assert [m.id for m in await store.delivery_reports.unreported_missed(1)] == [first]
    assert await store.delivery_reports.mark_reported([first, second], NOW) == 2
    assert await store.delivery_reports.mark_reported([first], NOW) == 0  # stamped once
    assert await store.delivery_reports.unreported_missed(10) == []


async def test_a_meetings_missed_reminders_are_one_per_occurrence_and_offset(store: SqliteStore) -> None:
    start = int(NOW.timestamp())

    def payload(meeting: int, offset: int, target: str) -> str:
        return json.dumps({"meeting": meeting, "original": start, "start": start, "offset": offset, "late": False,
                           "target": target})

    await _row(store, "a", "missed", kind="reminder", payload=payload(7, 60, "dm"), reason="late")
    await _row(store, "b", "missed", kind="reminder", payload=payload(7, 60, "channel"), reason="late")
    await _row(store, "c", "missed", kind="reminder", payload=payload(7, 1440, "dm"), reason="late")
    await _row(store, "d", "missed", kind="reminder", payload=payload(8, 60, "dm"), reason="late")
    await _row(store, "e", "sent", kind="reminder", payload=payload(7, 30, "dm"))
    missed = await store.delivery_reports.missed_reminders(7, 10)
    assert [(m.start, m.offset_minutes, m.copies) for m in missed] == [(NOW, 1440, 1), (NOW, 60, 2)]


async def test_requeue_takes_only_retryable_failures_of_that_announcement(store: SqliteStore) -> None:
    author = (await store.people.ensure_identity(Identity("console", "author"), "author", NOW)).person_id
    mine, other = await _announcement(store, author), await _announcement(store, author)
    retry = await _row(store, "retry", "failed", announcement=mine, platform="console", retryable=True,
                       uncertain=True, reason="gave up: 503")
    closed = await _row(store, "closed", "failed", announcement=mine, platform="console", reason="DMs closed")
    elsewhere = await _row(store, "elsewhere", "failed", announcement=other, platform="console", retryable=True)
    later = NOW + timedelta(minutes=3)
    assert await store.delivery_reports.requeue_retryable(mine, later) == 1
    assert await store.delivery_reports.requeue_retryable(mine, later) == 0
    row = await store.outbox.get(retry)
    assert row is not None
    assert (row.status, row.attempts, row.retryable, row.uncertain, row.retrying_since, row.not_before) == \
        (DeliveryStatus.PENDING, 0, False, True, None, later)
    for untouched in (closed, elsewhere):
        kept = await store.outbox.get(untouched)
        assert kept is not None and kept.status is DeliveryStatus.FAILED
