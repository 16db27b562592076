"""Retention: deleting what is older than ``[privacy]`` allows (finished delivery rows, Discord's send-attempt
records, audit entries, past meetings) and what is worthless (used or expired link codes, old wrong-code records),
and when the daily prune last ran (``scheduled_runs``). Implements
:class:`bot.retention.RetentionStore`.

Deletes go in short chunks, each its own transaction, so a large first prune never holds the write lock long
enough to delay the delivery worker; a crash between chunks loses nothing (the next run carries on). The
statements are module constants, so a test can EXPLAIN exactly what runs (each chunk an index range)."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.database import Database, from_db_time, opt_time, to_db_time

CHUNK = 500
_FINISHED = "('sent', 'failed', 'cancelled', 'skipped', 'missed')"
# A missed row not yet summarised for the admins (reported_at) is still needed by the missed report.
_PRUNABLE = f"status IN {_FINISHED} AND NOT (status = 'missed' AND reported_at IS NULL)"

PRUNE_UNANNOUNCED = (
    "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE announcement_id IS NULL"
    f" AND COALESCE(sent_at, created_at) < ? AND {_PRUNABLE} LIMIT ?)")
"""One chunk of the rows of no announcement (reminders, notices, digests) that ended before the cutoff."""
FINISHED_ANNOUNCEMENTS = (
    "SELECT id FROM announcements a WHERE state IN ('sent', 'cancelled', 'missed') AND fanout_cursor IS NULL"
    " AND COALESCE(edited_at, sent_at, created_at) < ?"
    " AND EXISTS (SELECT 1 FROM deliveries d WHERE d.announcement_id = a.id)"
    " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.announcement_id = a.id"
    "                 AND d.status IN ('pending', 'sending'))")
"""The announcements that finished before the cutoff and still have rows."""
PRUNE_ANNOUNCED = (
    # Channel posts stay (a handful per announcement): an edit or cancel later must still reach the public
    # channel and topic channels; DM copies older than the window can no longer be changed.
    "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE announcement_id = ?"
    f" AND person_id IS NOT NULL AND {_PRUNABLE} LIMIT ?)")
"""One chunk of one finished announcement's DM copies."""
PRUNE_SEND_ATTEMPTS = (
    "DELETE FROM discord_send_attempts WHERE delivery_key IN (SELECT s.delivery_key FROM discord_send_attempts s"
    " WHERE s.first_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.dedupe_key = s.delivery_key"
    " AND d.status IN ('pending', 'sending')) LIMIT ?)")
"""One chunk of the first-attempt records made before the cutoff, but a still open delivery's."""
PRUNE_AUDIT = "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? LIMIT ?)"
"""One chunk of the audit entries written before the cutoff."""
PRUNE_LINK_CODES = (
    "DELETE FROM link_codes WHERE id IN (SELECT id FROM link_codes WHERE state = 'used' OR expires_at < ? LIMIT ?)")
"""One chunk of the link codes used or expired before the cutoff. A scan of ``link_codes``: the table has no index
on ``expires_at`` (migration 0019), but it holds at most one code per identity, and issuing a code prunes it too."""
PRUNE_LINK_ATTEMPTS = (
    "DELETE FROM link_attempts WHERE id IN (SELECT id FROM link_attempts WHERE at < ? LIMIT ?)")
"""One chunk of the wrong link codes typed before the cutoff (a range of ``link_attempts_at``)."""


class SqliteRetention:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def last_run(self, job: str) -> datetime | None:
        row = await self._db.fetch_one("SELECT last_run FROM scheduled_runs WHERE job = ?", (job,))
        return from_db_time(row["last_run"]) if row else None

    async def mark_run(self, job: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO scheduled_runs (job, last_run) VALUES (?, ?)"
            " ON CONFLICT (job) DO UPDATE SET last_run = excluded.last_run", (job, to_db_time(now)))

    async def prune_deliveries(self, ended_before: datetime) -> int:
        """Finished rows that ended before ``ended_before``: rows of no announcement by their own end, an
        announcement's rows only once the announcement itself finished (sent, cancelled or missed, its fan-out
        complete, nothing pending or sending) before then. Its counters are left as they are, so its report
        says the same afterwards (see migration 0017)."""
        cutoff = to_db_time(ended_before)
        pruned = await self._chunks(PRUNE_UNANNOUNCED, (cutoff,))
        for row in await self._db.fetch_all(FINISHED_ANNOUNCEMENTS, (cutoff,)):
            pruned += await self._chunks(PRUNE_ANNOUNCED, (row["id"],), keep_counts=True)
        return pruned

    async def prune_send_attempts(self, before: datetime) -> int:
        return await self._chunks(PRUNE_SEND_ATTEMPTS, (to_db_time(before),))

    async def prune_audit(self, before: datetime) -> int:
        return await self._chunks(PRUNE_AUDIT, (to_db_time(before),))

    async def prune_link_codes(self, expired_before: datetime) -> int:
        return await self._chunks(PRUNE_LINK_CODES, (to_db_time(expired_before),))

    async def prune_link_attempts(self, before: datetime) -> int:
        return await self._chunks(PRUNE_LINK_ATTEMPTS, (to_db_time(before),))

    async def prune_meetings(self, ended_before: datetime) -> int:
        """Meetings whose last occurrence ended (or that were cancelled or created, whichever is later) before
        ``ended_before``, with their occurrences, RSVPs and reminder records. A recurring series still active is
        kept: its next occurrences may not be written yet."""
        rows = await self._db.fetch_all(
            "SELECT m.id, m.duration_minutes, m.created_at, m.cancelled_at, MAX(o.start) AS last_start"
            " FROM meetings m LEFT JOIN meeting_occurrences o ON o.meeting_id = m.id"
            " WHERE m.rrule IS NULL OR m.state = 'cancelled' GROUP BY m.id")
        pruned = 0
        for row in rows:
            ends = [from_db_time(row["created_at"])]
            cancelled = opt_time(row["cancelled_at"])
            if cancelled is not None:
                ends.append(cancelled)
            last_start = opt_time(row["last_start"])
            if last_start is not None:
                ends.append(last_start + timedelta(minutes=int(row["duration_minutes"])))
            if max(ends) >= ended_before:
                continue
            async with self._db.transaction():
                for table in ("meeting_reminders", "meeting_rsvps", "meeting_occurrences"):
                    await self._db.execute(f"DELETE FROM {table} WHERE meeting_id = ?", (row["id"],))
                pruned += await self._db.execute("DELETE FROM meetings WHERE id = ?", (row["id"],))
        return pruned

    async def _chunks(self, delete: str, params: tuple[object, ...], *, keep_counts: bool = False) -> int:
        """Run ``delete`` (its last parameter the chunk size) until a chunk deletes less than a chunk."""
        total = 0
        while True:
            async with self._db.transaction():
                if keep_counts:
                    await self._db.execute("INSERT INTO retention_pruning (active) VALUES (1)")
                deleted = await self._db.execute(delete, (*params, CHUNK))
                if keep_counts:
                    await self._db.execute("DELETE FROM retention_pruning")
            total += deleted
            if deleted < CHUNK:
                return total
