"""Announcements, channel bindings and the digest queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from bot.announcements.model import Announcement, AnnouncementState
from bot.channels.model import ChannelBinding, ChannelPurpose
from bot.delivery.model import Delivery, DeliveryKind
from bot.subscriptions.model import DeliveryMode
from storage.database import Database, from_db_time, opt_time, to_db_time
from storage.outbox import row_to_delivery


def _announcement(row: aiosqlite.Row) -> Announcement:
    return Announcement(
        id=row["id"], topic_id=row["topic_id"], author_id=row["author_id"], text=row["text"],
        state=AnnouncementState(row["state"]), send_at=opt_time(row["send_at"]),
        created_at=from_db_time(row["created_at"]), sent_at=opt_time(row["sent_at"]),
        edited_at=opt_time(row["edited_at"]), revision=row["revision"],
    )


class SqliteAnnouncements:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, topic_id: int, author_id: int, text: str, send_at: datetime | None,
                     now: datetime) -> Announcement:
        async with self._db.transaction():
            announcement_id = await self._db.insert(
                "INSERT INTO announcements (topic_id, author_id, text, state, send_at, created_at)"
                " VALUES (?, ?, ?, 'draft', ?, ?)",
                (topic_id, author_id, text, to_db_time(send_at) if send_at else None, to_db_time(now)),
            )
            created = await self.get(announcement_id)
            assert created is not None
            return created

    async def get(self, announcement_id: int) -> Announcement | None:
        row = await self._db.fetch_one("SELECT * FROM announcements WHERE id = ?", (announcement_id,))
        return _announcement(row) if row else None

    async def recent(self, topic_ids: Sequence[int] | None, limit: int = 20) -> list[Announcement]:
        if topic_ids is None:
            rows = await self._db.fetch_all("SELECT * FROM announcements ORDER BY id DESC LIMIT ?", (limit,))
        else:
            marks = ",".join("?" for _ in topic_ids) or "NULL"
            rows = await self._db.fetch_all(
                f"SELECT * FROM announcements WHERE topic_id IN ({marks}) ORDER BY id DESC LIMIT ?",
                (*topic_ids, limit))
        return [_announcement(row) for row in rows]

    async def transition(self, announcement_id: int, to: AnnouncementState, expected: Sequence[AnnouncementState],
                         now: datetime) -> bool:
        """Move to ``to`` only from one of ``expected``; False when another path got there first."""
        marks = ",".join("?" for _ in expected)
        sent_at = ", sent_at = ?" if to is AnnouncementState.SENDING else ""
        params: list[object] = [to.value]
        if sent_at:
            params.append(to_db_time(now))
        changed = await self._db.execute(
            f"UPDATE announcements SET state = ?{sent_at} WHERE id = ? AND state IN ({marks})",
            (*params, announcement_id, *(state.value for state in expected)))
        return changed > 0

    async def update_text(self, announcement_id: int, text: str, now: datetime) -> None:
        await self._db.execute(
            "UPDATE announcements SET text = ?, edited_at = ?, revision = revision + 1 WHERE id = ?",
            (text, to_db_time(now), announcement_id))

    async def set_send_at(self, announcement_id: int, send_at: datetime | None) -> None:
        await self._db.execute("UPDATE announcements SET send_at = ? WHERE id = ?",
                               (to_db_time(send_at) if send_at else None, announcement_id))

    async def due(self, now: datetime) -> list[Announcement]:
        rows = await self._db.fetch_all(
            "SELECT * FROM announcements WHERE state = 'scheduled' AND send_at <= ? ORDER BY send_at, id",
            (to_db_time(now),))
        return [_announcement(row) for row in rows]

    async def in_state(self, state: AnnouncementState) -> list[Announcement]:
        rows = await self._db.fetch_all("SELECT * FROM announcements WHERE state = ? ORDER BY id", (state.value,))
        return [_announcement(row) for row in rows]

    async def next_scheduled(self) -> datetime | None:
        row = await self._db.fetch_one("SELECT MIN(send_at) FROM announcements WHERE state = 'scheduled'")
        return from_db_time(row[0]) if row and row[0] else None

    # --- channels ------------------------------------------------------------------------------------

    async def bind_channel(self, purpose: ChannelPurpose, topic_id: int | None, platform: str, channel_id: str,
                           now: datetime) -> None:
        async with self._db.transaction():
            await self._db.execute(
                "DELETE FROM channel_bindings WHERE purpose = ? AND IFNULL(topic_id, 0) = ? AND platform = ?",
                (purpose, topic_id or 0, platform))
            await self._db.insert(
                "INSERT INTO channel_bindings (purpose, topic_id, platform, channel_id, created_at)"
                " VALUES (?, ?, ?, ?, ?)", (purpose, topic_id, platform, channel_id, to_db_time(now)))

    async def channels(self, purpose: ChannelPurpose, topic_id: int | None) -> list[ChannelBinding]:
        rows = await self._db.fetch_all(
            "SELECT platform, channel_id FROM channel_bindings WHERE purpose = ? AND IFNULL(topic_id, 0) = ?"
            " ORDER BY platform", (purpose, topic_id or 0))
        return [ChannelBinding(row["platform"], row["channel_id"]) for row in rows]

    # --- digests -------------------------------------------------------------------------------------

    async def queue_digest(self, rows: Sequence[tuple[int, int, DeliveryMode]], now: datetime) -> None:
        async with self._db.transaction():
            for person_id, announcement_id, mode in rows:
                await self._db.execute(
                    "INSERT OR IGNORE INTO digest_items (person_id, announcement_id, mode, created_at)"
                    " VALUES (?, ?, ?, ?)", (person_id, announcement_id, mode.value, to_db_time(now)))

    async def pending_digests(self) -> list[tuple[int, DeliveryMode, datetime]]:
        """(person, mode, oldest item) for everyone with items not yet in a digest."""
        rows = await self._db.fetch_all(
            "SELECT person_id, mode, MIN(created_at) AS oldest FROM digest_items WHERE digest_key IS NULL"
            " GROUP BY person_id, mode ORDER BY person_id, mode")
        return [(row["person_id"], DeliveryMode(row["mode"]), from_db_time(row["oldest"])) for row in rows]

    async def digest_items(self, person_id: int, mode: DeliveryMode, before: datetime) -> list[int]:
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

    async def release_missed_digests(self, now: datetime, reason: str) -> int:
        """A digest row still pending past its expiry (the next digest is due) is missed now, and the items of
        every missed digest, and of every digest that failed (a weekly digest outlasts the retry deadline), go
        back to the queue, so the next digest carries them. Returns items released."""
        stamp = to_db_time(now)
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE deliveries SET status = 'missed', reason = ?, sent_at = ? WHERE kind = ?"
                " AND status = 'pending' AND expires_at <= ?", (reason, stamp, DeliveryKind.DIGEST.value, stamp))
            # A digest row's key is the items' digest_key plus ":person:<id>" (Notifier.to_people).
            return await self._db.execute(
                "UPDATE digest_items SET digest_key = NULL WHERE (person_id, digest_key) IN"
                " (SELECT person_id, substr(dedupe_key, 1, instr(dedupe_key, ':person:') - 1) FROM deliveries"
                "  WHERE kind = ? AND person_id IS NOT NULL"
                "  AND ((status = 'missed' AND expires_at <= ?) OR status = 'failed'))",
                (DeliveryKind.DIGEST.value, stamp))

    async def digest_counts(self, announcement_id: int) -> tuple[int, int]:
        """(queued, already in a sent digest) for a delivery report."""
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS queued, COUNT(digest_key) AS digested FROM digest_items WHERE announcement_id = ?",
            (announcement_id,))
        return (int(row["queued"]), int(row["digested"])) if row else (0, 0)

    async def drop_undigested(self, announcement_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM digest_items WHERE announcement_id = ? AND digest_key IS NULL", (announcement_id,))

    # --- deliveries of one announcement --------------------------------------------------------------

    async def deliveries(self, announcement_id: int,
                         kind: DeliveryKind = DeliveryKind.ANNOUNCEMENT) -> list[Delivery]:
        rows = await self._db.fetch_all(
            "SELECT * FROM deliveries WHERE announcement_id = ? AND kind = ? ORDER BY id",
            (announcement_id, kind.value))
        return [row_to_delivery(row) for row in rows]

    async def cancel_pending(self, announcement_id: int, reason: str, now: datetime) -> int:
        return await self._db.execute(
            "UPDATE deliveries SET status = 'cancelled', reason = ?, sent_at = ?"
            " WHERE announcement_id = ? AND kind = ? AND status = 'pending'",
            (reason, to_db_time(now), announcement_id, DeliveryKind.ANNOUNCEMENT.value))

    async def open_deliveries(self, announcement_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) FROM deliveries WHERE announcement_id = ? AND kind = ?"
            " AND status IN ('pending', 'sending')", (announcement_id, DeliveryKind.ANNOUNCEMENT.value))
        return int(row[0]) if row else 0

    async def audience_counts(self, topic_id: int) -> list[tuple[DeliveryMode, str, int]]:
        """Subscribers by delivery mode and preferred platform, for the preview."""
        rows = await self._db.fetch_all(
            "SELECT s.mode, IFNULL(p.preferred_platform, '?') AS platform, COUNT(*) AS n FROM subscriptions s"
            " JOIN people p ON p.id = s.person_id WHERE s.topic_id = ? GROUP BY s.mode, platform"
            " ORDER BY s.mode, platform", (topic_id,))
        return [(DeliveryMode(row["mode"]), row["platform"], int(row["n"])) for row in rows]
