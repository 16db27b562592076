from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import FixedClock, Harness, console_settings, harness


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def h(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    """The real app on a fresh SQLite file with the demo coalition loaded (console is the only adapter)."""
    settings = console_settings(tmp_path)
    async with harness(settings, clock) as running:
        yield running


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The suite runs once per engine (``BOT_TEST_STORAGE``); a test about one engine runs in that engine's pass."""
    from tests.postgres_server import engine

    other = "sqlite_only" if engine() == "postgresql" else "postgresql_only"
    deselected = [item for item in items if item.get_closest_marker(other) is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker(other) is None]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the throw-away PostgreSQL server, if this run started one."""
    from tests.postgres_server import stop

    stop()
