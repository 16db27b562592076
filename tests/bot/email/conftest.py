from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot.email.support import email_adapter
from tests.support import FixedClock, Harness, console_settings, harness


@pytest.fixture
async def h(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    """The real app (demo coalition, console) with a recording adapter for platform "email"."""
    async with harness(console_settings(tmp_path), clock, adapter=email_adapter()) as running:
        yield running
