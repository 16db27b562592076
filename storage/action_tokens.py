"""Button tokens (``action_tokens``): the command invocation behind each token a platform's button carries."""

from __future__ import annotations

from datetime import datetime

from storage.database import Database, to_db_time


class SqliteActionTokens:
    """The :class:`bot.adapter_stores.ActionTokenStore` on the ``action_tokens`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def remember(self, token: str, command: str, now: datetime) -> None:
        await self._db.execute("INSERT INTO action_tokens (token, command, created_at) VALUES (?, ?, ?)"
                               " ON CONFLICT DO NOTHING",
                               (token, command, to_db_time(now)))

    async def command_for(self, token: str) -> str | None:
        row = await self._db.fetch_one("SELECT command FROM action_tokens WHERE token = ?", (token,))
        return str(row["command"]) if row is not None else None
