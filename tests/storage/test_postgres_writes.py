"""A write statement outside a transaction goes to PostgreSQL with its whole transaction in one round trip
(``PostgresDatabase.execute``): it returns the rows changed, commits, waits for the write lock every process
shares, and a statement that fails changes nothing and leaves no transaction open."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from storage.database import Database
from storage.postgres_database import WRITE_LOCK, PostgresDatabase
from tests.postgres_server import fresh_database_url

pytestmark = pytest.mark.postgresql_only

TOPIC = "INSERT INTO topics (slug, title, visibility, policy, created_at) VALUES (?, ?, 'public', 'open', 'now')"


async def test_a_write_returns_the_rows_changed_and_is_committed_for_everyone() -> None:
    url = fresh_database_url()
    async with Database.open(url) as db, Database.open(url) as other:
        assert await db.execute(TOPIC, ("a", "A")) == 1
        assert await db.execute(TOPIC, ("b", "100% sure; it's 'quoted' ? and \\ too")) == 1
        assert await db.execute("UPDATE topics SET archived = ? WHERE slug IN (?, ?)", (True, "a", "b")) == 2
        assert await db.execute("UPDATE topics SET archived = ? WHERE slug = ?", (False, "none")) == 0
        rows = await other.fetch_all("SELECT slug, title, archived FROM topics ORDER BY slug")
        assert [(r["slug"], r["title"], r["archived"]) for r in rows] == [
            ("a", "A", 1), ("b", "100% sure; it's 'quoted' ? and \\ too", 1)]
        assert isinstance(db, PostgresDatabase) and db.writes == 8  # each statement and each end of transaction


async def test_a_failing_write_changes_nothing_and_leaves_no_transaction_open() -> None:
    url = fresh_database_url()
    async with Database.open(url) as db:
        assert isinstance(db, PostgresDatabase)
        await db.execute(TOPIC, ("a", "A"))
        with pytest.raises(psycopg.errors.UniqueViolation):
            await db.execute(TOPIC, ("a", "again"))
        await db.execute(TOPIC, ("b", "B"))  # the next write begins cleanly
        with pytest.raises(psycopg.errors.UniqueViolation):
            await db.execute("UPDATE topics SET slug = ?", ("same",))  # the first row changes, the second fails
        assert [r["slug"] for r in await db.fetch_all("SELECT slug FROM topics ORDER BY slug")] == ["a", "b"]
        row = await db.fetch_one("SELECT pg_current_xact_id_if_assigned() IS NULL AND now() = statement_timestamp()")
        assert row is not None and row[0]  # not inside a transaction any more


async def test_a_write_waits_for_the_lock_another_process_holds() -> None:
    url = fresh_database_url()
    async with Database.open(url) as db, await psycopg.AsyncConnection.connect(url, autocommit=True) as other:
        await other.execute("BEGIN")
        await other.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        write = asyncio.create_task(db.execute(TOPIC, ("a", "A")))
        await asyncio.sleep(0.3)
        assert not write.done()  # behind the other process's transaction
        await other.execute("COMMIT")
        assert await asyncio.wait_for(write, 5) == 1


async def test_a_write_inside_a_transaction_joins_it() -> None:
    url = fresh_database_url()
    async with Database.open(url) as db, Database.open(url) as other:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute(TOPIC, ("a", "A"))
                assert await other.fetch_one("SELECT slug FROM topics") is None  # not committed yet
                raise RuntimeError("rolled back with the rest")
        assert await other.fetch_one("SELECT slug FROM topics") is None
