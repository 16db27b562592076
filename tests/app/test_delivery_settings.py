"""The [delivery] settings of the previous version still load: ``max_attempts`` is accepted, ignored, and the
start says so; retries now end at ``retry_for_hours``."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from app.assembly import build_app, delivery_config
from app.settings import Settings
from tests.postgres_server import storage_settings


def test_a_settings_file_that_still_sets_max_attempts_loads(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("[delivery]\nmax_attempts = 8\nbackoff_max_seconds = 900.0\n")
    settings = Settings.load(config)
    assert settings.delivery.max_attempts == 8
    with caplog.at_level(logging.WARNING, logger="app.assembly"):
        worker = delivery_config(settings.delivery)
    assert worker.retry_for == timedelta(hours=24) and worker.backoff_max_seconds == 900.0
    assert "max_attempts is no longer used" in caplog.text


async def test_the_app_starts_with_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(storage=storage_settings(tmp_path, "bot.db"), console={"enabled": True},
                        delivery={"max_attempts": 3, "retry_for_hours": 2})
    with caplog.at_level(logging.WARNING, logger="app.assembly"):
        async with build_app(settings) as app:
            assert await app.store.leases.all()  # the worker started and holds its lease
    assert "retry for retry_for_hours (2 h)" in caplog.text
