"""The fan-out counters of migration 0013 are kept by triggers, and SQLite drops a table's triggers with the
table: a later migration rebuilding ``deliveries`` (as 0012 did) would stop the counting without an error. So
after every migration the triggers must exist, and the counters must still equal a ``GROUP BY`` of the rows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from storage.database import Database, to_db_time
from tests.postgres_server import storage_target

NOW = to_db_time(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
TRIGGERS = {"deliveries_count_insert", "deliveries_count_update", "deliveries_count_delete",
            "digest_items_count_insert", "digest_items_count_update", "digest_items_count_delete"}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(storage_target(tmp_path, "bot.db")) as opened:  # every migration, as the bot starts
        yield opened


async def _missing_triggers(db: Database) -> set[str]:
    catalog = {"sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger'",
               "postgresql": "SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal"}
    rows = await db.fetch_all(catalog[db.dialect])
    return TRIGGERS - {row["name"] for row in rows}


async def _counters(db: Database) -> dict[tuple[Any, ...], int]:
    kept = await db.fetch_all("SELECT announcement_id, kind, status, retryable, n FROM announcement_counts"
                              " WHERE n != 0")
    return {tuple(row)[:4]: row["n"] for row in kept}


async def _grouped(db: Database) -> dict[tuple[Any, ...], int]:
    rows = await db.fetch_all("SELECT announcement_id, kind, status, retryable, COUNT(*) AS n FROM deliveries"
                              " WHERE announcement_id IS NOT NULL GROUP BY announcement_id, kind, status, retryable")
    return {tuple(row)[:4]: row["n"] for row in rows}


async def _digests(db: Database) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    kept = await db.fetch_all("SELECT announcement_id, queued, digested FROM announcement_digest_counts"
                              " WHERE queued != 0")
    grouped = await db.fetch_all("SELECT announcement_id, COUNT(*), COUNT(digest_key) FROM digest_items"
                                 " GROUP BY announcement_id")
    return {tuple(row) for row in kept}, {tuple(row) for row in grouped}


async def _transitions(db: Database) -> None:
    """Rows of one announcement written, claimed, sent, failed, re-queued, deleted; digest items digested."""
    await db.execute("INSERT INTO people (id, display_name, created_at) VALUES (1, 'ada', ?), (2, 'bo', ?),"
                     " (3, 'cy', ?)", (NOW, NOW, NOW))
    topic_id = await db.insert("INSERT INTO topics (slug, title, description, visibility, policy, created_at)"
                               " VALUES ('news', 'News', '', 'public', 'open', ?)", (NOW,))
    announcement_id = await db.insert("INSERT INTO announcements (topic_id, author_id, text, state, created_at)"
                                      " VALUES (?, 1, 'hello', 'sending', ?)", (topic_id, NOW))
    for person_id in (1, 2, 3):
        await db.execute("INSERT INTO deliveries (dedupe_key, kind, person_id, topic_id, payload, status, not_before,"
                         " created_at, announcement_id) VALUES (?, 'announcement', ?, ?, '{}', 'pending', ?, ?, ?)",
                         (f"ann:{announcement_id}:person:{person_id}", person_id, topic_id, NOW, NOW,
                          announcement_id))
        await db.execute("INSERT INTO digest_items (person_id, announcement_id, mode, created_at)"
                         " VALUES (?, ?, 'daily', ?)", (person_id, announcement_id, NOW))
    await db.execute("UPDATE deliveries SET status = 'sending' WHERE person_id IN (1, 2)")
    await db.execute("UPDATE deliveries SET status = 'sent' WHERE person_id = 1")
    await db.execute("UPDATE deliveries SET status = 'failed', retryable = 1 WHERE person_id = 2")
    await db.execute("UPDATE deliveries SET status = 'pending', retryable = 0 WHERE person_id = 2")  # a retry
    await db.execute("DELETE FROM deliveries WHERE person_id = 3")
    await db.execute("UPDATE digest_items SET digest_key = 'd1' WHERE person_id IN (1, 3)")
    await db.execute("DELETE FROM digest_items WHERE person_id = 2")


async def test_after_migrating_the_triggers_exist_and_the_counters_follow_the_rows(db: Database) -> None:
    assert await _missing_triggers(db) == set()
    await _transitions(db)
    assert await _counters(db) == await _grouped(db) == {(1, "announcement", "sent", 0): 1,
                                                         (1, "announcement", "pending", 0): 1}
    kept, grouped = await _digests(db)
    assert kept == grouped == {(1, 2, 2)}


@pytest.mark.sqlite_only  # PostgreSQL's migrations alter a table in place; a rebuild is SQLite's pattern
async def test_a_rebuild_of_deliveries_that_forgets_the_triggers_is_caught(db: Database) -> None:
    """What the checks above guard against: the rebuild pattern of 0012 drops the triggers with the old table,
    and the counters then drift from the rows."""
    columns = await db.fetch_one("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'")
    assert columns is not None
    # After 0012's own rename SQLite stores the name quoted.
    await db.execute(re.sub(r'^CREATE TABLE "?deliveries"?', "CREATE TABLE deliveries_new", str(columns[0])))
    await db.execute("INSERT INTO deliveries_new SELECT * FROM deliveries")
    await db.execute("DROP TABLE deliveries")
    await db.execute("ALTER TABLE deliveries_new RENAME TO deliveries")
    assert await _missing_triggers(db) == {"deliveries_count_insert", "deliveries_count_update",
                                           "deliveries_count_delete"}
    await _transitions(db)
    assert await _counters(db) != await _grouped(db)
