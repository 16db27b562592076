"""One bot process per database: a second one would retry the first one's in-flight deliveries."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


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
