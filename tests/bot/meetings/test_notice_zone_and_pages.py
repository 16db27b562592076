"""Issue 15, items 6–9, end to end: new meetings are announced, a meeting at short notice still gets one
reminder, times are read in the meeting's zone and a DST gap is told, occurrences are named by any time, and
``meetings`` pages. Real dispatcher, outbox and worker, real SQLite file, a controlled clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from adapters.console import format_stamp
from bot.meetings.model import OccurrenceState
from bot.messages import render_stamps
from tests.support import Harness

# The harness clock: Monday 23 Nov 2026, 12:00 UTC; demo-coordinator reads times in UTC.
CPH = ZoneInfo("Europe/Copenhagen")


async def _text(h: Harness, user: str, command: str, zone: str = "UTC") -> str:
    return render_stamps(await h.text(user, command), lambda unix, style: format_stamp(unix, style, zone))


async def _starts(h: Harness, meeting_id: int) -> list[datetime]:
    return [o.start for o in await h.app.store.meetings.occurrences(meeting_id)
            if o.state is not OccurrenceState.CANCELLED]


# --- item 7: a new meeting reaches its audience, and a short-notice one gets a reminder --------------------


async def test_a_new_meeting_and_a_new_series_are_announced_to_their_audience(h: Harness) -> None:
    await h.say("demo-admin", "setup topic-channel disinformation #wg-disinformation")
    await h.say("demo-member", "subscribe disinformation")
    reply = await h.text("demo-coordinator", "meeting create disinformation Kickoff tomorrow 10:00")
    assert "3 notices are on their way." in reply
    await h.text("demo-coordinator", "meeting create disinformation Weekly 2026-11-26 10:00 repeat:weekly")
    await h.app.run_due()
    await h.app.run_due()
    out = h.console_output()
    for target in ("[DM → demo-member]", "[DM → demo-coordinator]", "[#wg-disinformation]"):
        assert out.count(f"{target} == New meeting: Kickoff ==") == 1, target
        assert out.count(f"{target} == New meeting: Weekly ==") == 1, target
    assert "Meeting #2 takes place Tuesday, November 24, 2026, 10:00\u202fAM (UTC)." in out
    assert "Meeting #3 starts Thursday, November 26, 2026, 10:00\u202fAM (UTC), repeating every Thursday." in out
    assert "Reminder" not in out  # a day ahead: the reminders come when due


async def test_a_meeting_at_short_notice_gets_one_reminder_now(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation")
    await h.say("demo-coordinator", "meeting create disinformation Quick in 30 minutes")  # reminders 24h,1h
    await h.app.run_due()
    h.clock.advance(minutes=10)
    await h.app.run_due()
    out = h.console_output()
    for target in ("[DM → demo-member]", "[DM → demo-coordinator]"):
        assert out.count(f"{target} == Reminder: Quick ==") == 1, target
    assert "late" not in out
    outcomes = sorted((offset, outcome) for _s, offset, outcome in await h.app.store.meetings.processed_reminders(2))
    assert outcomes == [(60, "sent"), (1440, "not-due")]
    keys = [d.dedupe_key for d in await h.app.store.outbox.by_kind("reminder")]
    assert len(keys) == len(set(keys)) == 2


async def test_an_occurrence_moved_to_short_notice_gets_one_reminder_now(h: Harness) -> None:
    await h.text("demo-coordinator", "meeting create disinformation Weekly 2026-11-26 10:00 repeat:weekly")
    await h.say("demo-coordinator", "meeting reschedule 2 in 45 minutes occurrence:next")
    await h.app.run_due()
    await h.app.run_due()
    assert h.console_output().count("[DM → demo-coordinator] == Reminder: Weekly ==") == 1


# --- item 8: the meeting's zone, and DST gaps ----------------------------------------------------------------


async def test_reschedule_reads_the_new_time_in_the_meetings_zone(h: Harness) -> None:
    await h.text("demo-coordinator", "meeting create disinformation Sync 2026-11-25 14:00 repeat:weekly "
                                     "zone:Africa/Nairobi")
    moved = await h.text("demo-coordinator", "meeting reschedule 2 wednesday 15:00")
    assert "“wednesday 15:00” was read in the meeting's zone, Africa/Nairobi;" in moved
    assert (await _starts(h, 2))[0] == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 15:00 in Nairobi
    asked = await h.text("demo-coordinator", "meeting reschedule 2 thursday 15:00 zone:UTC")
    assert "“thursday 15:00” was read in UTC, as you asked." in asked
    assert (await _starts(h, 2))[:2] == [datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
                                         datetime(2026, 12, 3, 15, 0, tzinfo=UTC)]
    meeting = await h.app.store.meetings.get(2)
    assert meeting is not None and (meeting.zone, meeting.start_local.hour) == ("Africa/Nairobi", 18)


async def test_a_series_in_a_dst_gap_is_told_and_keeps_its_wall_clock_time(h: Harness) -> None:
    h.clock.current = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
    reply = await h.text("demo-coordinator", "meeting create disinformation Early 2027-03-28 02:30 repeat:daily "
                                             "zone:Europe/Copenhagen")
    assert ("2:30\u202fAM does not exist in Europe/Copenhagen when the clocks go forward, so the meeting starts "
            "later then: March 28, 2027, 3:30\u202fAM.") in reply
    local = [start.astimezone(CPH) for start in (await _starts(h, 2))[:3]]
    assert [(d.day, d.hour, d.minute) for d in local] == [(28, 3, 30), (29, 2, 30), (30, 2, 30)]
    plain = await h.text("demo-coordinator", "meeting create disinformation Plain 2027-03-27 10:00 "
                                             "zone:Europe/Copenhagen")
    assert "does not exist" not in plain


async def test_a_reschedule_into_a_dst_gap_is_told(h: Harness) -> None:
    h.clock.current = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
    await h.text("demo-coordinator", "meeting create disinformation Once 2027-03-27 10:00 zone:Europe/Copenhagen")
    series = await h.text("demo-coordinator", "meeting reschedule 2 2027-03-28 02:30")
    assert "2:30\u202fAM does not exist in Europe/Copenhagen" in series and "March 28, 2027, 3:30\u202fAM" in series
    await h.text("demo-coordinator", "meeting create disinformation Daily 2027-03-25 10:00 repeat:daily "
                                     "zone:Europe/Copenhagen")
    one = await h.text("demo-coordinator", "meeting reschedule 3 2027-03-28 02:45 occurrence:2027-03-29")
    assert ("March 28, 2027, 2:45\u202fAM does not exist in Europe/Copenhagen: the clocks go forward then, so it is "
            "March 28, 2027, 3:45\u202fAM.") in one


# --- item 6: occurrence: takes a whole time too ---------------------------------------------------------------


async def test_the_occurrence_option_takes_a_whole_time_and_any_day(h: Harness) -> None:
    await h.text("demo-coordinator", "meeting create disinformation Twice 2026-11-26 10:00 repeat:tue,thu")
    # Unquoted, "10:00" belongs to the occurrence, not to the new time: the new time is the day alone (09:00).
    moved = await h.text("demo-coordinator", "meeting reschedule 2 2026-12-02 occurrence:2026-12-01 10:00")
    assert "Moved to" in moved
    occurrences = await h.app.store.meetings.occurrences(2)
    moved_one = next(o for o in occurrences if o.state is OccurrenceState.MOVED)
    assert (moved_one.original_start, moved_one.start) == (datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
                                                           datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert "is cancelled" in await h.text("demo-coordinator", "meeting cancel 2 occurrence:thursday")
    cancelled = [o.original_start for o in await h.app.store.meetings.occurrences(2)
                 if o.state is OccurrenceState.CANCELLED]
    assert cancelled == [datetime(2026, 11, 26, 10, 0, tzinfo=UTC)]
    assert "not a complete date or time" in await h.text("demo-coordinator",
                                                         "meeting cancel 2 occurrence:tuesday 9")
    # "today" after 09:00 still names today's occurrence (not "in the past").
    await h.text("demo-coordinator", "meeting create disinformation Evening 2026-11-23 18:00 repeat:daily")
    assert "is cancelled" in await h.text("demo-coordinator", "meeting cancel 3 occurrence:today")
    assert [o.original_start for o in await h.app.store.meetings.occurrences(3)
            if o.state is OccurrenceState.CANCELLED] == [datetime(2026, 11, 23, 18, 0, tzinfo=UTC)]


# --- item 9: meetings pages ------------------------------------------------------------------------------------


async def test_meetings_pages_with_previous_and_next(h: Harness) -> None:
    await h.text("demo-coordinator", "meeting create disinformation Daily 2026-11-24 08:00 repeat:daily")
    total = len(await h.app.store.meetings.upcoming(h.clock.now(), datetime(2026, 12, 24, 12, tzinfo=UTC)))
    assert total > 25
    first = await _text(h, "demo-member", "meetings")
    assert "Upcoming meetings — page 1" in first and "[Next page] /meetings page:2" in first
    assert "Previous page" not in first and "more." not in first
    assert f"Meetings 1–25 of {total} in the next 31 days." in first
    second = await _text(h, "demo-member", "meetings page:2")
    assert "Upcoming meetings — page 2" in second and "[Previous page] /meetings page:1" in second
    assert "Next page" not in second
    listed = re.findall(r"^#\d+ \S+ — .+$", first + "\n" + second, re.MULTILINE)
    assert len(listed) == len(set(listed)) == total
    topic = await _text(h, "demo-member", "meetings disinformation page:2")
    assert "[Previous page] /meetings disinformation page:1" in topic
    assert "the last page is 2" in await _text(h, "demo-member", "meetings page:3")
    assert "must be a number" in await _text(h, "demo-member", "meetings page:two")
