"""The store the meetings feature needs. :class:`bot.ports.Store` names it; ``storage/meetings.py`` implements it.

What every store method may raise beyond what it names (the database failing, a foreign key, a naive
``datetime``) is said once in :mod:`bot.ports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.delivery.model import DeliveryPayload
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


class MeetingStore(Protocol):
    """Meeting series, their materialised occurrences (UTC instants), RSVPs and processed reminders."""

    async def create(self, new: NewMeeting, now: datetime) -> Meeting:
        """Returns a new active series, no occurrence stored yet. Raises nothing of its own."""
        ...

    async def get(self, meeting_id: int) -> Meeting | None:
        """Returns the series in any state, or ``None`` for an unknown id. Raises nothing of its own."""
        ...

    async def by_public_id(self, public_id: str) -> Meeting | None:
        """Returns the row whose public id (:attr:`Meeting.public_id`) this is, in any state, or ``None``. Raises
        nothing of its own."""
        ...

    async def active(self, topic_ids: Sequence[int] | None = None) -> list[Meeting]:
        """Returns active series of these topics (``None``: all topics), by id. Raises nothing of its own."""
        ...

    async def needing_materialisation(self, horizon: datetime) -> list[Meeting]:
        """Returns active recurring series whose occurrences are stored up to before ``horizon`` (or not at all), by
        id. Raises nothing of its own."""
        ...

    async def set_state(self, meeting_id: int, state: MeetingState, now: datetime) -> None:
        """Set the series' state (stamping ``now`` when cancelled) and count a revision. An unknown id changes
        nothing; returns nothing and raises nothing of its own."""
        ...

    async def for_calendar(self, topic_id: int, cancelled_since: datetime) -> list[Meeting]:
        """Returns a topic's active series, and those cancelled since ``cancelled_since``, by id. Raises nothing of its
        own."""
        ...

    async def set_start(self, meeting_id: int, start_local: datetime) -> None:
        """Move the series' local start, forget how far it was materialised and count a revision. An unknown id
        changes nothing; returns nothing and raises nothing of its own."""
        ...

    async def materialise(self, meeting_id: int, starts: Sequence[datetime], until: datetime) -> None:
        """Add series occurrences and record them stored up to ``until``; existing ones keep their
        cancelled/moved state. Returns nothing; raises nothing of its own."""
        ...

    async def drop_future(self, meeting_id: int, after: datetime) -> int:
        """Forget the occurrences originally starting at or after ``after`` (a rescheduled series is
        materialised afresh); returns how many. Raises nothing of its own."""
        ...

    async def occurrences(self, meeting_id: int, after: datetime | None = None,
                          limit: int = 1000) -> list[Occurrence]:
        """Returns at most ``limit`` stored occurrences (cancelled ones too) starting at or after ``after`` (``None``:
        all), by current start. Raises nothing of its own."""
        ...

    async def upcoming(self, after: datetime, before: datetime,
                       topic_ids: Sequence[int] | None = None) -> list[tuple[Meeting, Occurrence]]:
        """Returns active series' occurrences (not cancelled) starting in ``[after, before)``, of these topics
        (``None``: all), soonest first. Raises nothing of its own."""
        ...

    async def set_occurrence(self, meeting_id: int, original_start: datetime, start: datetime,
                             state: OccurrenceState) -> None:
        """Store one occurrence (keyed by its original start) as moved to ``start`` in ``state``, creating it
        when it was not stored, and count a revision of the series (its calendar SEQUENCE). Returns nothing;
        raises nothing of its own."""
        ...

    async def next_wakes(self, now: datetime, horizon: datetime,
                         meeting_id: int | None = None) -> list[tuple[int, tuple[int, ...], datetime]]:
        """Returns (meeting, reminder offsets, start) for active series' occurrences after ``now`` (of one series, or
        all with ``None``): every one up to ``horizon``, and at least each series' next one. Raises nothing of
        its own."""
        ...

    async def put_rsvp(self, meeting_id: int, person_id: int, occurrence: datetime | None, answer: Answer,
                       now: datetime) -> None:
        """Record the person's answer for one occurrence (by original start), or for all (``None``: it
        replaces their answers for single ones). Returns nothing; raises nothing of its own."""
        ...

    async def rsvps(self, meeting_id: int) -> list[Rsvp]:
        """Returns every answer for the series, by person, an answer for all before those for single occurrences.
        Raises nothing of its own."""
        ...

    async def record_reminder(self, occurrence: Occurrence, offset_minutes: int, outcome: ReminderOutcome,
                              now: datetime) -> bool:
        """Claim one (occurrence, offset) reminder with how it was settled; returns False when it was processed
        before (so it is never sent twice). Raises nothing of its own."""
        ...

    async def processed_since(self, since: datetime) -> set[tuple[int, datetime, datetime, int]]:
        """Returns (meeting, original start, start, offset) of every reminder processed for occurrences starting at
        or after ``since``. Raises nothing of its own."""
        ...

    async def processed_reminders(self, meeting_id: int) -> list[tuple[datetime, int, ReminderOutcome]]:
        """Returns (start, offset, outcome) of every reminder processed for the series, by start, the largest offset
        first. Raises nothing of its own."""
        ...

    async def record_skipped_delivery(self, dedupe_key: str, person_id: int, topic_id: int,
                                      payload: DeliveryPayload, reason: str, now: datetime) -> None:
        """Add a reminder missed while the bot was down to the outbox as ended ``missed`` with ``reason`` (so it is
        reported and counted); a key already in the outbox is left as it is. Returns nothing; raises nothing of its
        own."""
        ...
