"""Reads and small writes for delivery reports: counts per platform, kind and status, missed rows to
summarise (and marking them summarised), a meeting's missed reminders, and re-queueing an announcement's
transiently failed rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.delivery.model import DeliveryKind, DeliveryStatus, parse_kind
from bot.delivery.outcomes import DeliveryCount, MissedDelivery, MissedReminder, ProblemDelivery, StatusCount
from bot.meetings.payloads import MEETING, OFFSET, START
from storage.database import Database, Dialect, to_db_time

_PROBLEMS = (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED, DeliveryStatus.MISSED)
# The platform a row went or goes through, as status reports count it (see DeliveryCount).
_VIA = ("COALESCE(d.sent_platform, d.attempt_platform, d.platform,"
        " (SELECT CASE WHEN COUNT(*) = 1 THEN MIN(i.platform) END FROM identities i WHERE i.person_id = d.person_id))")
_COUNT = ("SELECT " + _VIA + " AS via, d.kind, d.status, COUNT(*) AS n, SUM(d.retryable) AS retryable"
          " FROM deliveries d WHERE {where} GROUP BY via, d.kind, d.status ORDER BY via NULLS FIRST, d.kind, d.status")
# A meeting's missed reminders, grouped in SQL (one line per reminder, however many recipients it had), so the
# reminder payload's keys are read here by name: the names are ReminderPayload's own. PostgreSQL's ``->`` gives
# jsonb, which groups and sorts numbers as numbers, as SQLite's json_extract gives them.
_MISSED_REMINDERS: dict[Dialect, str] = {
    "sqlite": f"SELECT json_extract(payload, '$.{START}') AS reminder_start,"
              f" json_extract(payload, '$.{OFFSET}') AS reminder_offset, MIN(reason) AS reason, COUNT(*) AS copies"
              f" FROM deliveries WHERE status = 'missed' AND kind = ? AND json_extract(payload, '$.{MEETING}') = ?"
              " GROUP BY reminder_start, reminder_offset ORDER BY reminder_start DESC, reminder_offset DESC LIMIT ?",
    "postgresql": f"SELECT CAST(payload AS jsonb) -> '{START}' AS reminder_start,"
                  f" CAST(payload AS jsonb) -> '{OFFSET}' AS reminder_offset, MIN(reason) AS reason,"
                  " COUNT(*) AS copies FROM deliveries WHERE status = 'missed' AND kind = ?"
                  f" AND CAST(payload AS jsonb) -> '{MEETING}' = to_jsonb(CAST(? AS BIGINT))"
                  " GROUP BY reminder_start, reminder_offset"
                  " ORDER BY reminder_start DESC NULLS LAST, reminder_offset DESC NULLS LAST LIMIT ?",
}


class SqliteDeliveryReports:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def announcement_counts(self, announcement_id: int) -> list[DeliveryCount]:
        return await self._counts("d.announcement_id = ? AND d.kind = ?",
                                  (announcement_id, DeliveryKind.ANNOUNCEMENT.value))

    async def live_counts(self, announcement_id: int) -> list[StatusCount]:
        rows = await self._db.fetch_all(
            "SELECT status, SUM(n) AS n, SUM(CASE WHEN retryable = 1 THEN n ELSE 0 END) AS retryable"
            " FROM announcement_counts WHERE announcement_id = ? AND kind = ? GROUP BY status ORDER BY status",
            (announcement_id, DeliveryKind.ANNOUNCEMENT.value))
        return [StatusCount(DeliveryStatus(row["status"]), int(row["n"]), int(row["retryable"] or 0))
                for row in rows if row["n"]]

    async def copies_sent(self, announcement_id: int) -> int:
        """Copies that went out as messages of their own: a copy the counted row adopted (it fell back onto the
        copy's platform and took that message over) is the person's one message there, not one more."""
        row = await self._db.fetch_one(
            "SELECT COALESCE(SUM(n), 0) FROM announcement_counts WHERE announcement_id = ? AND kind = ? AND status = ?",
            (announcement_id, DeliveryKind.ANNOUNCEMENT_COPY.value, DeliveryStatus.SENT.value))
        total = int(row[0]) if row else 0
        if not total:
            return 0
        adopted = await self._db.fetch_one(
            "SELECT COUNT(*) FROM deliveries c WHERE c.announcement_id = ? AND c.kind = ? AND c.status = ?"
            " AND EXISTS (SELECT 1 FROM deliveries d WHERE d.announcement_id = c.announcement_id AND d.kind = ?"
            " AND d.person_id = c.person_id AND d.status = ? AND d.sent_platform = c.sent_platform"
            " AND d.sent_message_ids = c.sent_message_ids)",
            (announcement_id, DeliveryKind.ANNOUNCEMENT_COPY.value, DeliveryStatus.SENT.value,
             DeliveryKind.ANNOUNCEMENT.value, DeliveryStatus.SENT.value))
        return total - (int(adopted[0]) if adopted else 0)

    async def problems(self, announcement_id: int, limit: int) -> list[ProblemDelivery]:
        # One LIMITed range of the (announcement_id, status) index per status, merged: the cost follows
        # ``limit``, not how many copies failed.
        one = ("SELECT * FROM (SELECT id, status, person_id, platform, channel_id, reason FROM deliveries"
               " WHERE announcement_id = ? AND status = ? AND kind = ? ORDER BY id LIMIT ?)")
        rows = await self._db.fetch_all(
            f"SELECT d.*, p.display_name FROM ({one} UNION ALL {one} UNION ALL {one}) d"
            " LEFT JOIN people p ON p.id = d.person_id ORDER BY d.id LIMIT ?",
            (*(value for status in _PROBLEMS
               for value in (announcement_id, status.value, DeliveryKind.ANNOUNCEMENT.value, limit)), limit))
        return [ProblemDelivery(id=row["id"], status=DeliveryStatus(row["status"]), person_id=row["person_id"],
                                person_name=row["display_name"], platform=row["platform"],
                                channel_id=row["channel_id"], reason=row["reason"]) for row in rows]

    async def outbox_counts(self, ended_since: datetime) -> list[DeliveryCount]:
        # Rows that ended carry the time they ended in sent_at; created_at covers one that somehow has none.
        return await self._counts("d.status IN ('pending', 'sending') OR COALESCE(d.sent_at, d.created_at) >= ?",
                                  (to_db_time(ended_since),))

    async def _counts(self, where: str, params: Sequence[object]) -> list[DeliveryCount]:
        rows = await self._db.fetch_all(_COUNT.format(where=where), params)
        return [DeliveryCount(platform=row["via"], kind=parse_kind(row["kind"]), status=DeliveryStatus(row["status"]),
                              count=int(row["n"]), retryable=int(row["retryable"] or 0)) for row in rows]

    async def unreported_missed(self, limit: int, after_id: int = 0) -> list[MissedDelivery]:
        rows = await self._db.fetch_all(
            "SELECT id, kind, topic_id, announcement_id, payload, reason FROM deliveries"
            " WHERE status = 'missed' AND reported_at IS NULL AND id > ? ORDER BY id LIMIT ?", (after_id, limit))
        return [MissedDelivery(id=row["id"], kind=parse_kind(row["kind"]), topic_id=row["topic_id"],
                               announcement_id=row["announcement_id"], payload=row["payload"],
                               reason=row["reason"]) for row in rows]

    async def mark_reported(self, delivery_ids: Sequence[int], now: datetime) -> int:
        changed = 0
        async with self._db.transaction():
            for start in range(0, len(delivery_ids), 500):  # under SQLite's bound-parameter limit
                chunk = delivery_ids[start:start + 500]
                marks = ",".join("?" for _ in chunk)
                changed += await self._db.execute(
                    f"UPDATE deliveries SET reported_at = ? WHERE reported_at IS NULL AND id IN ({marks})",
                    (to_db_time(now), *chunk))
        return changed

    async def missed_reminders(self, meeting_id: int, limit: int) -> list[MissedReminder]:
        rows = await self._db.fetch_all(_MISSED_REMINDERS[self._db.dialect],
                                        (DeliveryKind.REMINDER.value, meeting_id, limit))
        return [MissedReminder(meeting_id=meeting_id, start=datetime.fromtimestamp(int(row["reminder_start"]), UTC),
                               offset_minutes=int(row["reminder_offset"]), reason=row["reason"],
                               copies=int(row["copies"]))
                for row in rows if row["reminder_start"] is not None and row["reminder_offset"] is not None]

    async def requeue_retryable(self, announcement_id: int, now: datetime) -> int:
        # `uncertain` stays: an earlier attempt may have landed, so the retry still reads back first.
        return await self._db.execute(
            "UPDATE deliveries SET status = 'pending', not_before = ?, retrying_since = NULL, retryable = 0,"
            " attempts = 0, sent_at = NULL WHERE announcement_id = ? AND status = 'failed' AND retryable = 1",
            (to_db_time(now), announcement_id))
