"""The Slack Socket Mode deliveries seen (migration 0024, ``storage/slack_events.py``) on the engine of this run:
a key is first seen once across every connection on the database, also when two claim it at the same moment, and
old keys are forgotten by age."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.database import Database, available_migrations
from storage.slack_events import SqliteSlackEvents
from tests.postgres_server import engine, fresh_database_url, storage_target

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def newest_version() -> int:
    return available_migrations()[-1][0]


async def test_a_key_is_first_seen_once(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path)) as db:
        seen = SqliteSlackEvents(db)
        assert await seen.first_seen("event:Ev1", NOW)
        assert not await seen.first_seen("event:Ev1", NOW + timedelta(minutes=5))  # Slack's last retry
        assert await seen.first_seen("trigger:1.1.t", NOW)
        assert await seen.count() == 2
        row = await db.fetch_one("SELECT seen_at FROM slack_events WHERE delivery_key = ?", ("event:Ev1",))
        assert row is not None and row["seen_at"] == "2026-03-01T12:00:00.000000Z"  # the first sighting's time


async def test_two_connections_claiming_the_same_keys_at_once_each_win_half_never_both(tmp_path: Path) -> None:
    """Two processes, each its own connection to the same database: every key has exactly one first sighting."""
    target = storage_target(tmp_path)
    keys = [f"event:Ev{n}" for n in range(40)]
    async with Database.open(target) as one, Database.open(target) as other:
        first, second = SqliteSlackEvents(one), SqliteSlackEvents(other)

        async def claim_all(seen: SqliteSlackEvents, order: list[str]) -> dict[str, bool]:
            return {key: await seen.first_seen(key, NOW) for key in order}

        async with asyncio.timeout(30):
            won_one, won_other = await asyncio.gather(claim_all(first, keys), claim_all(second, keys[::-1]))
        for key in keys:
            assert won_one[key] != won_other[key], key
        assert await first.count() == len(keys)


async def test_prune_forgets_keys_seen_before_the_cutoff_only(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path)) as db:
        seen = SqliteSlackEvents(db)
        assert await seen.first_seen("old", NOW - timedelta(hours=2))
        assert await seen.first_seen("edge", NOW - timedelta(hours=1))
        assert await seen.first_seen("new", NOW)
        assert await seen.prune(NOW - timedelta(hours=1)) == 1
        assert await seen.count() == 2
        assert await seen.first_seen("old", NOW)  # forgotten: a delivery that old is never redelivered
        assert not await seen.first_seen("edge", NOW)


async def test_the_table_exists_after_migrating_a_new_database(tmp_path: Path) -> None:
    target = tmp_path / "new.db" if engine() == "sqlite" else fresh_database_url(migrated=False)
    async with Database.open(target) as db:
        assert await db.schema_version() == newest_version() >= 24
        assert await SqliteSlackEvents(db).count() == 0


async def test_a_database_at_version_23_migrates_to_24_and_keeps_its_rows(tmp_path: Path) -> None:
    target = tmp_path / "old.db" if engine() == "sqlite" else fresh_database_url(migrated=False)
    async with Database.open(target, target_version=23) as db:
        assert await db.schema_version() == 23
        await db.execute("INSERT INTO slack_replays (signature, request_ts) VALUES (?, ?)", ("v0=kept", 1))
    async with Database.open(target) as db:
        assert await db.schema_version() == newest_version()
        assert await SqliteSlackEvents(db).first_seen("event:Ev1", NOW)
        row = await db.fetch_one("SELECT COUNT(*) AS n FROM slack_replays")
        assert row is not None and row["n"] == 1


@pytest.mark.postgresql_only
async def test_the_two_engines_create_the_same_table() -> None:
    """Same columns, key and index on both (the engine-wide schema comparison covers the rest)."""
    async with Database.open(fresh_database_url(migrated=False)) as db:
        columns = await db.fetch_all(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_name = 'slack_events' ORDER BY column_name")
        assert [tuple(row) for row in columns] == [("delivery_key", "text", "NO"), ("seen_at", "text", "NO")]
        indexes = await db.fetch_all("SELECT indexname FROM pg_indexes WHERE tablename = 'slack_events'"
                                     " ORDER BY indexname")
        assert [row[0] for row in indexes] == ["slack_events_age", "slack_events_pkey"]
