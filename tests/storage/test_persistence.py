"""State lives in the database (SQLite or PostgreSQL): it survives a restart, migrations upgrade old databases,
errors change nothing."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from app.assembly import should_load_demo
from bot.model import Identity
from storage.database import Database, available_migrations, to_db_time
from storage.store import SqliteStore
from tests.postgres_server import storage_settings, storage_target
from tests.support import FixedClock, console_settings, harness


async def test_subscriptions_roles_and_settings_survive_a_restart(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    clock = FixedClock()
    async with harness(settings, clock) as h:
        await h.say("demo-member", "subscribe research mode:weekly")
        await h.say("demo-member", "settings timezone America/Sao_Paulo")
        await h.say("demo-member", "settings language fr")
        await h.say("demo-admin", "role grant demo-outsider member")
        await h.say("demo-admin", "topic create press-freedom Press freedom visibility:members policy:approval")
    async with harness(settings, clock) as h:
        mysubs = await h.say("demo-member", "mysubs")
        assert mysubs.language == "fr" and mysubs.timezone == "America/Sao_Paulo"
        assert "research" in mysubs.message.plain_text()
        assert "member" in await h.text("demo-outsider", "whoami")
        assert "press-freedom" in await h.text("demo-admin", "topics")
        # Demo data is not loaded again into a database that has data.
        assert await h.app.store.people.count() == 4


async def test_audit_log_records_coordinator_and_admin_actions(tmp_path: Path) -> None:
    async with harness(console_settings(tmp_path)) as h:
        await h.say("demo-admin", "role grant demo-outsider member")
        await h.say("demo-coordinator", "topic edit disinformation title:“Disinformation and FIMI”")
        entries = await h.app.store.audit.recent()
        actions = [e.action for e in entries]
        assert actions == ["topic.edit", "role.grant"]
        edit = entries[0]
        assert edit.before is not None and "Countering disinformation" in edit.before
        assert edit.after is not None and "Disinformation and FIMI" in edit.after


async def test_migrations_on_an_empty_database(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "new.db", migrated=False), migrate=False) as db:
        assert await db.schema_version() == 0
        applied = await db.migrate()
        shipped = available_migrations(db.dialect)
        assert applied == [name for _, name, _ in shipped]
        assert await db.schema_version() == shipped[-1][0]
        assert await db.migrate() == []


@pytest.mark.sqlite_only
async def test_migrations_upgrade_a_previous_version_and_keep_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with Database.open(path, target_version=1) as db:
        assert await db.schema_version() == 1
        # Written as that version's SQL would (today's store numbers people above migration 18's floor).
        person_id = await db.insert("INSERT INTO people (display_name, created_at) VALUES ('Early adopter', ?)",
                                    (to_db_time(FixedClock().now()),))
        await db.execute("INSERT INTO identities (platform, external_id, person_id, display_name)"
                         " VALUES ('console', 'early', ?, 'Early adopter')", (person_id,))
    async with Database.open(path) as db:
        assert await db.schema_version() == len(available_migrations())
        store = SqliteStore(db)
        assert (await store.people.get(person_id)).display_name == "Early adopter"  # type: ignore[union-attr]
        record = await store.people.identity(Identity("console", "early"))
        assert record is not None and record.person_id == person_id
        assert await store.requests.pending(None) == []


@pytest.mark.sqlite_only
def test_wal_and_foreign_keys_are_on(tmp_path: Path) -> None:
    async def open_once() -> None:
        async with Database.open(tmp_path / "x.db") as db:
            assert (await db.fetch_one("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]

    asyncio.run(open_once())
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_demo_data_never_loads_when_a_platform_is_configured(tmp_path: Path) -> None:
    for platform in ({"slack": {"bot_token": "xoxb-1", "app_token": "xapp-1"}}, {"discord": {"token": "abc"}}):
        settings = console_settings(tmp_path).model_copy(update={})
        settings = type(settings)(storage=storage_settings(tmp_path, "p.db"), **platform)  # type: ignore[arg-type]
        assert not settings.console_enabled
        async with Database.open(settings.storage.target) as db:
            assert not await should_load_demo(settings, SqliteStore(db))
        forced = type(settings)(storage=storage_settings(tmp_path, "p.db"), console={"enabled": True},
                                **platform)  # type: ignore[arg-type]
        async with Database.open(forced.storage.target) as db:
            assert not await should_load_demo(forced, SqliteStore(db))
    console_only = console_settings(tmp_path)
    async with Database.open(storage_target(tmp_path, "empty.db")) as db:
        assert await should_load_demo(console_only, SqliteStore(db))


async def test_a_failing_transaction_changes_nothing(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "t.db")) as db:
        store = SqliteStore(db)
        now = FixedClock().now()
        try:
            async with store.transaction():
                await store.people.ensure_identity(Identity("console", "x"), "x", now)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert await store.people.count() == 0


@pytest.mark.sqlite_only
async def test_a_second_bot_on_the_same_database_is_refused(tmp_path: Path) -> None:
    """Two processes would both put the other's in-flight deliveries back in the queue and send them twice.
    (PostgreSQL lets several share a database: tests/app/test_single_instance.py.)"""
    from app.assembly import AlreadyRunning

    settings = console_settings(tmp_path)
    async with harness(settings):
        with pytest.raises(AlreadyRunning, match="another coalition-bot process"):
            async with harness(settings):
                pass
    async with harness(settings):  # released on exit
        pass


async def test_a_transaction_cancelled_while_it_begins_leaves_none_open(tmp_path: Path) -> None:
    """A shutdown can cancel a command while BEGIN runs (in aiosqlite's thread, or on PostgreSQL's connection):
    the transaction must not stay open, or the next write (the worker releasing its lease on the way out) fails
    with "cannot start a transaction within a transaction"."""
    async with Database.open(storage_target(tmp_path, "x.db")) as db:
        await db.execute("CREATE TABLE marks (n INTEGER)")

        async def write(n: int) -> None:
            async with db.transaction():
                await db.execute("INSERT INTO marks (n) VALUES (?)", (n,))

        for n in range(20):
            task = asyncio.create_task(write(n))
            await asyncio.sleep(0)  # the task is now awaiting its BEGIN, which aiosqlite's thread runs anyway
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5)
            assert await db.execute("DELETE FROM marks WHERE n < 0") == 0  # a new transaction can begin
        assert await db.fetch_all("SELECT n FROM marks") == []  # and nothing cancelled was committed
