"""``python -m bot copy-storage``: a coalition moves from SQLite to PostgreSQL and back, whole.

PostgreSQL-only: the SQLite side is a file of the test's own, the other side the run's PostgreSQL server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.settings import Settings
from storage.copy import DERIVED, NOT_COPIED, TABLES, copy_storage
from storage.database import Database
from tests.postgres_server import fresh_database_url
from tests.support import FixedClock, harness

pytestmark = pytest.mark.postgresql_only


def _sqlite_settings(path: Path) -> Settings:
    return Settings(storage={"path": path}, coalition={"admins": ["console:demo-admin", "test:root"]},
                    console={"enabled": True})


async def _busy_coalition(path: Path) -> None:
    """The demo coalition after an announcement went out, a digest was queued and a resource was added."""
    async with harness(_sqlite_settings(path), FixedClock()) as h:
        await h.say("demo-admin", "setup public-channel #coalition-public")
        await h.say("demo-member", "subscribe disinformation")
        await h.say("demo-outsider", "subscribe disinformation mode:daily")
        await h.say("demo-coordinator", "announce new disinformation Our report on election disinformation")
        await h.say("demo-coordinator", "announce confirm 1")
        await h.app.run_due()


async def _everything(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every copied table's rows, in key order, without columns an engine computes."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table in TABLES:
        rows = await db.fetch_all(f"SELECT * FROM {table}")
        tables[table] = sorted(
            (tuple((name, row[name]) for name in row.keys() if name != "search_document") for row in rows),
            key=repr)
    return tables


async def test_sqlite_to_postgresql_and_back_keeps_every_row(tmp_path: Path) -> None:
    await _busy_coalition(tmp_path / "lite.db")
    url = fresh_database_url()
    async with Database.open(tmp_path / "lite.db") as lite, Database.open(url) as pg:
        copied = await copy_storage(lite, pg)
        before = await _everything(lite)
        assert await _everything(pg) == before
    assert {c.table: c.rows for c in copied}["deliveries"] > 0
    async with Database.open(url) as pg, Database.open(tmp_path / "back.db") as back:
        await copy_storage(pg, back)
        assert await _everything(back) == before


async def test_the_bot_runs_on_the_copy(tmp_path: Path) -> None:
    await _busy_coalition(tmp_path / "lite.db")
    url = fresh_database_url()
    async with Database.open(tmp_path / "lite.db") as lite, Database.open(url) as pg:
        await copy_storage(lite, pg)
    settings = Settings(storage={"url": url}, coalition={"admins": ["console:demo-admin", "test:root"]},
                        console={"enabled": True})
    async with harness(settings, FixedClock()) as h:
        # A newcomer gets a new id (PostgreSQL's identity columns were moved past the copied ids), and what
        # was there answers as before.
        assert "You now follow" in await h.text("someone-new", "subscribe disinformation")
        status = await h.text("demo-coordinator", "announce status 1")
        assert "Delivered" in status
        assert "Resources in “disinformation”" in await h.text("demo-member", "resources disinformation")


async def test_a_target_with_a_coalition_is_refused_and_left_alone(tmp_path: Path) -> None:
    await _busy_coalition(tmp_path / "lite.db")
    url = fresh_database_url()
    async with Database.open(tmp_path / "lite.db") as lite, Database.open(url) as pg:
        await copy_storage(lite, pg)
        before = await _everything(pg)
    assert await asyncio.to_thread(main, ["copy-storage", str(tmp_path / "lite.db"), url]) == 1
    async with Database.open(url) as pg:
        assert await _everything(pg) == before


async def test_the_command_copies_and_prints_each_table(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    await _busy_coalition(tmp_path / "lite.db")
    url = fresh_database_url(migrated=False)  # the command migrates an empty target itself
    # The command runs its own event loop, as from a shell: in a thread of its own.
    assert await asyncio.to_thread(main, ["copy-storage", f"sqlite:///{tmp_path / 'lite.db'}", url]) == 0
    out = capsys.readouterr().out
    assert "deliveries" in out and "each table's count checked on both sides" in out


async def test_every_table_is_copied_or_named_as_not_copied(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "lite.db") as lite:
        rows = await lite.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'"
                                    " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'resources_fts%'"
                                    " AND name != 'resources_vocab'")
    assert {str(row[0]) for row in rows} == set(TABLES) | NOT_COPIED
    assert DERIVED <= set(TABLES)


_SIGNUP = ("INSERT INTO email_signups (person_id, address, topic_id, mode, language, zone, token, created_at,"
           " expires_at) VALUES (1, 'a@example.org', 1, 'daily', 'en', 'UTC', ?, 'now', 'later')")


async def _new_signup(db: Database, token: str) -> int:
    return await db.insert(_SIGNUP, (token,))


async def test_ids_a_pruned_row_used_are_never_handed_out_again_after_a_copy(tmp_path: Path) -> None:
    """An email sign-up's id names its confirmation mail's outbox key: a reused id would match an old mail."""
    async with Database.open(tmp_path / "lite.db") as lite:
        await lite.execute("INSERT INTO people (id, display_name, created_at) VALUES (1, 'p', 'now')")
        await lite.execute("INSERT INTO topics (id, slug, title, visibility, policy, created_at)"
                           " VALUES (1, 't', 'T', 'public', 'open', 'now')")
        assert [await _new_signup(lite, f"t{i}") for i in range(3)] == [1, 2, 3]
        await lite.execute("DELETE FROM email_signups WHERE id = 3")  # pruned
        url = fresh_database_url()
        async with Database.open(url) as pg:
            await copy_storage(lite, pg)
            assert await _new_signup(pg, "on-pg") == 4
            await pg.execute("DELETE FROM email_signups WHERE id = 4")
            async with Database.open(tmp_path / "back.db") as back:
                await copy_storage(pg, back)
                assert await _new_signup(back, "back-on-sqlite") == 5
