"""The deliveries already handled, every platform's (migration 0024 made it Slack's, 0026 renamed it for all;
``storage/handled_events.py``) on the engine of this run: a key is first seen once across every connection on the
database, also when two claim it at the same moment, and old keys are forgotten by age whichever platform's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.database import Database, available_migrations
from storage.handled_events import HandledEvents
from tests.postgres_server import engine, fresh_database_url, storage_target

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def newest_version() -> int:
    return available_migrations()[-1][0]


async def test_a_key_is_first_seen_once(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path)) as db:
        seen = HandledEvents(db)
        assert await seen.first_seen("event:Ev1", NOW)
        assert not await seen.first_seen("event:Ev1", NOW + timedelta(minutes=5))  # Slack's last retry
        assert await seen.first_seen("trigger:1.1.t", NOW)
        assert await seen.first_seen("discord:interaction:1", NOW)
        assert not await seen.first_seen("discord:interaction:1", NOW)
        assert await seen.count() == 3
        row = await db.fetch_one("SELECT seen_at FROM handled_events WHERE delivery_key = ?", ("event:Ev1",))
        assert row is not None and row["seen_at"] == "2026-03-01T12:00:00.000000Z"  # the first sighting's time


async def test_two_connections_claiming_the_same_keys_at_once_each_win_half_never_both(tmp_path: Path) -> None:
    """Two processes, each its own connection to the same database: every key has exactly one first sighting."""
    target = storage_target(tmp_path)
    keys = [f"event:Ev{n}" for n in range(20)] + [f"discord:interaction:{n}" for n in range(20)]
    async with Database.open(target) as one, Database.open(target) as other:
        first, second = HandledEvents(one), HandledEvents(other)

        async def claim_all(seen: HandledEvents, order: list[str]) -> dict[str, bool]:
            return {key: await seen.first_seen(key, NOW) for key in order}

        async with asyncio.timeout(30):
            won_one, won_other = await asyncio.gather(claim_all(first, keys), claim_all(second, keys[::-1]))
        for key in keys:
            assert won_one[key] != won_other[key], key
        assert await first.count() == len(keys)


async def test_prune_forgets_keys_seen_before_the_cutoff_only_whichever_platform(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path)) as db:
        seen = HandledEvents(db)
        assert await seen.first_seen("old", NOW - timedelta(hours=2))
        assert await seen.first_seen("discord:interaction:old", NOW - timedelta(hours=2))
        assert await seen.first_seen("edge", NOW - timedelta(hours=1))
        assert await seen.first_seen("new", NOW)
        assert await seen.prune(NOW - timedelta(hours=1)) == 2
        assert await seen.count() == 2
        assert await seen.first_seen("old", NOW)  # forgotten: a delivery that old is never redelivered
        assert await seen.first_seen("discord:interaction:old", NOW)
        assert not await seen.first_seen("edge", NOW)


async def test_the_table_exists_after_migrating_a_new_database(tmp_path: Path) -> None:
    target = tmp_path / "new.db" if engine() == "sqlite" else fresh_database_url(migrated=False)
    async with Database.open(target) as db:
        assert await db.schema_version() == newest_version() >= 26
        assert await HandledEvents(db).count() == 0
        gone = "SELECT to_regclass('slack_events') IS NULL" if engine() == "postgresql" else \
            "SELECT COUNT(*) = 0 FROM sqlite_master WHERE name LIKE 'slack_events%'"
        row = await db.fetch_one(gone)
        assert row is not None and row[0]


async def test_slack_keys_stored_before_the_rename_are_still_handled(tmp_path: Path) -> None:
    """A database at version 25 remembers Slack deliveries under their old keys: after migrating, a redelivery
    of one is still refused (nothing is handled twice across an upgrade), and the table is kept whole."""
    target = tmp_path / "old.db" if engine() == "sqlite" else fresh_database_url(migrated=False)
    async with Database.open(target, target_version=25) as db:
        assert await db.schema_version() == 25
        await db.execute("INSERT INTO slack_events (delivery_key, seen_at) VALUES (?, ?)",
                         ("event:Ev1", "2026-03-01T11:00:00.000000Z"))
    async with Database.open(target) as db:
        assert await db.schema_version() == newest_version()
        seen = HandledEvents(db)
        assert not await seen.first_seen("event:Ev1", NOW)
        assert await seen.first_seen("discord:interaction:7", NOW)
        assert await seen.prune(NOW) == 1  # the old row is pruned by age like any other
        assert await seen.count() == 1


async def test_a_database_at_version_23_migrates_to_the_newest_and_keeps_its_rows(tmp_path: Path) -> None:
    target = tmp_path / "older.db" if engine() == "sqlite" else fresh_database_url(migrated=False)
    async with Database.open(target, target_version=23) as db:
        assert await db.schema_version() == 23
        await db.execute("INSERT INTO slack_replays (signature, request_ts) VALUES (?, ?)", ("v0=kept", 1))
    async with Database.open(target) as db:
        assert await db.schema_version() == newest_version()
        assert await HandledEvents(db).first_seen("event:Ev1", NOW)
        row = await db.fetch_one("SELECT COUNT(*) AS n FROM slack_replays")
        assert row is not None and row["n"] == 1


@pytest.mark.sqlite_only
async def test_sqlite_ages_keys_by_the_renamed_index(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "bot.db") as db:
        rows = await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'handled_events'"
                                  " AND sql IS NOT NULL")
        assert [row[0] for row in rows] == ["handled_events_age"]
        plan = await db.fetch_all("EXPLAIN QUERY PLAN DELETE FROM handled_events WHERE seen_at < ?", ("x",))
        assert any("handled_events_age" in str(row[-1]) for row in plan)


@pytest.mark.postgresql_only
async def test_the_two_engines_create_the_same_table() -> None:
    """Same columns, key and index on both (the engine-wide schema comparison covers the rest), named for the
    new table: the rename carried the key's constraint and the age index along."""
    async with Database.open(fresh_database_url(migrated=False)) as db:
        columns = await db.fetch_all(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_name = 'handled_events' ORDER BY column_name")
        assert [tuple(row) for row in columns] == [("delivery_key", "text", "NO"), ("seen_at", "text", "NO")]
        indexes = await db.fetch_all("SELECT indexname FROM pg_indexes WHERE tablename = 'handled_events'"
                                     " ORDER BY indexname")
        assert [row[0] for row in indexes] == ["handled_events_age", "handled_events_pkey"]
        constraints = await db.fetch_all(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'handled_events'::regclass ORDER BY conname")
        names = [row[0] for row in constraints]  # PostgreSQL 18 also names the NOT NULL constraints
        assert "handled_events_pkey" in names and all(name.startswith("handled_events_") for name in names)
