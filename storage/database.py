"""What every storage engine shares: serialised write transactions, after-commit callbacks, versioned migrations.

Two engines implement it: :class:`storage.sqlite_database.SqliteDatabase` (one aiosqlite connection with WAL,
the default) and :class:`storage.postgres_database.PostgresDatabase` (PostgreSQL through psycopg 3, for several
processes on one database). :meth:`Database.open` picks one from the storage URL. The repositories keep one body
of SQL (``?`` placeholders, the subset both engines agree on) and ask :attr:`Database.dialect` only where the two
differ (full-text search, a few functions).

Why one connection and a lock: a transaction that reads and then writes must not interleave with another
coroutine's statements on the same connection, and it must take the write lock up front (SQLite:
``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level advisory lock, which also serialises the writers of every
other process on the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")

Dialect = Literal["sqlite", "postgresql"]


class Row(Protocol):
    """A result row: by position or by column name (``sqlite3.Row`` and the PostgreSQL engine's rows)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> list[str]: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


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


def is_postgres_url(target: Path | str) -> bool:
    return str(target).startswith(POSTGRES_SCHEMES)


def available_migrations(dialect: Dialect = "sqlite") -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration shipped for ``dialect``, in order.

    SQLite's start at 1. PostgreSQL's start with a baseline that builds the schema of its version from nothing
    (the engine arrived at that version); from there both engines get one file per version, with the same number.
    """
    package = "storage.migrations" if dialect == "sqlite" else "storage.migrations.postgresql"
    found = []
    for entry in resources.files(package).iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    first = 1 if dialect == "sqlite" else (versions[0] if versions else 1)
    if versions != list(range(first, first + len(versions))):
        raise RuntimeError(f"{dialect} migrations must be numbered without gaps, found {versions}")
    return found


class Database(ABC):
    """Owns the connection. Use ``async with Database.open(path_or_url) as db``; it is always closed."""

    dialect: ClassVar[Dialect]
    _driver_errors: ClassVar[tuple[type[BaseException], ...]]

    def __init__(self) -> None:
        self._write_lock = asyncio.Lock()
        self._commits_in_doubt = 0
        self._writes = 0

    @staticmethod
    @asynccontextmanager
    async def open(target: Path | str, *, migrate: bool = True,
                   target_version: int | None = None) -> AsyncIterator[Database]:
        """SQLite for a path (the default), PostgreSQL for a ``postgresql://`` URL."""
        if is_postgres_url(target):
            from storage.postgres_database import PostgresDatabase
            async with PostgresDatabase.connect(str(target), migrate=migrate,
                                                target_version=target_version) as pg:
                yield pg
        else:
            from storage.sqlite_database import SqliteDatabase
            async with SqliteDatabase.connect(target, migrate=migrate, target_version=target_version) as lite:
                yield lite

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def _apply_migration(self, version: int, sql: str) -> None:
        """Run one migration's statements and record ``version``, inside the open transaction."""

    async def migrate(self, target_version: int | None = None) -> list[str]:
        """Apply pending migrations, each in its own transaction; returns the names applied."""
        applied = []
        current = await self.schema_version()  # an up-to-date database opens no write transaction at start
        for version, name, sql in available_migrations(self.dialect):
            if version <= current or (target_version is not None and version > target_version):
                continue
            async with self.transaction():
                # Read inside the write transaction: another process may have migrated meanwhile.
                if version <= await self.schema_version():
                    continue
                await self._apply_migration(version, sql)
            applied.append(name)
        return applied

    # The engine's primitives. Each is one round trip; the base class decides when they run.
    @abstractmethod
    async def _begin(self) -> None: ...

    @abstractmethod
    async def _commit(self) -> None: ...

    @abstractmethod
    async def _rollback(self) -> None: ...

    @abstractmethod
    async def _run(self, sql: str, params: Sequence[Any]) -> int:
        """Run one write statement; the number of rows it changed."""

    @abstractmethod
    async def _run_insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run one INSERT into a table keyed by ``id``; the new row's id."""

    @abstractmethod
    async def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

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
                await self._begin()
            except BaseException:
                # Cancelled while BEGIN ran (a shutdown): it may have begun, and a transaction left open makes
                # every later BEGIN fail. The ROLLBACK queues behind it.
                _open_transaction.reset(token)
                with contextlib.suppress(*self._driver_errors):
                    await self._rollback()  # "no transaction is active" when it did not begin
                raise
            try:
                yield
            except BaseException:
                self._writes += 1  # what was read meanwhile may show rows that are now gone
                await self._rollback()
                raise
            else:
                self._writes += 1
                try:
                    await self._commit()
                except BaseException:
                    # Cancelled or failed while committing: the rows may be in or not, so what mirrors them
                    # can no longer trust its deltas (see commits_in_doubt). A failed COMMIT (a deferred
                    # foreign key, a full disk) leaves the transaction open: end it, or every later BEGIN fails.
                    self._commits_in_doubt += 1
                    with contextlib.suppress(*self._driver_errors):
                        await self._rollback()  # "no transaction is active" when it did commit
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
        what it reads now, committed or not. Another connection's commits show in :meth:`data_version`."""
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

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement inside a transaction; returns the number of rows changed. A statement with
        ``RETURNING`` goes through :meth:`write_returning` (its rows must be read before the commit)."""
        async with self.transaction():
            self._writes += 1
            return await self._run(sql, params)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT (into a table keyed by ``id``) inside a transaction; returns the new row id."""
        async with self.transaction():
            self._writes += 1
            return await self._run_insert(sql, params)

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction():
            self._writes += 1
            await self._run_many(sql, rows)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row, or ``None``. Every row the statement yields is read, so it is for look-ups by key (or
        with a ``LIMIT 1``), which is every use in the project."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def write_returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run an ``UPDATE … RETURNING`` (or INSERT) in a write transaction and return its rows."""
        async with self.transaction():
            self._writes += 1
            return await self.fetch_all(sql, params)

    @abstractmethod
    async def data_version(self) -> int:
        """Moves when another connection (or process) commits a change: with :attr:`writes`, what a cache needs
        to know that what it read is still current."""
