"""Meetings, their materialised occurrences, RSVPs and the record of reminders already processed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.delivery.model import DeliveryKind, DeliveryPayload
from bot.meetings.model import (
    Answer,
    Meeting,
    MeetingState,
    NewMeeting,
    Occurrence,
    OccurrenceState,
    ReminderOutcome,
    Rsvp,
)
from storage.database import Database, Row, from_db_time, opt_time, to_db_time
from storage.public_ids import new_public_id

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
NEXT_WAKES_SQL = (
    "SELECT o.meeting_id, m.remind, o.start FROM meeting_occurrences o JOIN meetings m ON m.id = o.meeting_id"
    " WHERE m.state = 'active' AND o.state != 'cancelled' AND o.start > ? AND o.start <= ?{where}"
    " UNION SELECT o.meeting_id, MIN(m.remind), MIN(o.start) FROM meeting_occurrences o"
    " JOIN meetings m ON m.id = o.meeting_id WHERE m.state = 'active' AND o.state != 'cancelled' AND o.start > ?"
    "{where} GROUP BY o.meeting_id")
"""Every occurrence up to a horizon plus each meeting's next one (the bench reads it bare as its reference).
``MIN(m.remind)`` is the meeting's one value: PostgreSQL wants every ungrouped column aggregated, and grouping by it
would cost SQLite a sort."""


def _meeting(row: Row) -> Meeting:
    return Meeting(
        id=row["id"], topic_id=row["topic_id"], author_id=row["author_id"], title=row["title"],
        start_local=datetime.strptime(row["start_local"], LOCAL_FORMAT), zone=row["zone"],  # noqa: DTZ007
        duration_minutes=row["duration_minutes"], rrule=row["rrule"], link=row["link"],
        remind_minutes=tuple(int(m) for m in row["remind"].split(",") if m),
        state=MeetingState(row["state"]), revision=row["revision"],
        materialised_until=opt_time(row["materialised_until"]), created_at=from_db_time(row["created_at"]),
        public_id=row["public_id"],
    )


def _occurrence(row: Row) -> Occurrence:
    return Occurrence(meeting_id=row["meeting_id"], original_start=from_db_time(row["original_start"]),
                      start=from_db_time(row["start"]), state=OccurrenceState(row["state"]))


class SqliteMeetings:
    """The :class:`bot.meetings.store.MeetingStore` on the ``meetings``, ``meeting_occurrences``,
    ``meeting_rsvps`` and ``meeting_reminders`` tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- series -------------------------------------------------------------------------------------

    async def create(self, new: NewMeeting, now: datetime) -> Meeting:
        async with self._db.transaction():
            meeting_id = await self._db.insert(
                "INSERT INTO meetings (topic_id, author_id, title, start_local, zone, duration_minutes, rrule,"
                " link, remind, state, created_at, public_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                (new.topic_id, new.author_id, new.title, new.start_local.strftime(LOCAL_FORMAT), new.zone,
                 new.duration_minutes, new.rrule, new.link, ",".join(str(m) for m in new.remind_minutes),
                 to_db_time(now), new_public_id()))
            created = await self.get(meeting_id)
            assert created is not None
            return created

    async def get(self, meeting_id: int) -> Meeting | None:
        row = await self._db.fetch_one("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
        return _meeting(row) if row else None

    async def by_public_id(self, public_id: str) -> Meeting | None:
        row = await self._db.fetch_one("SELECT * FROM meetings WHERE public_id = ?", (public_id,))
        return _meeting(row) if row else None

    async def active(self, topic_ids: Sequence[int] | None = None) -> list[Meeting]:
        if topic_ids is None:
            rows = await self._db.fetch_all("SELECT * FROM meetings WHERE state = 'active' ORDER BY id")
        else:
            marks = ",".join("?" for _ in topic_ids) or "NULL"
            rows = await self._db.fetch_all(
                f"SELECT * FROM meetings WHERE state = 'active' AND topic_id IN ({marks}) ORDER BY id",
                tuple(topic_ids))
        return [_meeting(row) for row in rows]

    async def needing_materialisation(self, horizon: datetime) -> list[Meeting]:
        rows = await self._db.fetch_all(
            "SELECT * FROM meetings WHERE state = 'active' AND rrule IS NOT NULL"
            " AND (materialised_until IS NULL OR materialised_until < ?) ORDER BY id", (to_db_time(horizon),))
        return [_meeting(row) for row in rows]

    async def set_state(self, meeting_id: int, state: MeetingState, now: datetime) -> None:
        cancelled_at = to_db_time(now) if state is MeetingState.CANCELLED else None
        await self._db.execute(
            "UPDATE meetings SET state = ?, cancelled_at = ?, revision = revision + 1 WHERE id = ?",
            (state.value, cancelled_at, meeting_id))

    async def for_calendar(self, topic_id: int, cancelled_since: datetime) -> list[Meeting]:
        """A topic's active series, and those cancelled since ``cancelled_since`` (exported as cancelled)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM meetings WHERE topic_id = ? AND (state = 'active' OR cancelled_at >= ?) ORDER BY id",
            (topic_id, to_db_time(cancelled_since)))
        return [_meeting(row) for row in rows]

    async def set_start(self, meeting_id: int, start_local: datetime) -> None:
        await self._db.execute(
            "UPDATE meetings SET start_local = ?, materialised_until = NULL, revision = revision + 1 WHERE id = ?",
            (start_local.strftime(LOCAL_FORMAT), meeting_id))

    # --- occurrences --------------------------------------------------------------------------------

    async def materialise(self, meeting_id: int, starts: Sequence[datetime], until: datetime) -> None:
        """Add series occurrences (existing ones, with their cancelled/moved state, are kept)."""
        async with self._db.transaction():
            await self._db.execute_many(
                "INSERT INTO meeting_occurrences (meeting_id, original_start, start, state)"
                " VALUES (?, ?, ?, 'scheduled') ON CONFLICT DO NOTHING",
                [(meeting_id, to_db_time(s), to_db_time(s)) for s in starts])
            await self._db.execute("UPDATE meetings SET materialised_until = ? WHERE id = ?",
                                   (to_db_time(until), meeting_id))

    async def drop_future(self, meeting_id: int, after: datetime) -> int:
        """Forget occurrences from ``after`` on (a rescheduled series is materialised afresh)."""
        return await self._db.execute(
            "DELETE FROM meeting_occurrences WHERE meeting_id = ? AND original_start >= ?",
            (meeting_id, to_db_time(after)))

    async def occurrences(self, meeting_id: int, after: datetime | None = None,
                          limit: int = 1000) -> list[Occurrence]:
        """Every stored occurrence (cancelled ones too), by current start; ``after`` compares the end-less
        start."""
        rows = await self._db.fetch_all(
            "SELECT * FROM meeting_occurrences WHERE meeting_id = ? AND start >= ? ORDER BY start LIMIT ?",
            (meeting_id, to_db_time(after) if after else "", limit))
        return [_occurrence(row) for row in rows]

    async def upcoming(self, after: datetime, before: datetime,
                       topic_ids: Sequence[int] | None = None) -> list[tuple[Meeting, Occurrence]]:
        """Active meetings' occurrences (not cancelled) starting in ``[after, before)``, soonest first."""
        where = ""
        params: list[object] = [to_db_time(after), to_db_time(before)]
        if topic_ids is not None:
            where = f" AND m.topic_id IN ({','.join('?' for _ in topic_ids) or 'NULL'})"
            params.extend(topic_ids)
        rows = await self._db.fetch_all(
            "SELECT m.*, o.original_start AS o_original, o.start AS o_start, o.state AS o_state"
            " FROM meeting_occurrences o JOIN meetings m ON m.id = o.meeting_id"
            " WHERE o.start >= ? AND o.start < ? AND o.state != 'cancelled' AND m.state = 'active'"
            f"{where} ORDER BY o.start, m.id", tuple(params))
        return [(_meeting(row), Occurrence(row["id"], from_db_time(row["o_original"]), from_db_time(row["o_start"]),
                                           OccurrenceState(row["o_state"]))) for row in rows]

    async def set_occurrence(self, meeting_id: int, original_start: datetime, start: datetime,
                             state: OccurrenceState) -> None:
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO meeting_occurrences (meeting_id, original_start, start, state) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (meeting_id, original_start) DO UPDATE SET start = excluded.start,"
                " state = excluded.state",
                (meeting_id, to_db_time(original_start), to_db_time(start), state.value))
            # A moved or cancelled occurrence changes the series' calendar entry (EXDATE, RECURRENCE-ID): its
            # SEQUENCE (revision - 1 in bot/meetings/ics.py) must grow, as for a reschedule or a cancel.
            await self._db.execute("UPDATE meetings SET revision = revision + 1 WHERE id = ?", (meeting_id,))

    async def next_wakes(self, now: datetime, horizon: datetime,
                         meeting_id: int | None = None) -> list[tuple[int, tuple[int, ...], datetime]]:
        """(meeting, reminder offsets, start) for active meetings' occurrences after ``now``: every one up to
        ``horizon``, and at least each meeting's next one. The scheduler arms its wake-ups from these."""
        where, params = ("", ()) if meeting_id is None else (" AND o.meeting_id = ?", (meeting_id,))
        after, until = to_db_time(now), to_db_time(horizon)
        rows = await self._db.fetch_all(NEXT_WAKES_SQL.format(where=where),
                                        (after, until, *params, after, *params))
        return [(row[0], tuple(int(m) for m in row[1].split(",") if m), from_db_time(row[2])) for row in rows]

    # --- RSVPs --------------------------------------------------------------------------------------

    async def put_rsvp(self, meeting_id: int, person_id: int, occurrence: datetime | None, answer: Answer,
                       now: datetime) -> None:
        async with self._db.transaction():
            if occurrence is None:  # an answer for every occurrence replaces the single ones
                await self._db.execute("DELETE FROM meeting_rsvps WHERE meeting_id = ? AND person_id = ?",
                                       (meeting_id, person_id))
            await self._db.execute(
                "INSERT INTO meeting_rsvps (meeting_id, person_id, occurrence, answer, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (meeting_id, person_id, occurrence)"
                " DO UPDATE SET answer = excluded.answer, updated_at = excluded.updated_at",
                (meeting_id, person_id, to_db_time(occurrence) if occurrence else "", answer.value,
                 to_db_time(now)))

    async def rsvps(self, meeting_id: int) -> list[Rsvp]:
        rows = await self._db.fetch_all(
            "SELECT * FROM meeting_rsvps WHERE meeting_id = ? ORDER BY person_id, occurrence", (meeting_id,))
        return [Rsvp(row["meeting_id"], row["person_id"],
                     from_db_time(row["occurrence"]) if row["occurrence"] else None, Answer(row["answer"]))
                for row in rows]

    # --- reminders ----------------------------------------------------------------------------------

    async def record_reminder(self, occurrence: Occurrence, offset_minutes: int, outcome: ReminderOutcome,
                              now: datetime) -> bool:
        """Claim one reminder; False when it was processed before (so it is never sent twice)."""
        return await self._db.execute(
            "INSERT INTO meeting_reminders (meeting_id, original_start, start, offset_minutes, outcome,"
            " processed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (occurrence.meeting_id, to_db_time(occurrence.original_start), to_db_time(occurrence.start),
             offset_minutes, outcome.value, to_db_time(now))) > 0

    async def processed_since(self, since: datetime) -> set[tuple[int, datetime, datetime, int]]:
        """(meeting, original start, start, offset) of every reminder processed for occurrences after ``since``."""
        rows = await self._db.fetch_all(
            "SELECT meeting_id, original_start, start, offset_minutes FROM meeting_reminders WHERE start >= ?",
            (to_db_time(since),))
        return {(row[0], from_db_time(row[1]), from_db_time(row[2]), int(row[3])) for row in rows}

    async def processed_reminders(self, meeting_id: int) -> list[tuple[datetime, int, ReminderOutcome]]:
        rows = await self._db.fetch_all(
            "SELECT start, offset_minutes, outcome FROM meeting_reminders WHERE meeting_id = ? ORDER BY start,"
            " offset_minutes DESC", (meeting_id,))
        return [(from_db_time(row[0]), int(row[1]), ReminderOutcome(row[2])) for row in rows]

    async def record_skipped_delivery(self, dedupe_key: str, person_id: int, topic_id: int,
                                      payload: DeliveryPayload, reason: str, now: datetime) -> None:
        """A reminder missed while the bot was down is still an outbox row, ``missed`` with its reason (so it is
        reported to the topic's coordinators and counted in status reports)."""
        stamp = to_db_time(now)
        await self._db.execute(
            "INSERT INTO deliveries (dedupe_key, kind, person_id, topic_id, payload, status, reason,"
            " not_before, created_at, sent_at) VALUES (?, ?, ?, ?, ?, 'missed', ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (dedupe_key, DeliveryKind.REMINDER.value, person_id, topic_id, payload.to_json(), reason, stamp, stamp,
             stamp))
