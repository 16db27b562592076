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
