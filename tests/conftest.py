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
