"""Set-based fan-out chunks and the counters kept by triggers (issue 23, item 4), on a real SQLite file.

The chunks must write exactly the rows the row-at-a-time fan-out wrote (same keys, byte for byte), be safe to
run again, and the counters must equal a ``GROUP BY`` of the rows whatever happens to them.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.announcements.model import AnnouncementState
from bot.announcements.payloads import AnnouncementPayload, AnnouncementTarget
from bot.announcements.store import Audience, FanOutChunk
from bot.delivery.model import DeliveryKind, DeliveryStatus, NewDelivery, SentMessage
from bot.delivery.payloads import NoticePayload
from bot.messages import Message
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility
from storage.database import Database, to_db_time
from storage.store import SqliteStore
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MODES = (DeliveryMode.IMMEDIATE, DeliveryMode.IMMEDIATE, DeliveryMode.DAILY, DeliveryMode.WEEKLY,
         DeliveryMode.CHANNEL)
ROW_COLUMNS = ("dedupe_key, kind, person_id, platform, channel_id, topic_id, payload, status, attempts, not_before,"
               " created_at, announcement_id, expires_at, uncertain, retrying_since, retryable, attempt_platform")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        yield SqliteStore(db)


async def _audience(store: SqliteStore, people: int, seed: int = 7, *, schema_before: int | None = None,
                    ) -> tuple[int, int]:
    """A topic with ``people`` subscribers in mixed modes (person ids with gaps), and an announcement to it being
    sent. ``schema_before``: the database is at an older version, so the announcement is written as its SQL
    would have been (no public id before migration 15)."""
    rng = random.Random(seed)
    topic = await store.topics.create("news", "News", "", Visibility.PUBLIC, Policy.OPEN, NOW)
    other = await store.topics.create("other", "Other", "", Visibility.PUBLIC, Policy.OPEN, NOW)
    stamp = to_db_time(NOW)
    ids = sorted(rng.sample(range(1, people * 3), people))
    await store.db.execute_many("INSERT INTO people (id, display_name, created_at) VALUES (?, ?, ?)",
                                [(pid, f"p{pid}", stamp) for pid in ids])
    await store.db.execute_many(
        "INSERT INTO subscriptions (person_id, topic_id, mode, created_at) VALUES (?, ?, ?, ?)",
        [(pid, topic.id, rng.choice(MODES).value, stamp) for pid in ids]
        + [(pid, other.id, DeliveryMode.IMMEDIATE.value, stamp) for pid in ids[::3]])
    if schema_before is not None and schema_before < 15:
        announcement_id = await store.db.insert(
            "INSERT INTO announcements (topic_id, author_id, text, state, created_at, sent_at)"
            " VALUES (?, ?, 'hello', 'sending', ?, ?)", (topic.id, ids[0], stamp, stamp))
        return topic.id, announcement_id
    announcement = await store.announcements.create(topic.id, ids[0], "hello", None, NOW)
    assert await store.announcements.transition(announcement.id, AnnouncementState.SENDING,
                                                [AnnouncementState.DRAFT], NOW)
    return topic.id, announcement.id


def _audience_of(topic_id: int, announcement_id: int) -> Audience:
    return Audience(announcement_id, topic_id, f"ann:{announcement_id}:person:",
                    AnnouncementPayload(announcement_id, AnnouncementTarget.DM).to_json())


async def _chunks(store: SqliteStore, audience: Audience, limit: int) -> tuple[int, int, int]:
    dms = digests = chunks = 0
    while True:
        chunk = await store.announcements.fan_out_chunk(audience, NOW, limit)
        dms, digests, chunks = dms + chunk.dms, digests + chunk.digests, chunks + 1
        if chunk.done:
            return dms, digests, chunks


async def _rows(store: SqliteStore) -> list[tuple[Any, ...]]:
    rows = await store.db.fetch_all(f"SELECT {ROW_COLUMNS} FROM deliveries ORDER BY dedupe_key")
    return [tuple(row) for row in rows]


async def _digest_items(store: SqliteStore) -> list[tuple[Any, ...]]:
    rows = await store.db.fetch_all("SELECT person_id, announcement_id, mode, created_at, digest_key"
                                    " FROM digest_items ORDER BY person_id")
    return [tuple(row) for row in rows]


async def test_chunks_write_the_rows_the_row_at_a_time_fan_out_wrote(tmp_path: Path) -> None:
    async with (Database.open(storage_target(tmp_path, "old.db")) as old_db,
          Database.open(storage_target(tmp_path, "new.db")) as new_db):
        old, new = SqliteStore(old_db), SqliteStore(new_db)
        topic_id, announcement_id = await _audience(old, 1000)
        assert (topic_id, announcement_id) == await _audience(new, 1000)
        # The previous fan_out, as it was: a NewDelivery per immediate subscriber, a digest item per digest one.
        rows, digest = [], []
        for subscription in await old.subscriptions.of_topic(topic_id):
            if subscription.mode is DeliveryMode.IMMEDIATE:
                rows.append(NewDelivery(
                    dedupe_key=f"ann:{announcement_id}:person:{subscription.person_id}",
                    kind=DeliveryKind.ANNOUNCEMENT, payload=AnnouncementPayload(announcement_id, AnnouncementTarget.DM),
                    not_before=NOW, topic_id=topic_id, announcement_id=announcement_id,
                    person_id=subscription.person_id))
            elif subscription.mode in (DeliveryMode.DAILY, DeliveryMode.WEEKLY):
                digest.append((subscription.person_id, announcement_id, subscription.mode))
        await old.outbox.enqueue(rows, NOW)
        await old.digests.queue(digest, NOW)

        await new.announcements.begin_fan_out(announcement_id)
        dms, digests, chunks = await _chunks(new, _audience_of(topic_id, announcement_id), 128)
        assert (dms, digests) == (len(rows), len(digest)) and len(rows) > 300 and len(digest) > 300
        assert chunks == 8  # 1,000 subscribers in chunks of 128
        assert await _rows(new) == await _rows(old)
        assert await _digest_items(new) == await _digest_items(old)
        assert await new.digests.counts(announcement_id) == (len(digest), 0)


async def test_chunks_are_idempotent_and_end_the_cursor(store: SqliteStore) -> None:
    topic_id, announcement_id = await _audience(store, 500)
    audience = _audience_of(topic_id, announcement_id)
    await store.announcements.begin_fan_out(announcement_id)
    assert await store.announcements.unfinished_fan_outs() == [announcement_id]
    first = await _chunks(store, audience, 100)
    before = await _rows(store), await _digest_items(store)
    assert await store.announcements.unfinished_fan_outs() == []
    assert await store.announcements.fan_out_chunk(audience, NOW, 100) == FanOutChunk(0, 0, done=True)
    await store.announcements.begin_fan_out(announcement_id)  # run it all again from the start
    again = await _chunks(store, audience, 100)
    assert again[:2] == (0, 0) and first[:2] != (0, 0)
    assert (await _rows(store), await _digest_items(store)) == before


async def test_a_crash_between_chunks_resumes_and_sent_waits_for_the_last_chunk(store: SqliteStore) -> None:
    topic_id, announcement_id = await _audience(store, 600)
    audience = _audience_of(topic_id, announcement_id)
    await store.announcements.begin_fan_out(announcement_id)
    first = await store.announcements.fan_out_chunk(audience, NOW, 100)
    assert not first.done and first.dms + first.digests > 0
    # Every row written so far ends: still not sent, because the cursor says more are to come.
    await store.db.execute("UPDATE deliveries SET status = 'sent'")
    assert await store.outbox.open_for_announcement(announcement_id) == 0
    assert not await store.announcements.transition(announcement_id, AnnouncementState.SENT,
                                                    [AnnouncementState.SENDING], NOW)
    assert await store.announcements.unfinished_fan_outs() == [announcement_id]
    rest = await _chunks(store, audience, 100)  # "after the restart": from the stored cursor
    expected = await store.db.fetch_one(
        "SELECT COUNT(*) FROM subscriptions WHERE topic_id = ? AND mode = 'immediate'", (topic_id,))
    assert expected is not None and first.dms + rest[0] == expected[0]
    assert await store.outbox.open_for_announcement(announcement_id) == rest[0] > 0
    await store.db.execute("UPDATE deliveries SET status = 'sent'")
    assert await store.announcements.transition(announcement_id, AnnouncementState.SENT,
                                                [AnnouncementState.SENDING], NOW)


async def test_a_cancelled_announcement_ends_its_chunks(store: SqliteStore) -> None:
    topic_id, announcement_id = await _audience(store, 400)
    audience = _audience_of(topic_id, announcement_id)
    await store.announcements.begin_fan_out(announcement_id)
    first = await store.announcements.fan_out_chunk(audience, NOW, 100)
    assert await store.announcements.transition(announcement_id, AnnouncementState.CANCELLED,
                                                list(AnnouncementState), NOW)
    count = await store.db.fetch_one("SELECT COUNT(*) FROM deliveries")
    assert await store.announcements.fan_out_chunk(audience, NOW, 100) == FanOutChunk(0, 0, done=True)
    after = await store.db.fetch_one("SELECT COUNT(*) FROM deliveries")
    assert count is not None and after is not None and after[0] == count[0] == first.dms
    assert await store.announcements.unfinished_fan_outs() == []


# --- the counters ---------------------------------------------------------------------------------------


async def _counters(store: SqliteStore) -> dict[tuple[Any, ...], int]:
    kept = await store.db.fetch_all("SELECT announcement_id, kind, status, retryable, n FROM announcement_counts"
                                    " WHERE n != 0")
    return {tuple(row)[:4]: row["n"] for row in kept}


async def _grouped(store: SqliteStore) -> dict[tuple[Any, ...], int]:
    rows = await store.db.fetch_all(
        "SELECT announcement_id, kind, status, retryable, COUNT(*) AS n FROM deliveries"
        " WHERE announcement_id IS NOT NULL GROUP BY announcement_id, kind, status, retryable")
    return {tuple(row)[:4]: row["n"] for row in rows}


async def _digest_counters(store: SqliteStore) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    kept = await store.db.fetch_all("SELECT announcement_id, queued, digested FROM announcement_digest_counts"
                                    " WHERE queued != 0")
    grouped = await store.db.fetch_all("SELECT announcement_id, COUNT(*), COUNT(digest_key) FROM digest_items"
                                       " GROUP BY announcement_id")
    return {tuple(row) for row in kept}, {tuple(row) for row in grouped}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_counters_equal_a_group_by_after_random_operations(store: SqliteStore, seed: int) -> None:
    rng = random.Random(seed)
    topic_id, first = await _audience(store, 60, seed)
    author = (await store.announcements.get(first) or pytest.fail("no announcement")).author_id
    second = (await store.announcements.create(topic_id, author, "again", None, NOW)).id
    await store.announcements.transition(second, AnnouncementState.SENDING, [AnnouncementState.DRAFT], NOW)
    for announcement_id in (first, second):
        await store.announcements.begin_fan_out(announcement_id)
        await _chunks(store, _audience_of(topic_id, announcement_id), 25)
    await store.outbox.enqueue([NewDelivery(dedupe_key=f"notice:{i}", kind=DeliveryKind.MEETING_NOTICE,
                                            payload=NoticePayload(Message(body=("n",))), not_before=NOW,
                                            person_id=None, platform="console", channel_id="c")
                                for i in range(5)], NOW)
    later = NOW
    for _step in range(120):
        later += timedelta(seconds=1)
        ids = [row[0] for row in await store.db.fetch_all("SELECT id FROM deliveries")]
        sending = [row[0] for row in await store.db.fetch_all("SELECT id FROM deliveries WHERE status = 'sending'")]
        pick = rng.choice(ids)
        match rng.randrange(11):
            case 0 | 1:
                await store.outbox.claim_due(later, rng.randint(1, 15), "w")
            case 2 if sending:
                await store.outbox.mark_sent(rng.choice(sending), SentMessage("console", "c", ("1",)), later)
            case 3:
                await store.outbox.mark_final(pick, rng.choice([DeliveryStatus.FAILED, DeliveryStatus.SKIPPED,
                                                                DeliveryStatus.MISSED]), "why", later,
                                              retryable=rng.random() < 0.5)
            case 4:
                await store.outbox.release(rng.sample(ids, 5), uncertain=rng.random() < 0.5)
            case 5:
                await store.outbox.retry_later(pick, later, "again", since=later)
            case 6:
                await store.outbox.cancel_announcement(rng.choice((first, second)), "stop", later)
            case 7:
                await store.delivery_reports.requeue_retryable(rng.choice((first, second)), later)
            case 8:
                await store.outbox.recover_orphans(later)
            case 9:
                people = [row[0] for row in await store.db.fetch_all(
                    "SELECT DISTINCT person_id FROM deliveries WHERE person_id IS NOT NULL AND person_id != ?"
                    " ORDER BY person_id", (author,))]
                if people and rng.random() < 0.3:  # a person erased: their rows and digest items go with them
                    await store.db.execute("DELETE FROM people WHERE id = ?", (rng.choice(people),))
            case _:
                item = await store.db.fetch_one("SELECT person_id, announcement_id FROM digest_items"
                                                " WHERE digest_key IS NULL LIMIT 1")
                if item is not None:
                    await store.digests.mark_digested(item[0], [item[1]], f"digest:{later}")
        assert await _counters(store) == await _grouped(store)
    kept, grouped = await _digest_counters(store)
    assert kept == grouped
    statuses = {key[2] for key in await _grouped(store)}
    assert len(statuses) >= 3  # the walk went somewhere
    expected: dict[str, list[int]] = {}
    for (announcement_id, kind, status, retryable), n in (await _grouped(store)).items():
        if announcement_id == first and kind == "announcement":
            counted = expected.setdefault(status, [0, 0])
            counted[0] += n
            counted[1] += n if retryable else 0
    live = await store.delivery_reports.live_counts(first)
    assert {c.status.value: [c.count, c.retryable] for c in live} == expected


async def test_migration_backfills_the_counters(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with Database.open(path, target_version=12) as db:
        store = SqliteStore(db)
        topic_id, announcement_id = await _audience(store, 50, schema_before=12)
        for person_id, status, retryable in ((1, "sent", 0), (2, "failed", 1), (3, "failed", 0), (4, "pending", 0)):
            await db.execute(
                "INSERT INTO deliveries (dedupe_key, kind, person_id, topic_id, payload, status, not_before,"
                " created_at, announcement_id, retryable) SELECT ?, 'announcement', MIN(id), ?, '{}', ?, ?, ?, ?, ?"
                " FROM people", (f"k{person_id}", topic_id, status, to_db_time(NOW), to_db_time(NOW),
                                 announcement_id, retryable))
        await db.execute("INSERT INTO digest_items (person_id, announcement_id, mode, created_at, digest_key)"
                         " SELECT id, ?, 'daily', ?, CASE WHEN id % 2 THEN 'd' END FROM people LIMIT 5",
                         (announcement_id, to_db_time(NOW)))
    async with Database.open(path) as db:
        store = SqliteStore(db)
        assert await _counters(store) == await _grouped(store) != {}
        kept, grouped = await _digest_counters(store)
        assert kept == grouped != set()
        assert await store.outbox.open_for_announcement(announcement_id) == 1
        assert await store.announcements.unfinished_fan_outs() == []
