"""One aiosqlite connection with WAL, foreign keys, versioned migrations and serialised write transactions.

Why one connection and a lock: the bot is a single process; SQLite allows one writer anyway, and a
transaction that reads and then writes must take the write lock up front (``BEGIN IMMEDIATE``) or it fails
with SQLITE_BUSY_SNAPSHOT. Coroutines share the connection, so the lock also keeps one coroutine's
statements out of another's transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.resources.model import fold

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class _OpenTransaction:
    owner: asyncio.Task[Any] | None
    after_commit: list[Callable[[], None]]


# The transaction this task has open, or None. A task started inside a transaction inherits the variable; the
# owner check keeps it from joining a transaction it does not own (which may have committed meanwhile).
_open_transaction: contextvars.ContextVar[_OpenTransaction | None] = contextvars.ContextVar(
    "open_transaction", default=None)
log = logging.getLogger(__name__)


def to_db_time(instant: datetime) -> str:
    """UTC, fixed width, so that text comparison in SQL orders instants correctly."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime cannot be stored")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def opt_time(value: str | None) -> datetime | None:
    return from_db_time(value) if value is not None else None


def _fold_or_null(text: str | None) -> str | None:
    return None if text is None else fold(text)


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


class Database:
    """Owns the connection. Use ``async with Database.open(path) as db``; it is always closed."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._conn = connection
        self._write_lock = asyncio.Lock()
        self._commits_in_doubt = 0
        self._writes = 0

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path | str, *, migrate: bool = True,
                   target_version: int | None = None) -> AsyncIterator[Database]:
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

    async def migrate(self, target_version: int | None = None) -> list[str]:
        """Apply pending migrations, each in its own transaction; returns the names applied."""
        applied = []
        current = await self.schema_version()
        for version, name, sql in available_migrations():
            if version <= current or (target_version is not None and version > target_version):
                continue
            async with self.transaction():
                for statement in _split_sql(sql):
                    await self._conn.execute(statement)
                await self._conn.execute(f"PRAGMA user_version = {version}")
            applied.append(name)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A write transaction; nested use in the same task joins the outer one. Rolls back on any exception."""
        if self._owns_transaction():
            yield
            return
        async with self._write_lock:
            opened = _OpenTransaction(asyncio.current_task(), [])
            token = _open_transaction.set(opened)
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                # Cancelled while BEGIN ran in aiosqlite's thread (a shutdown): it may have begun, and a
                # transaction left open makes every later BEGIN fail. The ROLLBACK queues behind it.
                _open_transaction.reset(token)
                with contextlib.suppress(sqlite3.Error):
                    await self._conn.execute("ROLLBACK")  # "no transaction is active" when it did not begin
                raise
            try:
                yield
            except BaseException:
                self._writes += 1  # what was read meanwhile may show rows that are now gone
                await self._conn.execute("ROLLBACK")
                raise
            else:
                self._writes += 1
                try:
                    await self._conn.execute("COMMIT")
                except BaseException:
                    # Cancelled or failed while committing: the rows may be in or not, so what mirrors them
                    # can no longer trust its deltas (see commits_in_doubt). A failed COMMIT (a deferred
                    # foreign key, a full disk) leaves the transaction open: end it, or every later BEGIN fails.
                    self._commits_in_doubt += 1
                    with contextlib.suppress(sqlite3.Error):
                        await self._conn.execute("ROLLBACK")  # "no transaction is active" when it did commit
                    raise
            finally:
                _open_transaction.reset(token)
        for callback in opened.after_commit:
            try:
                callback()
            except Exception:  # the write is committed: report it as done, and the mirror as suspect
                self._commits_in_doubt += 1
                log.exception("an after-commit callback failed")

    def _owns_transaction(self) -> bool:
        opened = _open_transaction.get()
        return opened is not None and opened.owner is asyncio.current_task()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the open transaction commits (now, outside one); never after a rollback.

        For in-memory state that mirrors rows: updated on commit, it can never describe a write that an
        outer transaction later rolled back.
        """
        if self._owns_transaction():
            opened = _open_transaction.get()
            assert opened is not None
            opened.after_commit.append(callback)
        else:
            callback()

    @property
    def writes(self) -> int:
        """Moves with every write statement and every end of a write transaction on this connection (counted
        before the statement runs): while it stays the same, what was read through this connection since is still
        what it reads now, committed or not. Another connection's commits show in ``PRAGMA data_version``."""
        return self._writes

    @property
    def commits_in_doubt(self) -> int:
        """Grows when a commit was interrupted or an after-commit callback failed: state kept in memory from
        this connection's writes must then be loaded again from the database."""
        return self._commits_in_doubt

    @asynccontextmanager
    async def settled(self) -> AsyncIterator[None]:
        """A block during which no transaction of this connection is open, so reads see only committed rows.

        Not for use inside a transaction (it would wait for itself).
        """
        if self._owns_transaction():
            raise RuntimeError("settled() inside a transaction would wait for that transaction")
        async with self._write_lock:
            yield

    # Each call below is one hop to aiosqlite's thread (a queued call and a wake-up, ~0.1-0.2 ms on a busy
    # machine): the statement runs and its rows or row count come back together, and no cursor is left open to
    # close (a write's cursor is finished once executed; a read's rows are all fetched in the thread).

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement inside a transaction; returns the number of rows changed. A statement with
        ``RETURNING`` goes through :meth:`write_returning` (its rows must be read before the commit)."""
        async with self.transaction():
            self._writes += 1
            cursor = await self._conn.execute(sql, params)
            return int(cursor.rowcount)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT inside a transaction; returns the new row id."""
        async with self.transaction():
            self._writes += 1
            cursor = await self._conn.execute(sql, params)
            row_id = cursor.lastrowid
            if row_id is None:
                raise RuntimeError("INSERT produced no row id")
            return row_id

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction():
            self._writes += 1
            await self._conn.executemany(sql, rows)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        """The first row, or ``None``. Every row the statement yields is read, so it is for look-ups by key (or
        with a ``LIMIT 1``), which is every use in the project."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def write_returning(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """Run an ``UPDATE … RETURNING`` (or INSERT) in a write transaction and return its rows."""
        async with self.transaction():
            self._writes += 1
            return await self.fetch_all(sql, params)


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
