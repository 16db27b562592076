from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot.delivery.platforms import Platforms, platforms
from tests.support import FixedClock


@pytest.fixture
async def p(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Platforms]:
    """Slack, Discord and email all running (:func:`tests.bot.delivery.platforms.platforms`)."""
    async with platforms(tmp_path, clock) as running:
        yield running
