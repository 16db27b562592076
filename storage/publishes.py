"""The publish queue's rows (``discord_publishes``): posts waiting to be forwarded to following servers."""

from __future__ import annotations

from datetime import datetime

from bot.adapter_stores import Publish, PublishStatus
from storage.database import Database, Row, from_db_time, to_db_time


def _publish(row: Row) -> Publish:
    return Publish(id=row["id"], channel_id=row["channel_id"], message_id=row["message_id"],
                   status=PublishStatus(row["status"]), not_before=from_db_time(row["not_before"]),
                   attempts=row["attempts"], reason=row["reason"])


class SqlitePublishes:
    """The :class:`bot.adapter_stores.PublishStore` on the ``discord_publishes`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, channel_id: str, message_id: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO discord_publishes (channel_id, message_id, status, not_before, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (channel_id, message_id, PublishStatus.PENDING.value, to_db_time(now), to_db_time(now)))

    async def withhold(self, channel_id: str, message_id: str, reason: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO discord_publishes (channel_id, message_id, status, not_before, reason, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (channel_id, message_id, PublishStatus.FAILED.value, to_db_time(now), reason, to_db_time(now)))

    async def all(self) -> list[Publish]:
        rows = await self._db.fetch_all("SELECT * FROM discord_publishes ORDER BY id")
        return [_publish(row) for row in rows]

    async def due(self, now: datetime) -> list[Publish]:
        rows = await self._db.fetch_all(
            "SELECT * FROM discord_publishes WHERE status = ? AND not_before <= ? ORDER BY id",
            (PublishStatus.PENDING.value, to_db_time(now)))
        return [_publish(row) for row in rows]

    async def next_due(self) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT MIN(not_before) AS next_at FROM discord_publishes WHERE status = ?",
            (PublishStatus.PENDING.value,))
        return from_db_time(row["next_at"]) if row is not None and row["next_at"] is not None else None

    async def published_since(self, channel_id: str, since: datetime) -> list[datetime]:
        rows = await self._db.fetch_all(
            "SELECT published_at FROM discord_publishes WHERE channel_id = ? AND status = ? AND published_at > ?"
            " ORDER BY published_at", (channel_id, PublishStatus.PUBLISHED.value, to_db_time(since)))
        return [from_db_time(row["published_at"]) for row in rows]

    async def postpone(self, publish_id: int, not_before: datetime, reason: str, *,
                       attempts: int | None = None) -> None:
        await self._db.execute(
            "UPDATE discord_publishes SET not_before = ?, reason = ?, attempts = COALESCE(?, attempts) WHERE id = ?",
            (to_db_time(not_before), reason, attempts, publish_id))

    async def mark_published(self, publish_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE discord_publishes SET status = ?, published_at = ?, reason = NULL, attempts = attempts + 1"
            " WHERE id = ?", (PublishStatus.PUBLISHED.value, to_db_time(now), publish_id))

    async def mark_failed(self, publish_id: int, reason: str) -> None:
        await self._db.execute(
            "UPDATE discord_publishes SET status = ?, published_at = NULL, reason = ?, attempts = attempts + 1"
            " WHERE id = ?", (PublishStatus.FAILED.value, reason, publish_id))
