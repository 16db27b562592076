"""PostgreSQL through psycopg 3: for several bot processes on one database.

The repositories' SQL is written once, with ``?`` placeholders; :func:`to_psycopg` turns them into psycopg's
``%s`` (and doubles a literal ``%``), which is the driver's parameter style, not another dialect.

Writes are serialised across processes as SQLite serialises them across connections: every write transaction
first takes one transaction-level advisory lock (``WRITE_LOCK``), released by its COMMIT or ROLLBACK. The
repositories' read-then-write transactions were written for one writer at a time and stay correct. Reads do not
take the lock, but they share the process's one connection, so while this process waits for the lock behind
another process's long write, its reads wait too. Python ``bool`` goes in as an integer, as SQLite stores it (the
schema keeps 0/1 columns).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import psycopg
from psycopg.adapt import Dumper
from psycopg.rows import RowMaker

from storage.database import Database, Dialect, Row

WRITE_LOCK = 0x636F616C  # "coal": the advisory lock every write transaction holds until it ends
INT8_OID = 20


class PgRow:
    """A row readable by position or by column name, like ``sqlite3.Row``."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: Sequence[Any]) -> None:
        self._index = index
        self._values = values

    def __getitem__(self, key: Any, /) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        """As ``sqlite3.Row``: the same columns with the same values."""
        if not isinstance(other, PgRow):
            return NotImplemented
        return self.keys() == other.keys() and tuple(self._values) == tuple(other._values)

    def __hash__(self) -> int:
        return hash((tuple(self._index), tuple(self._values)))

    def __repr__(self) -> str:
        return f"PgRow({ {name: self._values[i] for name, i in self._index.items()}!r})"


def _row_factory(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[PgRow]:
    names = [column.name for column in cursor.description or ()]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name, position)  # two columns of one name: the first, as sqlite3.Row reads it

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(index, values)

    return make


class _BoolAsInt(Dumper):
    """``True``/``False`` as 1/0: the schema keeps SQLite's integer flags, and one body of SQL passes bools."""

    oid = INT8_OID

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


@functools.lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """``?`` → ``%s`` outside quotes and comments; ``%`` → ``%%`` everywhere (psycopg reads ``%`` as a
    placeholder)."""
    out: list[str] = []
    quote: str | None = None
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if quote is not None:
            if char == quote:
                quote = None
            out.append("%%" if char == "%" else char)
        elif char in ("'", '"'):
            quote = char
            out.append(char)
        elif char == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
            continue
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
        i += 1
    return "".join(out)


class TransactionAborted(psycopg.Error):
    """COMMIT found the transaction aborted on the server: nothing of it was written."""


async def open_connection(url: str, *, row_factory: Any = None) -> psycopg.AsyncConnection[Any]:
    """An autocommit connection to ``url``, with TCP keepalives (a half-open connection, after a network reset, is
    found within ~25 s, not hours). A failure names the server and database, never the URL: libpq's own messages
    can quote the password (a malformed ``%`` escape in it, for one)."""
    try:
        conninfo = psycopg.conninfo.make_conninfo(url, keepalives=1, keepalives_idle=10, keepalives_interval=5,
                                                  keepalives_count=3)
        if row_factory is None:
            return await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        return await psycopg.AsyncConnection.connect(conninfo, autocommit=True, row_factory=row_factory)
    except psycopg.Error as error:
        raise psycopg.OperationalError(f"cannot connect to PostgreSQL at {redacted(url)}"
                                       f" ({type(error).__name__})") from None


