"""Announcements (``announcements``): their text, state and when to send them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from bot.announcements.model import Announcement, AnnouncementState
from storage.database import Database, from_db_time, opt_time, to_db_time


def _announcement(row: aiosqlite.Row) -> Announcement:
    return Announcement(
        id=row["id"], topic_id=row["topic_id"], author_id=row["author_id"], text=row["text"],
        state=AnnouncementState(row["state"]), send_at=opt_time(row["send_at"]),
        created_at=from_db_time(row["created_at"]), sent_at=opt_time(row["sent_at"]),
        edited_at=opt_time(row["edited_at"]), revision=row["revision"],
    )


class SqliteAnnouncements:
    """The :class:`bot.announcements.store.AnnouncementStore` on the ``announcements`` table."""

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
