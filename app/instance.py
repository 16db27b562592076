"""One bot process per database: a second one would retry the first one's in-flight deliveries."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from app.settings import StorageSettings
from storage.database import Database

SOLE_PROCESS_LOCK = 0x636F6131  # PostgreSQL: the advisory lock the one bot process on a database holds


class AlreadyRunning(RuntimeError):
    """Another bot process serves this database: two would both retry each other's in-flight deliveries."""


@contextlib.contextmanager
def single_instance(database: Path) -> Iterator[None]:
    """Hold an exclusive lock beside the database for the life of the app (released by the OS on a crash).

    The lock is named after the database's real path, so every spelling of one file (a symlink, a relative
    path, ``x/../x``) takes the same lock: a second process naming it differently is still refused."""
    if str(database) == ":memory:":
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    # Not strict: a database not created yet resolves through its directory (made above), then the name.
    with open(f"{database.resolve()}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(f"another coalition-bot process is using {database}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.asynccontextmanager
async def open_storage(storage: StorageSettings) -> AsyncIterator[Database]:
    """The database, held by this process alone: SQLite by a lock file beside it, PostgreSQL by a session
    advisory lock (released by the server when this process's connection ends, a crash included)."""
    with contextlib.ExitStack() as stack:
        if not storage.is_postgres:
            stack.enter_context(single_instance(storage.path if storage.url is None else Path(storage.target)))
        async with Database.open(storage.target) as db:
            from storage.postgres_database import PostgresDatabase

            if isinstance(db, PostgresDatabase) and not await db.try_session_lock(SOLE_PROCESS_LOCK):
                raise AlreadyRunning("another coalition-bot process is using this PostgreSQL database")
            yield db
