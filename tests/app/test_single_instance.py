"""Who may share a database. SQLite: one bot process per file, however its path is spelled (two would both retry
each other's in-flight deliveries; a symlink or a relative path must not slip past the lock file). PostgreSQL:
several bot processes share one database (:mod:`app.cluster`), each holding a shared session advisory lock, and a
copy into or out of it (``copy-storage``, ``sole``) holds that lock alone: a copy and a running bot refuse each
other. Both engines let the next one in once the holder stops.
"""

from __future__ import annotations

import asyncio
import io
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from app.assembly import AlreadyRunning, App, build_app, single_instance
from app.instance import open_storage
from app.settings import Settings
from bot.model import Identity
from tests.bot_process import bot_env, run_bot
from tests.postgres_server import engine, storage_settings, storage_target
from tests.support import FixedClock

RESTARTS = 5
"""Starts right after a stop: each would be refused if the stopped holder's lock outlived it for a moment."""
REFUSED = {"sqlite": ("another coalition-bot process is using", "another coalition-bot process is using"),
           "postgresql": ("a copy into or out of this PostgreSQL database is running",
                          "a coalition-bot process is using this PostgreSQL database")}
"""(what a bot is told when the database is held, what a copy is told when a bot runs), per engine."""


def spellings(tmp_path: Path) -> tuple[Path, ...]:
    """The database as created, then other names of it: through a symlinked directory, a symlink to the file
    itself (whose ``.lock`` would sit beside the link, not the file), and relative with a detour through
    ``..``. The file symlink may dangle: the database is only created by the first process."""
    real_dir = tmp_path / "data"
    real_dir.mkdir()
    (tmp_path / "alias").symlink_to(real_dir, target_is_directory=True)
    (tmp_path / "link.db").symlink_to(real_dir / "bot.db")
    return (real_dir / "bot.db", tmp_path / "alias" / "bot.db", tmp_path / "link.db", Path("link.db"),
            Path("data/../data/bot.db"))


def settings_at(path: Path) -> Settings:
    return Settings(storage={"path": path}, console={"enabled": True})


def app_on(settings: Settings) -> AbstractAsyncContextManager[App]:
    return build_app(settings, clock=FixedClock(), console_output=io.StringIO())


def app_settings(tmp_path: Path, name: str = "bot.db") -> Settings:
    return Settings(storage=storage_settings(tmp_path, name), console={"enabled": True})


async def test_a_copy_and_a_running_app_refuse_each_other_and_the_next_starts_once_one_stops(
        tmp_path: Path) -> None:
    settings = app_settings(tmp_path)
    bot_refused, copy_refused = REFUSED[engine()]
    async with app_on(settings) as running:
        with pytest.raises(AlreadyRunning, match=copy_refused):
            async with open_storage(settings.storage, sole=True):
                pass  # pragma: no cover - must not start
        assert await running.store.topics.by_slug("disinformation") is not None, "the app runs on"
    for _ in range(RESTARTS):
        async with open_storage(settings.storage, sole=True) as copying:
            with pytest.raises(AlreadyRunning, match=bot_refused):
                async with app_on(settings):
                    pass  # pragma: no cover - must not start
            assert await copying.fetch_one("SELECT COUNT(*) FROM topics") is not None
        async with app_on(settings) as again:
            assert await again.store.people.count() > 0


@pytest.mark.sqlite_only
async def test_a_second_app_on_one_sqlite_database_is_refused(tmp_path: Path) -> None:
    settings = app_settings(tmp_path)
    async with app_on(settings):
        with pytest.raises(AlreadyRunning, match="another coalition-bot process"):
            async with app_on(settings):
                pass  # pragma: no cover - must not start
    async with app_on(settings):
        pass


@pytest.mark.postgresql_only
async def test_apps_on_one_postgresql_database_run_side_by_side(tmp_path: Path) -> None:
    settings = app_settings(tmp_path)
    async with app_on(settings) as first, app_on(settings) as second:
        await first.store.people.ensure_identity(  # one's write is the other's read: one database
            Identity("console", "shared"), "Shared", FixedClock().now())
        assert await second.store.people.identity(Identity("console", "shared")) is not None
    async with app_on(settings):
        pass


async def test_apps_on_different_databases_run_side_by_side(tmp_path: Path) -> None:
    async with app_on(app_settings(tmp_path, "one.db")), app_on(app_settings(tmp_path, "two.db")):
        pass


async def test_bot_run_on_a_database_held_by_another_process_says_so_and_exits_1(tmp_path: Path) -> None:
    """Across processes: the test holds the database (as a copy would), the child ``bot run`` is refused."""
    settings = app_settings(tmp_path)
    target = storage_target(tmp_path)
    env = bot_env(target) if isinstance(target, Path) else bot_env(tmp_path / "unused.db", BOT_STORAGE__URL=target)
    async with open_storage(settings.storage, sole=True):
        done = await asyncio.to_thread(run_bot, {**env, "BOT_CONSOLE__ENABLED": "true"}, "run", timeout=60)
    assert done.returncode == 1, done.stderr
    assert REFUSED[engine()][0] in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.sqlite_only
async def test_one_database_through_a_symlink_or_relative_path_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    real, *others = spellings(tmp_path)
    async with build_app(settings_at(real), clock=FixedClock(), console_output=io.StringIO()):
        for other in others:
            with pytest.raises(AlreadyRunning, match="another coalition-bot process"):
                async with build_app(settings_at(other), clock=FixedClock(), console_output=io.StringIO()):
                    pass  # pragma: no cover - must not start


@pytest.mark.sqlite_only
def test_the_lock_is_shared_before_the_database_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    names = spellings(tmp_path)
    for first, second in zip(names, names[1:] + names[:1], strict=True):
        assert not names[0].exists()
        with single_instance(first), pytest.raises(AlreadyRunning):
            with single_instance(second):
                pass  # pragma: no cover - must not start


@pytest.mark.sqlite_only
def test_different_databases_run_side_by_side(tmp_path: Path) -> None:
    real, linked, *_ = spellings(tmp_path)
    with single_instance(real), single_instance(tmp_path / "alias" / "other.db"):
        pass
    with single_instance(linked), single_instance(tmp_path / "elsewhere" / "bot.db"):
        pass


@pytest.mark.sqlite_only
def test_bot_run_on_a_symlinked_spelling_says_another_process_and_exits_1(tmp_path: Path) -> None:
    real, _directory, linked, *_ = spellings(tmp_path)
    with single_instance(real):
        done = run_bot(bot_env(linked, BOT_CONSOLE__ENABLED="true"), "run", timeout=60)
    assert done.returncode == 1, done.stderr
    assert "another coalition-bot process is using" in done.stderr
    assert "Traceback" not in done.stderr
