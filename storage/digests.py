"""The digest queue (``digest_items``): announcements waiting for a person's daily or weekly digest, and the
digest that carried each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.delivery.model import DeliveryKind
from bot.subscriptions.model import DeliveryMode, MissedDigests
from storage.database import Database, Dialect, from_db_time, to_db_time

# The items of every missed or failed digest back to the queue. A digest row's key is the items' digest_key plus
# ":person:<id>" (Notifier.to_people): the part before it, '' when a key has none (PostgreSQL's substr refuses the
# negative length SQLite reads as "nothing").
_RELEASE: dict[Dialect, str] = {
    "sqlite": "UPDATE digest_items SET digest_key = NULL WHERE (person_id, digest_key) IN"
              " (SELECT person_id, substr(dedupe_key, 1, instr(dedupe_key, ':person:') - 1) FROM deliveries"
              "  WHERE kind = ? AND person_id IS NOT NULL"
              "  AND ((status = 'missed' AND expires_at <= ?) OR status = 'failed'))",
    "postgresql": "UPDATE digest_items SET digest_key = NULL WHERE (person_id, digest_key) IN"
                  " (SELECT person_id, substr(dedupe_key, 1, GREATEST(strpos(dedupe_key, ':person:') - 1, 0))"
                  "  FROM deliveries WHERE kind = ? AND person_id IS NOT NULL"
                  "  AND ((status = 'missed' AND expires_at <= ?) OR status = 'failed'))",
}


class SqliteDigests:
    """The :class:`bot.subscriptions.store.DigestStore` on the ``digest_items`` table (and the digests' outbox
    rows)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def queue(self, rows: Sequence[tuple[int, int, DeliveryMode]], now: datetime) -> None:
        stamp = to_db_time(now)
        await self._db.execute_many(
            "INSERT INTO digest_items (person_id, announcement_id, mode, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [(person_id, announcement_id, mode.value, stamp) for person_id, announcement_id, mode in rows])

    async def pending(self) -> list[tuple[int, DeliveryMode, datetime]]:
        """(person, mode, oldest item) for everyone with items not yet in a digest."""
        rows = await self._db.fetch_all(
            "SELECT person_id, mode, MIN(created_at) AS oldest FROM digest_items WHERE digest_key IS NULL"
            " GROUP BY person_id, mode ORDER BY person_id, mode")
        return [(row["person_id"], DeliveryMode(row["mode"]), from_db_time(row["oldest"])) for row in rows]

    async def items(self, person_id: int, mode: DeliveryMode, before: datetime) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT announcement_id FROM digest_items WHERE person_id = ? AND mode = ? AND digest_key IS NULL"
            " AND created_at < ? ORDER BY created_at, announcement_id",
            (person_id, mode.value, to_db_time(before)))
        return [row["announcement_id"] for row in rows]

    async def mark_digested(self, person_id: int, announcement_ids: Sequence[int], key: str) -> None:
        async with self._db.transaction():
            for announcement_id in announcement_ids:
                await self._db.execute(
                    "UPDATE digest_items SET digest_key = ? WHERE person_id = ? AND announcement_id = ?",
                    (key, person_id, announcement_id))

    async def release_missed(self, now: datetime, reason: str) -> MissedDigests:
        """A digest row still pending past its expiry (the next digest is due) is missed now, and the items of
        every missed digest, and of every digest that failed (a weekly digest outlasts the retry deadline), go
        back to the queue, so the next digest carries them. Returns items released."""
        stamp = to_db_time(now)
        async with self._db.transaction():
            missed = await self._db.execute(
                "UPDATE deliveries SET status = 'missed', reason = ?, sent_at = ? WHERE kind = ?"
                " AND status = 'pending' AND expires_at <= ?", (reason, stamp, DeliveryKind.DIGEST.value, stamp))
            released = await self._db.execute(_RELEASE[self._db.dialect], (DeliveryKind.DIGEST.value, stamp))
            return MissedDigests(missed, released)

    async def counts(self, announcement_id: int) -> tuple[int, int]:
        """(queued, already in a sent digest) for a delivery report."""
        # From the counters the triggers of migration 0013 keep.
        row = await self._db.fetch_one(
            "SELECT queued, digested FROM announcement_digest_counts WHERE announcement_id = ?", (announcement_id,))
        return (int(row["queued"]), int(row["digested"])) if row else (0, 0)

    async def drop_undigested(self, announcement_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM digest_items WHERE announcement_id = ? AND digest_key IS NULL", (announcement_id,))