def redacted(url: str) -> str:
    """``url`` without user or password: ``postgresql://host:port/db``."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "(an unreadable URL)"
    host = info.get("host") or "localhost"
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{host}{port}/{info.get('dbname') or ''}"


class PostgresDatabase(Database):
    """One psycopg connection in autocommit mode; transactions are explicit ``BEGIN`` … ``COMMIT``."""

    dialect: ClassVar[Dialect] = "postgresql"
    _driver_errors: ClassVar[tuple[type[BaseException], ...]] = (psycopg.Error,)

    def __init__(self, connection: psycopg.AsyncConnection[PgRow]) -> None:
        super().__init__()
        self._conn = connection

    @property
    def lost(self) -> bool:
        """The connection is closed (the server restarted, or ended it): nothing on it will work again."""
        return bool(self._conn.closed or self._conn.broken)

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str, *, migrate: bool = True,
                      target_version: int | None = None) -> AsyncIterator[PostgresDatabase]:
        conn = await open_connection(url, row_factory=_row_factory)
        try:
            conn.adapters.register_dumper(bool, _BoolAsInt)
            db = cls(conn)
            if migrate:
                await db.migrate(target_version)
            yield db
        finally:
            await conn.close()

    async def try_session_lock(self, key: int, *, shared: bool = False) -> bool:
        """Take advisory lock ``key`` (``shared``: beside other shared holders) for as long as this connection
        lives (a dead process's connection ends, and with it the lock), or say that another connection holds it."""
        function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        row = await self.fetch_one(f"SELECT {function}(?)", (key,))
        return bool(row and row[0])

    async def session_unlock(self, key: int, *, shared: bool = False) -> None:
        """Let go of a lock :meth:`try_session_lock` took, before the connection ends."""
        function = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
        await self.fetch_all(f"SELECT {function}(?)", (key,))

    async def schema_version(self) -> int:
        exists = await self.fetch_one("SELECT to_regclass('schema_version') IS NOT NULL")
        if not (exists and exists[0]):
            return 0  # an empty database: the first migration creates the table
        row = await self.fetch_one("SELECT version FROM schema_version WHERE id = 1")
        return int(row[0]) if row else 0

    async def data_version(self) -> int:
        row = await self.fetch_one("SELECT COALESCE(SUM(n), 0) FROM data_changes WHERE pid <> pg_backend_pid()")
        return int(row[0]) if row else 0

    async def _apply_migration(self, version: int, sql: str) -> None:
        # No parameters: psycopg sends the script as one simple query, so it may hold several statements and
        # function bodies, and ``%`` is literal.
        await self._conn.execute(sql.encode())
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1),"
            " version INTEGER NOT NULL)")
        await self._conn.execute(
            "INSERT INTO schema_version (id, version) VALUES (1, %s)"
            " ON CONFLICT (id) DO UPDATE SET version = excluded.version", (version,))

    async def _begin(self) -> None:
        await self._conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})".encode())

    async def _commit(self) -> None:
        # Coroutines share the connection: another one's read that failed, or was cancelled mid-statement, inside
        # this transaction aborted it on the server, and PostgreSQL then answers COMMIT with ROLLBACK, no error.
        cursor = await self._conn.execute("COMMIT")
        if cursor.statusmessage != "COMMIT":
            raise TransactionAborted("the transaction was rolled back by the server, not committed"
                                     f" ({cursor.statusmessage})")

    async def _rollback(self) -> None:
        await self._conn.execute("ROLLBACK")

    async def _run(self, sql: str, params: Sequence[Any]) -> int:
        cursor = await self._conn.execute(to_psycopg(sql), tuple(params))
        return max(cursor.rowcount, 0)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement: outside a transaction, its whole transaction — ``BEGIN``, the write lock, the
        statement, ``COMMIT`` — goes to the server in one round trip.

        Why: the write lock is shared by every process, and a transaction sent a statement at a time holds it
        across three round trips and whatever this process's event loop does between them; most writes (a
        delivery marked sent) are one statement. The parameters are bound on the client (psycopg quotes them), as a
        query of several statements allows no server-side parameters."""
        if self._owns_transaction():
            return await super().execute(sql, params)
        async with self._write_lock:
            self._writes += 1
            try:
                return await self._run_alone(to_psycopg(sql), params)
            except BaseException as error:
                if isinstance(error, asyncio.CancelledError):
                    self._commits_in_doubt += 1  # sent, maybe committed: what mirrors rows can no longer trust it
                with contextlib.suppress(*self._driver_errors):
                    await self._rollback()  # a statement that failed left the transaction open, aborted
                raise
            finally:
                self._writes += 1

    async def _run_alone(self, sql: str, params: Sequence[Any]) -> int:
        """``sql`` (psycopg's placeholders) with its ``BEGIN``, write lock and ``COMMIT``, in one round trip;
        returns the rows it changed."""
        async with psycopg.AsyncClientCursor(self._conn) as cursor:
            await cursor.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK}); {sql}; COMMIT", tuple(params))
            cursor.nextset()
            cursor.nextset()
            changed = max(cursor.rowcount, 0)
            cursor.nextset()
            if cursor.statusmessage != "COMMIT":
                raise TransactionAborted("the transaction was rolled back by the server, not committed"
                                         f" ({cursor.statusmessage})")
            return changed

    async def _run_insert(self, sql: str, params: Sequence[Any]) -> int:
        cursor = await self._conn.execute(to_psycopg(sql) + " RETURNING id", tuple(params))
        row = await cursor.fetchone()
        if row is None:
            raise RuntimeError("INSERT produced no row id")
        return int(row[0])

    async def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._conn.cursor() as cursor:
            await cursor.executemany(to_psycopg(sql), [tuple(row) for row in rows])

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = await self._conn.execute(to_psycopg(sql), tuple(params))
        if cursor.description is None:
            return []
        return list(await cursor.fetchall())
