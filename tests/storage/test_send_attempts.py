"""First send attempts on a real SQLite file: the first instant is recorded once per delivery key and kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapter_stores import SendAttemptStore
from storage.database import Database
from storage.send_attempts import SqliteSendAttempts
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_the_first_attempt_is_recorded_once_per_delivery_key(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        attempts: SendAttemptStore = SqliteSendAttempts(db)
        assert await attempts.first_attempt("announcement:1:discord", NOW) == NOW
        later = NOW + timedelta(minutes=10)
        assert await attempts.first_attempt("announcement:1:discord", later) == NOW
        assert await attempts.first_attempt("announcement:2:discord", later) == later
    # A retry after a restart still sees the first one.
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        assert await SqliteSendAttempts(db).first_attempt("announcement:1:discord", NOW + timedelta(hours=1)) == NOW
