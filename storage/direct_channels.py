"""The :class:`bot.delivery.direct_store.DirectChannelStore` on ``identities``, ``subscriptions`` and ``deliveries``.

No table of its own: "lacks a DM channel" is ``identities.dm_channel_id IS NULL``, so the database stays the one
source of truth and a restart simply resumes opening where it stopped.
"""

from __future__ import annotations

from datetime import datetime

from bot.model import Identity
from storage.database import Database, to_db_time

# Whether identity ``i`` is one a DM to its person goes through (bot.delivery.routes picks it at send time): every
# one for ``all`` (each account gets its copy of an announcement); the preferred platform's, else any when there is
# no preference or the preferred one's DMs are closed (with several identities and no preference the worker picks
# one; each is opened, the cheaper mistake).
_DM_TARGET = ("(p.preferred_platform IS NULL OR p.preferred_platform = 'all' OR p.preferred_platform = i.platform"
              " OR NOT EXISTS (SELECT 1 FROM identities o WHERE o.person_id = i.person_id"
              " AND o.platform = p.preferred_platform AND o.dm_closed_reason IS NULL))")

# The platform a queued row goes out on: where its last attempt went, its channel's (or the platform a pinned row
# names), else its recipient's DM platform as in storage.announcements (``all``: their counted row's, the first
# account that may carry the row's topic — email only for a public topic or none, as
# bot.delivery.accounts.counted_platform); ``?`` (the platform asked about) when the worker will choose. Needs ``d``
# (deliveries), ``p`` (people) and ``t`` (the row's topic, left joined).
_ROW_PLATFORM = ("COALESCE(d.attempt_platform, d.platform, NULLIF(p.preferred_platform, 'all'), CASE WHEN"
                 " p.preferred_platform = 'all' THEN (SELECT MIN(x.platform) FROM identities x"
                 " WHERE x.person_id = d.person_id AND (x.platform <> 'email' OR t.id IS NULL"
                 " OR t.visibility = 'public')) ELSE (SELECT CASE WHEN COUNT(*) = 1 THEN MIN(x.platform) END"
                 " FROM identities x WHERE x.person_id = d.person_id) END, ?)")


class SqliteDirectChannels:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def lacking(self, platform: str, limit: int, *, after: str | None = None) -> list[Identity]:
        # Keyset paging on the primary key (platform, external_id): each page reads from where the last ended,
        # with no GROUP BY or sort over every subscriber.
        rows = await self._db.fetch_all(
            "SELECT i.external_id FROM identities i JOIN people p ON p.id = i.person_id"
            " WHERE i.platform = ? AND i.external_id > ? AND i.dm_channel_id IS NULL AND i.dm_closed_reason IS NULL"
            " AND EXISTS (SELECT 1 FROM subscriptions s JOIN topics t ON t.id = s.topic_id"
            "             WHERE s.person_id = i.person_id AND s.mode = 'immediate' AND t.archived = 0)"
            f" AND {_DM_TARGET} ORDER BY i.external_id LIMIT ?",
            (platform, after if after is not None else "", limit))
        return [Identity(platform, row["external_id"]) for row in rows]

    async def busy(self, platform: str, due_by: datetime) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM deliveries d LEFT JOIN people p ON p.id = d.person_id"
            " LEFT JOIN topics t ON t.id = d.topic_id"
            " WHERE (d.status = 'sending' OR (d.status = 'pending' AND d.not_before <= ?))"
            f" AND {_ROW_PLATFORM} = ? LIMIT 1",
            (to_db_time(due_by), platform, platform))
        return row is not None

    async def forget(self, identity: Identity, channel_id: str) -> bool:
        changed = await self._db.execute(
            "UPDATE identities SET dm_channel_id = NULL WHERE platform = ? AND external_id = ? AND dm_channel_id = ?",
            (identity.platform, identity.external_id, channel_id))
        return changed > 0
