"""The :class:`bot.delivery.direct_store.DirectChannelStore` on ``identities`` and ``subscriptions``.

No table of its own: "lacks a DM channel" is ``identities.dm_channel_id IS NULL``, so the database stays the one
source of truth and a restart simply resumes opening where it stopped.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.model import Identity
from storage.database import Database


class SqliteDirectChannels:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def lacking(self, platform: str, limit: int, *, skip: Collection[Identity] = ()) -> list[Identity]:
        # ``skip`` is small (those that failed for good in this process): read that many more and drop them.
        rows = await self._db.fetch_all(
            "SELECT i.external_id, MIN(s.created_at) AS since FROM identities i"
            " JOIN subscriptions s ON s.person_id = i.person_id AND s.mode = 'immediate'"
            " WHERE i.platform = ? AND i.dm_channel_id IS NULL AND i.dm_closed_reason IS NULL"
            " GROUP BY i.platform, i.external_id ORDER BY since, i.external_id LIMIT ?",
            (platform, limit + len(skip)))
        skipped = set(skip)
        found = [Identity(platform, row["external_id"]) for row in rows]
        return [identity for identity in found if identity not in skipped][:limit]

    async def forget(self, identity: Identity, channel_id: str) -> bool:
        changed = await self._db.execute(
            "UPDATE identities SET dm_channel_id = NULL WHERE platform = ? AND external_id = ? AND dm_channel_id = ?",
            (identity.platform, identity.external_id, channel_id))
        return changed > 0
