"""Button tokens on a real SQLite file: a token keeps its command across a restart, the first command kept under
a token stays, and an unknown token finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.adapter_stores import ActionTokenStore
from storage.action_tokens import SqliteActionTokens
from storage.database import Database
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_a_token_keeps_its_command_across_a_restart(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        tokens: ActionTokenStore = SqliteActionTokens(db)
        await tokens.remember("abc123", "announce confirm 7", NOW)
        await tokens.remember("abc123", "announce confirm 7", NOW)  # the same button rendered again
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        tokens = SqliteActionTokens(db)
        assert await tokens.command_for("abc123") == "announce confirm 7"
        assert await tokens.command_for("forged") is None
        row = await db.fetch_one("SELECT COUNT(*) AS n FROM action_tokens")
        assert row is not None and row["n"] == 1


async def test_a_token_already_kept_is_left_as_it_is(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        tokens = SqliteActionTokens(db)
        await tokens.remember("abc123", "announce confirm 7", NOW)
        await tokens.remember("abc123", "announce cancel 7", NOW)
        assert await tokens.command_for("abc123") == "announce confirm 7"
