"""What build_app accepts from settings: every valid value starts the bot."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings
from tests.postgres_server import storage_settings
from tests.support import FixedClock, harness


async def test_a_console_rate_below_one_a_second_still_starts_and_sends(tmp_path: Path) -> None:
    settings = Settings(storage=storage_settings(tmp_path, "bot.db"), console={"enabled": True},
                        coalition={"admins": ["console:demo-admin"]}, delivery={"console_per_second": 0.5})
    async with harness(settings, FixedClock()) as h:
        reply = await h.text("demo-admin", "whoami")
        assert "demo-admin" in reply
