"""RFC 5545 export of meetings with icalendar: one VEVENT per series (DTSTART in the meeting's own zone,
VTIMEZONE, RRULE, EXDATE for cancelled occurrences) plus one per moved occurrence (RECURRENCE-ID).

UIDs are stable (``meeting-<public id>@<coalition-slug>``: the same in a chat export and a public calendar, and
never the row number, which would count the members-only meetings) and SEQUENCE follows the meeting's revision,
so a calendar app that imports the file again updates the event instead of duplicating it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from icalendar import Calendar, Event, vRecur
from icalendar.enums import STATUS

from bot.meetings.model import Meeting, MeetingState, Occurrence, OccurrenceState
from bot.meetings.recurrence import first_local, to_utc

__all__ = ["calendar_for", "coalition_slug", "meeting_uid"]

PRODID = "-//coalition-bot//meetings//EN"


def coalition_slug(name: str) -> str:
    """``Demo Coalition`` → ``demo-coalition``: the domain part of stable .ics UIDs."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "coalition"


def meeting_uid(meeting: Meeting, coalition_slug: str) -> str:
    return f"meeting-{meeting.public_id}@{coalition_slug}"


def calendar_for(meetings: Sequence[tuple[Meeting, Sequence[Occurrence]]], coalition_slug: str, now: datetime,
                 *, name: str | None = None) -> bytes:
    """The .ics bytes for these meetings, each with its stored occurrences (for EXDATE/RECURRENCE-ID)."""
    calendar = Calendar.new(prodid=PRODID, name=name)
    for meeting, occurrences in meetings:
        for event in _events(meeting, occurrences, coalition_slug, now):
            calendar.add_component(event)
    years = [m.start_local.year for m, _ in meetings] or [now.year]
    calendar.add_missing_timezones(first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 3, 1, 1))
    data: bytes = calendar.to_ical()
    return data


def _events(meeting: Meeting, occurrences: Sequence[Occurrence], slug: str, now: datetime) -> list[Event]:
    tz = meeting.tz
    first = first_local(meeting.start_local, tz, meeting.rrule)
    start = to_utc(first, tz).astimezone(tz)
    # A series whose first wall-clock time falls in a DST gap keeps that time on the other days, so DTSTART
    # names it (RFC 5545 reads a time that does not exist with the offset before the gap, as the bot does),
    # with a DURATION: an end on the wall clock would make that first meeting longer by the gap.
    in_gap = meeting.rrule is not None and start.replace(tzinfo=None) != first
    uid = meeting_uid(meeting, slug)
    master = Event.new(uid=uid, summary=meeting.title, start=first.replace(tzinfo=tz) if in_gap else start,
                       end=None if in_gap else start + meeting.duration,
                       stamp=now, sequence=meeting.revision - 1, url=meeting.link or None,
                       status=STATUS.CANCELLED if meeting.state is MeetingState.CANCELLED else STATUS.CONFIRMED)
    if in_gap:
        master.add("duration", meeting.duration)
    if meeting.link:
        master.add("location", meeting.link)
    if meeting.rrule is not None:
        master.add("rrule", vRecur.from_ical(meeting.rrule))
        cancelled = [o.original_start.astimezone(tz) for o in occurrences if o.state is OccurrenceState.CANCELLED]
        if cancelled:
            master.add("exdate", cancelled)
    events = [master]
    for occurrence in occurrences:
        if occurrence.state is not OccurrenceState.MOVED:
            continue
        moved_start = occurrence.start.astimezone(tz)
        if meeting.rrule is None:  # a one-off meeting moved: the event itself moves
            master.DTSTART = moved_start
            master.DTEND = moved_start + meeting.duration
            continue
        events.append(Event.new(uid=uid, summary=meeting.title, start=moved_start,
                                end=moved_start + meeting.duration, stamp=now, sequence=meeting.revision - 1,
                                recurrence_id=occurrence.original_start.astimezone(tz),
                                url=meeting.link or None))
    return events
