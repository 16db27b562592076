"""The .ics export parsed back with icalendar and recurring-ical-events gives the bot's own occurrences,
including across DST changes, with cancelled (EXDATE) and moved (RECURRENCE-ID) occurrences."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import recurring_ical_events
from icalendar import Calendar

from bot.meetings.model import OccurrenceState
from tests.support import Harness


async def _export(h: Harness, meeting_id: int) -> Calendar:
    reply = await h.say("demo-outsider", f"meeting ics {meeting_id}")
    assert reply.message.attachment is not None
    assert reply.message.attachment.content_type == "text/calendar"
    calendar = Calendar.from_ical(reply.message.attachment.data)
    assert isinstance(calendar, Calendar)
    return calendar


async def _compare(h: Harness, meeting_id: int) -> list[datetime]:
    """Assert the calendar's occurrences equal the bot's within the materialised window; return them."""
    calendar = await _export(h, meeting_id)
    meeting = await h.app.store.meetings.get(meeting_id)
    assert meeting is not None and meeting.materialised_until is not None
    ours = [o.start for o in await h.app.store.meetings.occurrences(meeting_id)
            if o.state is not OccurrenceState.CANCELLED and o.start < meeting.materialised_until]
    events = recurring_ical_events.of(calendar).between(h.clock.now(), meeting.materialised_until)
    theirs = sorted(event.DTSTART.astimezone(UTC) for event in events)
    assert theirs == sorted(ours)
    return theirs


async def _uid(h: Harness, meeting: int) -> str:
    """The stable UID of meeting number ``meeting``: its public id, never the row number (that would count the
    members-only meetings in a public calendar)."""
    found = await h.app.store.meetings.get(meeting)
    assert found is not None and re.fullmatch("[0-9a-f]{16}", found.public_id)
    return f"meeting-{found.public_id}@demo-coalition"


@pytest.mark.parametrize(("zone", "first", "now"), [
    ("Europe/Copenhagen", "2027-03-22 00:00", datetime(2027, 3, 1, tzinfo=UTC)),  # spring change
    ("Europe/Copenhagen", "2027-10-25 02:30", datetime(2027, 10, 1, tzinfo=UTC)),  # autumn, repeated hour
    ("America/New_York", "2027-03-10 02:30", datetime(2027, 3, 1, tzinfo=UTC)),  # spring gap
    ("Europe/Copenhagen", "2027-03-28 02:30", datetime(2027, 3, 1, tzinfo=UTC)),  # the first one in the gap
    ("America/New_York", "2027-11-01 01:30", datetime(2027, 10, 20, tzinfo=UTC)),  # autumn, repeated hour
    ("Australia/Sydney", "2027-10-01 09:00", datetime(2027, 9, 20, tzinfo=UTC)),  # spring (October)
    ("Australia/Sydney", "2027-04-01 02:30", datetime(2027, 3, 20, tzinfo=UTC)),  # autumn, repeated hour
    ("Africa/Nairobi", "2027-03-22 09:00", datetime(2027, 3, 1, tzinfo=UTC)),
])
async def test_daily_series_round_trips_across_dst(h: Harness, zone: str, first: str, now: datetime) -> None:
    h.clock.current = now
    reply = await h.text("demo-coordinator", f"meeting create disinformation Daily {first} repeat:daily zone:{zone}")
    assert "is scheduled" in reply
    assert len(await _compare(h, 2)) > 20


async def test_a_start_the_rule_skips_is_not_an_extra_calendar_occurrence(h: Harness) -> None:
    """RFC 5545 counts DTSTART as an occurrence; a Monday start for a tue,thu rule must not add a Monday."""
    h.clock.current = datetime(2027, 1, 1, tzinfo=UTC)
    await h.text("demo-coordinator", "meeting create disinformation Sync 2027-01-11 14:00 repeat:tue,thu "
                                     "zone:Europe/Copenhagen")
    theirs = await _compare(h, 2)
    assert theirs[0] == datetime(2027, 1, 12, 13, 0, tzinfo=UTC)


async def test_cancelled_and_moved_occurrences_and_stable_uid(h: Harness) -> None:
    await h.text("demo-coordinator", "meeting create disinformation Weekly 2026-11-26 10:00 repeat:tue,thu "
                                     "zone:Europe/Brussels link:https://meet.example.org/w")
    await h.say("demo-coordinator", "meeting cancel 2 occurrence:2026-12-01")
    await h.say("demo-coordinator", "meeting reschedule 2 2026-12-04 16:00 occurrence:2026-12-03")  # Brussels time
    calendar = await _export(h, 2)
    events = calendar.walk("VEVENT")
    assert {str(e["UID"]) for e in events} == {await _uid(h, 2)}
    master = next(e for e in events if "RRULE" in e)
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=TU,TH"
    assert str(master.DTSTART.tzinfo) == "Europe/Brussels"
    exdates = [d.dt for exdate in ([master["EXDATE"]] if not isinstance(master["EXDATE"], list)
                                    else master["EXDATE"]) for d in exdate.dts]
    assert [d.astimezone(UTC) for d in exdates] == [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    moved = next(e for e in events if "RECURRENCE-ID" in e)
    assert moved["RECURRENCE-ID"].dt.astimezone(UTC) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert moved.DTSTART.astimezone(UTC) == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert calendar.walk("VTIMEZONE"), "VTIMEZONE for Europe/Brussels"
    assert not calendar.errors and not any(e.errors for e in events)
    starts = await _compare(h, 2)
    assert datetime(2026, 12, 1, 9, 0, tzinfo=UTC) not in starts
    assert datetime(2026, 12, 4, 15, 0, tzinfo=UTC) in starts
    again = await _export(h, 2)
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == {await _uid(h, 2)}


async def test_one_off_and_topic_calendar(h: Harness) -> None:
    await h.text("demo-coordinator", "meeting create disinformation Once 2026-12-02 10:00 zone:America/New_York "
                                     "duration:90m")
    calendar = await _export(h, 2)
    (event,) = calendar.walk("VEVENT")
    assert "RRULE" not in event
    assert event.DTSTART.astimezone(UTC) == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    assert (event.DTEND - event.DTSTART).total_seconds() == 5400
    await _compare(h, 2)
    reply = await h.say("demo-member", "meeting calendar disinformation")
    assert reply.message.attachment is not None
    topic_calendar = Calendar.from_ical(reply.message.attachment.data)
    assert {str(e["UID"]) for e in topic_calendar.walk("VEVENT")} == {await _uid(h, 1), await _uid(h, 2)}


async def test_a_cancelled_series_stays_in_the_topic_calendar_marked_cancelled(h: Harness) -> None:
    """Calendars that imported the topic file before keep the series until an import says it is cancelled."""
    before = await h.say("demo-member", "meeting calendar disinformation")
    assert before.message.attachment is not None
    (old,) = Calendar.from_ical(before.message.attachment.data).walk("VEVENT")
    await h.text("demo-coordinator", "meeting cancel 1")
    after = await h.say("demo-member", "meeting calendar disinformation")
    assert after.message.attachment is not None
    assert "It also holds a series cancelled in the last 90 days, marked cancelled." in after.message.plain_text()
    (event,) = Calendar.from_ical(after.message.attachment.data).walk("VEVENT")
    assert str(event["UID"]) == str(old["UID"]) and str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) > int(old["SEQUENCE"])  # newer than the copy calendars hold
    h.clock.advance(days=91)
    later = await h.say("demo-member", "meeting calendar disinformation")
    assert later.message.attachment is not None and "cancelled" not in later.message.plain_text()
    assert Calendar.from_ical(later.message.attachment.data).walk("VEVENT") == []
