"""The Discord tests' shared start-up: a loopback Discord and the whole app connected to it.

A test module that needs a differently set-up server (closed DMs, a custom guild) overrides ``fake``; ``running``
then starts the app against that one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord.client import DiscordRunner
from app.assembly import App
from tests.adapters.discord.test_discord_adapter import discord_app
from tests.fakes.discord_server import FakeDiscord
from tests.support import FixedClock


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def running(fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> AsyncIterator[tuple[App, DiscordRunner]]:
    async with discord_app(fake, tmp_path, clock) as started:
        yield started
