"""The audit log (``audit_log``): who changed what, with the value before and after."""

from __future__ import annotations

from datetime import datetime

from bot.audit import AuditAction, AuditEntry, parse_action
from storage.database import Database, from_db_time, to_db_time


class SqliteAudit:
    """The :class:`bot.audit.AuditStore` on the ``audit_log`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, actor_id: int | None, action: AuditAction, subject: str, before: str | None,
                     after: str | None, now: datetime) -> None:
        await self._db.insert(
            "INSERT INTO audit_log (actor_id, action, subject, before, after, at) VALUES (?, ?, ?, ?, ?, ?)",
            (actor_id, action.value, subject, before, after, to_db_time(now)),
        )

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        rows = await self._db.fetch_all("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        return [AuditEntry(id=row["id"], actor_id=row["actor_id"], action=parse_action(row["action"]),
                           subject=row["subject"], before=row["before"], after=row["after"],
                           at=from_db_time(row["at"])) for row in rows]
