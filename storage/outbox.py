"""The delivery outbox: one row per (message, target), claimed by the worker with ``UPDATE … RETURNING``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, NewDelivery, SentMessage, parse_kind
from bot.delivery.outcomes import Stopped
from storage.database import Database, Dialect, Row, from_db_time, to_db_time

# An announcement's rows to people and channels: the counted ones and the extra copies of people who take
# announcements on every account (not the author's report, nor edits and deletes of delivered copies).
_ANNOUNCEMENT_ROWS = (DeliveryKind.ANNOUNCEMENT, DeliveryKind.ANNOUNCEMENT_COPY)

# The due rows, oldest first, taken in one statement. On PostgreSQL several processes claim from the same table:
# ``FOR UPDATE SKIP LOCKED`` locks each row the inner SELECT picks (re-checking that it is still pending) and passes
# over those another transaction holds, so no row is claimed twice and no claimer waits for another. SQLite has
# one writer at a time and no row locks.
_CLAIM: dict[Dialect, str] = {
    "sqlite": "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, claimed_at = ?, claimed_by = ?"
              " WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND not_before <= ?"
              " ORDER BY not_before, id LIMIT ?) RETURNING *",
    "postgresql": "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, claimed_at = ?, claimed_by = ?"
                  " WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND not_before <= ?"
                  " ORDER BY not_before, id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING *",
}
# ``uncertain`` only ever goes up (0 → 1) until a send settles it: what scalar MAX(uncertain, ?) says, in SQL
# both engines accept.
_RAISE_UNCERTAIN = "uncertain = CASE WHEN ? = 1 THEN 1 ELSE uncertain END"


def row_to_delivery(row: Row) -> Delivery:
    sent = None
    if row["sent_message_ids"] is not None:
        sent = SentMessage(platform=row["sent_platform"], channel_id=row["sent_channel_id"],
                           message_ids=tuple(json.loads(row["sent_message_ids"])))
    return Delivery(
        id=row["id"], dedupe_key=row["dedupe_key"], kind=parse_kind(row["kind"]), person_id=row["person_id"],
        platform=row["platform"], channel_id=row["channel_id"], topic_id=row["topic_id"], payload=row["payload"],
        status=DeliveryStatus(row["status"]), attempts=row["attempts"], not_before=from_db_time(row["not_before"]),
        sent=sent, reason=row["reason"], announcement_id=row["announcement_id"],
        expires_at=from_db_time(row["expires_at"]) if row["expires_at"] else None,
        uncertain=bool(row["uncertain"]),
        retrying_since=from_db_time(row["retrying_since"]) if row["retrying_since"] else None,
        retryable=bool(row["retryable"]), attempt_platform=row["attempt_platform"],
    )


class SqliteOutbox:
    """The :class:`bot.delivery.stores.OutboxStore` on the ``deliveries`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, deliveries: Sequence[NewDelivery], now: datetime) -> int:
        created = to_db_time(now)
        added = 0
        # A fan-out shares one payload value between its rows: serialise it once.
        serialised: dict[int, str] = {}
        async with self._db.transaction():
            for d in deliveries:
                payload = serialised.get(id(d.payload))
                if payload is None:
                    payload = serialised[id(d.payload)] = d.payload.to_json()
                added += await self._db.execute(
                    "INSERT INTO deliveries (dedupe_key, kind, person_id, platform, channel_id, topic_id,"
                    " payload, status, not_before, created_at, announcement_id, expires_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (d.dedupe_key, d.kind.value, d.person_id, d.platform, d.channel_id, d.topic_id, payload,
                     to_db_time(d.not_before), created, d.announcement_id,
                     to_db_time(d.expires_at) if d.expires_at else None),
                )
        return added

    async def claim_due(self, now: datetime, limit: int, holder: str | None = None) -> list[Delivery]:
        rows = await self._db.write_returning(_CLAIM[self._db.dialect],
                                              (to_db_time(now), holder, to_db_time(now), limit))
        return sorted((row_to_delivery(row) for row in rows), key=lambda d: (d.not_before, d.id))

    async def mark_sent(self, delivery_id: int, sent: SentMessage, now: datetime) -> None:
        await self._db.execute(
            "UPDATE deliveries SET status = 'sent', sent_at = ?, sent_platform = ?, sent_channel_id = ?,"
            " sent_message_ids = ?, reason = NULL, attempt_platform = ?, uncertain = 0, retrying_since = NULL,"
            " retryable = 0, claimed_by = NULL WHERE id = ?",
            (to_db_time(now), sent.platform, sent.channel_id, json.dumps(list(sent.message_ids)), sent.platform,
             delivery_id),
        )

    async def mark_final(self, delivery_id: int, status: DeliveryStatus, reason: str, now: datetime, *,
                         platform: str | None = None, retryable: bool = False) -> None:
        await self._db.execute(
            "UPDATE deliveries SET status = ?, reason = ?, sent_at = ?,"
            " attempt_platform = COALESCE(?, attempt_platform), retryable = ?, claimed_by = NULL WHERE id = ?",
            (status.value, reason, to_db_time(now), platform, int(retryable), delivery_id),
        )

    async def retry_later(self, delivery_id: int, not_before: datetime, reason: str, *, since: datetime,
                          platform: str | None = None, uncertain: bool = False) -> None:
        await self._db.execute(
            "UPDATE deliveries SET status = 'pending', not_before = ?, reason = ?,"
            " retrying_since = COALESCE(retrying_since, ?), attempt_platform = COALESCE(?, attempt_platform),"
            f" {_RAISE_UNCERTAIN}, claimed_by = NULL WHERE id = ?",
            (to_db_time(not_before), reason, to_db_time(since), platform, int(uncertain), delivery_id),
        )

    async def defer(self, delivery_id: int, not_before: datetime, *, platform: str, reason: str | None = None,
                    since: datetime | None = None, uncertain: bool = False) -> None:
        await self._db.execute(
            "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, not_before = ?,"
            " reason = COALESCE(?, reason), retrying_since = COALESCE(retrying_since, ?), attempt_platform = ?,"
            f" {_RAISE_UNCERTAIN}, claimed_by = NULL WHERE id = ? AND status = 'sending'",
            (to_db_time(not_before), reason, to_db_time(since) if since else None, platform,
             int(uncertain), delivery_id),
        )

    async def release(self, delivery_ids: Sequence[int], *, uncertain: bool = False) -> None:
        async with self._db.transaction():
            for delivery_id in delivery_ids:
                await self._db.execute(
                    "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, claimed_by = NULL,"
                    f" {_RAISE_UNCERTAIN} WHERE id = ? AND status = 'sending'",
                    (int(uncertain), delivery_id))

    async def in_flight(self) -> list[Delivery]:
        rows = await self._db.fetch_all("SELECT * FROM deliveries WHERE status = 'sending' ORDER BY id")
        return [row_to_delivery(row) for row in rows]

    async def recover_orphans(self, now: datetime) -> int:
        # Rows of a holder whose lease lapsed (a crash, a hang), or claimed without one: an attempt may have
        # reached the platform, so they come back uncertain. A live holder's rows are never touched.
        return await self._db.execute(
            "UPDATE deliveries SET status = 'pending', uncertain = 1, claimed_by = NULL WHERE status = 'sending'"
            " AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT holder FROM worker_leases WHERE expires_at > ?))",
            (to_db_time(now),))

    async def bring_forward(self, platform: str, now: datetime) -> int:
        return await self._db.execute(
            "UPDATE deliveries SET not_before = ? WHERE status = 'pending' AND not_before > ?"
            " AND attempt_platform = ? AND retrying_since IS NOT NULL",
            (to_db_time(now), to_db_time(now), platform))

    async def next_due(self) -> datetime | None:
        row = await self._db.fetch_one("SELECT MIN(not_before) FROM deliveries WHERE status = 'pending'")
        return from_db_time(row[0]) if row and row[0] else None

    async def get(self, delivery_id: int) -> Delivery | None:
        row = await self._db.fetch_one("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        return row_to_delivery(row) if row else None

    async def by_kind(self, kind: DeliveryKind) -> list[Delivery]:
        rows = await self._db.fetch_all("SELECT * FROM deliveries WHERE kind = ? ORDER BY id", (kind,))
        return [row_to_delivery(row) for row in rows]

    # --- the rows of one announcement ---------------------------------------------------------------

    async def of_announcement(self, announcement_id: int,
                              kind: DeliveryKind = DeliveryKind.ANNOUNCEMENT) -> list[Delivery]:
        rows = await self._db.fetch_all(
            "SELECT * FROM deliveries WHERE announcement_id = ? AND kind = ? ORDER BY id",
            (announcement_id, kind.value))
        return [row_to_delivery(row) for row in rows]

    async def cancel_announcement(self, announcement_id: int, reason: str, now: datetime) -> Stopped:
        stopped: dict[DeliveryKind, int] = {}
        async with self._db.transaction():
            for kind in _ANNOUNCEMENT_ROWS:
                stopped[kind] = await self._db.execute(
                    "UPDATE deliveries SET status = 'cancelled', reason = ?, sent_at = ?"
                    " WHERE announcement_id = ? AND kind = ? AND status = 'pending'",
                    (reason, to_db_time(now), announcement_id, kind.value))
        return Stopped(counted=stopped[DeliveryKind.ANNOUNCEMENT], copies=stopped[DeliveryKind.ANNOUNCEMENT_COPY])

    async def open_for_announcement(self, announcement_id: int) -> int:
        # From the counters the triggers of migration 0013 keep: the same cost at 100 and 100,000 rows.
        row = await self._db.fetch_one(
            "SELECT COALESCE(SUM(n), 0) FROM announcement_counts WHERE announcement_id = ? AND kind IN (?, ?)"
            " AND status IN ('pending', 'sending')", (announcement_id, *(k.value for k in _ANNOUNCEMENT_ROWS)))
        return int(row[0]) if row else 0

    async def take_over(self, copy_id: int) -> bool:
        changed = await self._db.execute(
            "UPDATE deliveries SET retryable = 0 WHERE id = ? AND kind = ?"
            " AND status IN ('failed', 'skipped', 'missed', 'cancelled')",
            (copy_id, DeliveryKind.ANNOUNCEMENT_COPY.value))
        return changed > 0

    async def by_key(self, dedupe_key: str) -> Delivery | None:
        row = await self._db.fetch_one("SELECT * FROM deliveries WHERE dedupe_key = ?", (dedupe_key,))
        return row_to_delivery(row) if row else None
