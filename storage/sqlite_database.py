"""The default engine: one aiosqlite connection with WAL, foreign keys and ``BEGIN IMMEDIATE`` transactions.

SQLite allows one writer anyway, and a transaction that reads and then writes must take the write lock up front
(``BEGIN IMMEDIATE``) or it fails with SQLITE_BUSY_SNAPSHOT. Coroutines share the connection, so the base class's
lock also keeps one coroutine's statements out of another's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import aiosqlite

from bot.resources.model import fold
from storage.database import Database, Dialect, Row


def _fold_or_null(text: str | None) -> str | None:
    return None if text is None else fold(text)


class SqliteDatabase(Database):
    """One SQLite file (or ``:memory:``)."""

    dialect: ClassVar[Dialect] = "sqlite"
    _driver_errors: ClassVar[tuple[type[BaseException], ...]] = (sqlite3.Error,)

    def __init__(self, connection: aiosqlite.Connection) -> None:
        super().__init__()
        self._conn = connection

    @classmethod
    @asynccontextmanager
    async def connect(cls, path: Path | str, *, migrate: bool = True,
                      target_version: int | None = None) -> AsyncIterator[SqliteDatabase]:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            # WAL + NORMAL survives an application crash (what the outbox guards against); only a power
            # loss can lose the last commits, and it costs an fsync per commit less.
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA busy_timeout=5000")
            # The resource index stores text folded by the application; a migration that changes the folding
            # refolds the stored copies with the very same function.
            await conn.create_function("fold_for_search", 1, _fold_or_null, deterministic=True)
            db = cls(conn)
            if migrate:
                await db.migrate(target_version)
            yield db
        finally:
            await conn.close()

    async def schema_version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def data_version(self) -> int:
        row = await self.fetch_one("PRAGMA data_version")
        return int(row[0]) if row else 0

    async def _apply_migration(self, version: int, sql: str) -> None:
        for statement in _split_sql(sql):
            await self._conn.execute(statement)
        await self._conn.execute(f"PRAGMA user_version = {version}")

    async def _begin(self) -> None:
        await self._conn.execute("BEGIN IMMEDIATE")

    async def _commit(self) -> None:
        await self._conn.execute("COMMIT")

    async def _rollback(self) -> None:
        await self._conn.execute("ROLLBACK")

    # Each call below is one hop to aiosqlite's thread (a queued call and a wake-up, ~0.1-0.2 ms on a busy
    # machine): the statement runs and its rows or row count come back together, and no cursor is left open to
    # close (a write's cursor is finished once executed; a read's rows are all fetched in the thread).

    async def _run(self, sql: str, params: Sequence[Any]) -> int:
        cursor = await self._conn.execute(sql, params)
        return int(cursor.rowcount)

    async def _run_insert(self, sql: str, params: Sequence[Any]) -> int:
        cursor = await self._conn.execute(sql, params)
        row_id = cursor.lastrowid
        if row_id is None:
            raise RuntimeError("INSERT produced no row id")
        return row_id

    async def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))


def _split_sql(script: str) -> list[str]:
    """Split a migration into complete statements (triggers included), as SQLite itself would.

    ``executescript`` cannot be used: it commits the open transaction first.
    """
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if not buffer and line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:80]}")
    return statements
