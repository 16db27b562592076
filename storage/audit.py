"""The audit log (``audit_log``): who changed what, with the value before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.audit import AuditAction, AuditEntry, AuditFilter, parse_action
from bot.audit.about import about
from storage.database import Database, Dialect, Row, from_db_time, to_db_time

# The subjects that belong to a topic besides the topic's own slug: its announcements, meetings, join
# requests and resources, each an indexed lookup of ``audit_log_subject`` (migration 0017). The engines' planners
# differ: SQLite reads the index once per alternative of the OR; PostgreSQL cannot turn an OR of IN-subqueries into
# index reads (it walks the log by id, filtering), but reads the index for each subject of one list.
_TOPIC_SUBJECTS: dict[Dialect, str] = {
    "sqlite": "a.subject = ?"
              " OR a.subject IN (SELECT 'announcement:' || id FROM announcements WHERE topic_id = ?)"
              " OR a.subject IN (SELECT 'meeting:' || id FROM meetings WHERE topic_id = ?)"
              " OR a.subject IN (SELECT 'request:' || id FROM subscription_requests WHERE topic_id = ?)"
              " OR a.subject IN (SELECT 'resource:' || resource_id FROM resource_topics WHERE topic_id = ?)",
    "postgresql": "a.subject IN (SELECT CAST(? AS TEXT)"
                  " UNION ALL SELECT 'announcement:' || id FROM announcements WHERE topic_id = ?"
                  " UNION ALL SELECT 'meeting:' || id FROM meetings WHERE topic_id = ?"
                  " UNION ALL SELECT 'request:' || id FROM subscription_requests WHERE topic_id = ?"
                  " UNION ALL SELECT 'resource:' || resource_id FROM resource_topics WHERE topic_id = ?)",
}
# The first entry since an instant, found by a range of ``audit_log_at``. SQLite is told to use that index (it
# would walk the primary key); PostgreSQL would turn MIN(id) into a walk of the primary key from the start, which
# a subquery it cannot flatten (OFFSET 0) prevents.
_FIRST_SINCE: dict[Dialect, str] = {
    "sqlite": "SELECT MIN(id) FROM audit_log INDEXED BY audit_log_at WHERE at >= ?",
    "postgresql": "SELECT MIN(id) FROM (SELECT id FROM audit_log WHERE at >= ? OFFSET 0) AS since",
}


class SqliteAudit:
    """The :class:`bot.audit.AuditStore` on the ``audit_log`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, actor_id: int | None, action: AuditAction, subject: str, before: str | None,
                     after: str | None, now: datetime) -> None:
        # Whom it is about (``about_id``, migration 0021): a request's requester is read here, as it is now, and
        # only someone who exists is recorded (as the migration does for older entries).
        who = about(subject, before, after)
        await self._db.insert(
            "INSERT INTO audit_log (actor_id, action, subject, before, after, at, about_id) VALUES (?, ?, ?, ?, ?, ?,"
            " (SELECT id FROM people WHERE id = COALESCE(?, (SELECT person_id FROM subscription_requests"
            " WHERE id = ?))))",
            (actor_id, action.value, subject, before, after, to_db_time(now), who.person_id, who.request_id),
        )

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        rows = await self._db.fetch_all("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        return [_entry(row) for row in rows]

    async def listing(self, only: AuditFilter, offset: int, limit: int) -> list[AuditEntry]:
        sql, params = listing_query(only, offset, limit, self._db.dialect)
        return [_entry(row, row["actor_name"]) for row in await self._db.fetch_all(sql, params)]


def listing_query(only: AuditFilter, offset: int, limit: int, dialect: Dialect) -> tuple[str, tuple[Any, ...]]:
    """The SQL and parameters of :meth:`SqliteAudit.listing` on ``dialect`` (apart, so a test can EXPLAIN it)."""
    where: list[str] = []
    params: list[Any] = []
    if only.person_id is not None:
        # Who acted, or whom it is about (a role given, an invitation, a request decided, a resource of theirs).
        where.append("(a.actor_id = ? OR a.about_id = ?)")
        params += [only.person_id, only.person_id]
    if only.topic_id is not None:
        where.append(f"({_TOPIC_SUBJECTS[dialect]})")
        params += [only.topic_slug, *[only.topic_id] * 4]
    if only.since is not None:
        # The first entry since then (a range of audit_log_at) bounds the ids: a range of the primary key, read
        # newest first, instead of a walk through the whole log.
        where.append(f"a.at >= ? AND a.id >= ({_FIRST_SINCE[dialect]})")
        params += [to_db_time(only.since)] * 2
    sql = ("SELECT a.*, p.display_name AS actor_name FROM audit_log a LEFT JOIN people p ON p.id = a.actor_id"
           f" {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY a.id DESC LIMIT ? OFFSET ?")
    return sql, (*params, limit, offset)


def _entry(row: Row, actor_name: str | None = None) -> AuditEntry:
    return AuditEntry(id=row["id"], actor_id=row["actor_id"], action=parse_action(row["action"]),
                      subject=row["subject"], before=row["before"], after=row["after"],
                      at=from_db_time(row["at"]), actor_name=actor_name)
