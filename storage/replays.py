"""Signatures of signed platform requests already accepted: the memory that refuses a replayed request."""

from __future__ import annotations

from storage.database import Database


class SqliteReplays:
    """The :class:`bot.adapter_stores.ReplayStore` on the ``slack_replays`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, signature: str, request_ts: int, *, forget_before: int) -> bool:
        """Record ``signature``; False when it was already recorded (a replay). Signatures of requests older
        than ``forget_before`` (Unix seconds) are dropped first: their timestamps no longer pass the check."""
        async with self._db.transaction():
            await self._db.execute("DELETE FROM slack_replays WHERE request_ts < ?", (forget_before,))
            added = await self._db.execute(
                "INSERT INTO slack_replays (signature, request_ts) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (signature, request_ts))
        return added == 1

    async def count(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) AS n FROM slack_replays")
        return int(row["n"]) if row is not None else 0
