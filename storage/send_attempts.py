"""When each Discord delivery was first attempted (``discord_send_attempts``), per delivery key."""

from __future__ import annotations

from datetime import datetime

from storage.database import Database, from_db_time, to_db_time


class SqliteSendAttempts:
    """The :class:`bot.adapter_stores.SendAttemptStore` on the ``discord_send_attempts`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def first_attempt(self, delivery_key: str, now: datetime) -> datetime:
        async with self._db.transaction():  # the insert and the read see the same row
            await self._db.execute(
                "INSERT INTO discord_send_attempts (delivery_key, first_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (delivery_key, to_db_time(now)))
            row = await self._db.fetch_one("SELECT first_at FROM discord_send_attempts WHERE delivery_key = ?",
                                           (delivery_key,))
        assert row is not None  # inserted above unless it was already there
        return from_db_time(str(row["first_at"]))
