"""Channel bindings (``channel_bindings``): which channel carries the public feed or a topic, per platform."""

from __future__ import annotations

from datetime import datetime

from bot.channels.model import ChannelBinding, ChannelPurpose
from storage.database import Database, to_db_time


class SqliteChannels:
    """The :class:`bot.channels.store.ChannelStore` on the ``channel_bindings`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def bind(self, purpose: ChannelPurpose, topic_id: int | None, platform: str, channel_id: str,
                   now: datetime) -> None:
        async with self._db.transaction():
            await self._db.execute(
                "DELETE FROM channel_bindings WHERE purpose = ? AND COALESCE(topic_id, 0) = ? AND platform = ?",
                (purpose, topic_id or 0, platform))
            await self._db.insert(
                "INSERT INTO channel_bindings (purpose, topic_id, platform, channel_id, created_at)"
                " VALUES (?, ?, ?, ?, ?)", (purpose, topic_id, platform, channel_id, to_db_time(now)))

    async def bound(self, purpose: ChannelPurpose, topic_id: int | None) -> list[ChannelBinding]:
        rows = await self._db.fetch_all(
            "SELECT platform, channel_id FROM channel_bindings WHERE purpose = ? AND COALESCE(topic_id, 0) = ?"
            " ORDER BY platform", (purpose, topic_id or 0))
        return [ChannelBinding(row["platform"], row["channel_id"]) for row in rows]
