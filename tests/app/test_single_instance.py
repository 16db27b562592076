"""One bot process per SQLite database, however its path is spelled: two processes on one database would both
retry each other's in-flight deliveries, so a symlink or a relative path must not slip past the lock."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.assembly import AlreadyRunning, build_app, single_instance
from app.settings import Settings
from tests.bot_process import bot_env, run_bot
from tests.support import FixedClock


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


async def test_one_database_through_a_symlink_or_relative_path_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    real, *others = spellings(tmp_path)
    async with build_app(settings_at(real), clock=FixedClock(), console_output=io.StringIO()):
        for other in others:
            with pytest.raises(AlreadyRunning, match="another coalition-bot process"):
                async with build_app(settings_at(other), clock=FixedClock(), console_output=io.StringIO()):
                    pass  # pragma: no cover - must not start


def test_the_lock_is_shared_before_the_database_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    names = spellings(tmp_path)
    for first, second in zip(names, names[1:] + names[:1], strict=True):
        assert not names[0].exists()
        with single_instance(first), pytest.raises(AlreadyRunning):
            with single_instance(second):
                pass  # pragma: no cover - must not start


def test_different_databases_run_side_by_side(tmp_path: Path) -> None:
    real, linked, *_ = spellings(tmp_path)
    with single_instance(real), single_instance(tmp_path / "alias" / "other.db"):
        pass
    with single_instance(linked), single_instance(tmp_path / "elsewhere" / "bot.db"):
        pass


def test_bot_run_on_a_symlinked_spelling_says_another_process_and_exits_1(tmp_path: Path) -> None:
    real, _directory, linked, *_ = spellings(tmp_path)
    with single_instance(real):
        done = run_bot(bot_env(linked, BOT_CONSOLE__ENABLED="true"), "run", timeout=60)
    assert done.returncode == 1, done.stderr
    assert "another coalition-bot process is using" in done.stderr
    assert "Traceback" not in done.stderr
