"""One bot process per database: a second one would retry the first one's in-flight deliveries."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from app.settings import StorageSettings
from storage.database import Database

SOLE_PROCESS_LOCK = 0x636F6131  # PostgreSQL: bot processes hold it shared, a copy between databases exclusively


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
async def open_storage(storage: StorageSettings, *, sole: bool = False) -> AsyncIterator[Database]:
    """The database, opened and migrated. A SQLite file is held by one process alone (a lock file beside it). A
    PostgreSQL database is shared by every bot process on it (see :mod:`app.cluster`), each holding a shared
    advisory lock; ``sole`` (a copy between databases) takes it exclusively, so a copy and a running bot refuse
    each other. The server releases a session's lock when its connection ends, a crash included."""
    with contextlib.ExitStack() as stack:
        if not storage.is_postgres:
            stack.enter_context(single_instance(storage.path if storage.url is None else Path(storage.target)))
        async with Database.open(storage.target) as db:
            from storage.postgres_database import PostgresDatabase

            if isinstance(db, PostgresDatabase):
                if not await db.try_session_lock(SOLE_PROCESS_LOCK, shared=not sole):
                    raise AlreadyRunning("a coalition-bot process is using this PostgreSQL database" if sole else
                                         "a copy into or out of this PostgreSQL database is running")
                try:
                    yield db
                finally:
                    # The server also lets go when the connection ends, but not at once: a copy started right
                    # after a clean stop would be refused.
                    with contextlib.suppress(Exception):
                        await db.session_unlock(SOLE_PROCESS_LOCK, shared=not sole)
            else:
                yield db
