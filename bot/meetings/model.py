"""Value objects for meetings: a series stored as local wall-clock start + IANA zone, and its materialised
occurrences as UTC instants. Frozen, typed, platform-free."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class MeetingState(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class OccurrenceState(StrEnum):
    SCHEDULED = "scheduled"
    MOVED = "moved"
    CANCELLED = "cancelled"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


class RsvpScope(StrEnum):
    """How far an RSVP reaches when ``all`` is given: every occurrence of the series (else the next one)."""

    ALL = "all"


class ReminderOutcome(StrEnum):
    """How one (occurrence, offset) reminder was settled; stored as this text in ``meeting_reminders``."""

    SENT = "sent"
    """Queued on time."""
    LATE = "late"
    """Queued after its time (the bot was down), marked late, before the meeting started."""
    MISSED = "missed"
    """Not sent: the meeting had started; a ``missed`` outbox row says why."""
    NOT_DUE = "not-due"
    """Never due: its time had passed before the occurrence was created or moved."""
    SUPERSEDED = "superseded"
    """Not sent although late: a reminder closer to the start was due within minutes."""


@dataclass(frozen=True, slots=True)
class NewMeeting:
    topic_id: int
    author_id: int
    title: str
    start_local: datetime
    """Naive wall-clock time of the first occurrence, in ``zone``."""
    zone: str
    duration_minutes: int
    rrule: str | None
    link: str | None
    remind_minutes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Meeting(NewMeeting):
    """A stored series: what its coordinator said, and its state."""

    id: int
    state: MeetingState
    revision: int
    materialised_until: datetime | None
    created_at: datetime
    public_id: str
    """16 random hex digits naming it on the public web and in calendar UIDs (a row number would count the
    members-only meetings)."""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence. ``original_start`` is where the series put it (the .ics RECURRENCE-ID); ``start`` is
    where it is now (different when moved)."""

    meeting_id: int
    original_start: datetime
    start: datetime
    state: OccurrenceState


@dataclass(frozen=True, slots=True)
class Rsvp:
    meeting_id: int
    person_id: int
    occurrence: datetime | None
    """The occurrence's ``original_start``; ``None`` for an answer that applies to every occurrence."""
    answer: Answer


@dataclass(frozen=True, slots=True)
class MeetingConfig:
    window: timedelta = timedelta(days=60)
    """How far ahead occurrences are materialised; extended by :meth:`MeetingService.run_due`."""
    max_ahead: timedelta = timedelta(days=366)
    late_grace: timedelta = timedelta(minutes=2)
    """A reminder processed later than this after its time is marked late."""
    lookback: timedelta = timedelta(days=14)
    """How far back a restart still looks for reminders to record as missed."""


@dataclass(frozen=True, slots=True)
class MeetingInput:
    """What ``meeting create`` asks for, already parsed (times aware; the zone's ``key`` is its IANA name)."""

    title: str
    start: datetime
    zone: ZoneInfo
    duration: timedelta
    repeat: str | None
    remind_minutes: tuple[int, ...]
    link: str | None
    wall_clock: datetime | None = None
    """The naive wall-clock start as typed in ``zone``, when the text named one: it can differ from ``start``
    on the wall clock when it falls in a DST gap, and a series keeps the typed time on the other days."""


def epoch(instant: datetime) -> int:
    """Whole seconds since 1970: how instants appear in dedupe keys and reminder payloads."""
    return int(instant.timestamp())
