"""Meetings end to end: commands through the real dispatcher, reminders through the outbox and worker, on a
real SQLite file, with a controlled clock (never sleeps)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.console import format_stamp
from bot.delivery.model import DeliveryStatus
from bot.meetings.model import OccurrenceState
from bot.messages import render_stamps
from tests.support import FixedClock, Harness, console_settings, english, harness

DEMO_MEETINGS = 1  # the demo coalition's weekly working-group call is meeting #1


async def _text(h: Harness, user: str, command: str, zone: str = "UTC") -> str:
    """The reply as the console shows it: time markers rendered in ``zone``."""
    return render_stamps(await h.text(user, command), lambda unix, style: format_stamp(unix, style, zone))


async def _meetings(h: Harness) -> int:
    rows = await h.app.db.fetch_all("SELECT COUNT(*) FROM meetings")
    return int(rows[0][0])


async def _audience(h: Harness) -> None:
    """Channel bound; demo-member answers yes, demo-admin maybe, nosayer (immediate subscriber) no."""
    await h.say("demo-admin", "setup topic-channel disinformation #wg-disinformation")
    await h.say("nosayer", "whoami")
    await h.say("demo-admin", "role grant nosayer member")
    await h.say("nosayer", "subscribe disinformation")
    await h.say("demo-member", "subscribe disinformation mode:daily")


async def test_create_show_and_list_in_the_readers_zone(h: Harness) -> None:
    await h.say("demo-coordinator", "settings timezone Europe/Brussels")
    reply = await _text(h, "demo-coordinator", 'meeting create disinformation "Fact-check sync" 2026-12-01 14:00 '
                        "repeat:weekly remind:24h,1h link:https://meet.example.org/x", "Europe/Brussels")
    assert "Meeting #2 “Fact-check sync” in “disinformation” is scheduled." in reply
    assert "— Tuesday, December 1, 2026, 2:00\u202fPM (Europe/Brussels) in the meeting's zone." in reply
    assert "Repeats: every Tuesday" in reply and "Reminders: 1 day and 1 hour" in reply
    assert "Zone: Europe/Brussels" in reply
    show = await _text(h, "demo-outsider", "meeting show 2", "America/New_York")
    assert "Meeting #2: Fact-check sync" in show
    assert "Tuesday, December 1, 2026, 8:00\u202fAM (America/New_York)" in show  # the reader's zone
    assert "Link: https://meet.example.org/x" in show
    listing = await _text(h, "demo-member", "meetings disinformation")
    assert "#2 disinformation — Tuesday, December 1, 2026, 1:00\u202fPM (UTC): Fact-check sync" in listing
    assert "Disinformation working group call" in listing  # the demo meeting
    audit = await h.app.store.audit.recent()
    assert any(entry.action == "meeting.create" for entry in audit)


async def test_zone_option_and_monday_midnight_weekly_does_not_skip_a_week(h: Harness) -> None:
    h.clock.current = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    reply = await h.text("demo-coordinator", "meeting create disinformation Standup 2027-03-15 00:00 repeat:weekly "
                                             "zone:europe/copenhagen")
    assert "is scheduled" in reply
    occurrences = await h.app.store.meetings.occurrences(2)
    cph = ZoneInfo("Europe/Copenhagen")
    local = [o.start.astimezone(cph) for o in occurrences[:4]]
    assert [d.date().isoformat() for d in local] == ["2027-03-15", "2027-03-22", "2027-03-29", "2027-04-05"]
    assert {(d.weekday(), d.hour, d.minute) for d in local} == {(0, 0, 0)}


async def test_nonexistent_and_repeated_local_times_end_to_end(h: Harness) -> None:
    h.clock.current = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
    await h.text("demo-coordinator", "meeting create disinformation Early 2027-03-27 02:30 repeat:daily "
                                     "zone:Europe/Copenhagen")
    cph = ZoneInfo("Europe/Copenhagen")
    spring = [o.start.astimezone(cph) for o in (await h.app.store.meetings.occurrences(2))[:3]]
    assert [(d.day, d.hour, d.minute) for d in spring] == [(27, 2, 30), (28, 3, 30), (29, 2, 30)]
    h.clock.current = datetime(2027, 10, 25, 12, 0, tzinfo=UTC)
    await h.text("demo-coordinator", "meeting create disinformation Late 2027-10-30 02:30 repeat:daily "
                                     "zone:Europe/Copenhagen")
    autumn = [o.start.astimezone(cph) for o in (await h.app.store.meetings.occurrences(3))[:3]]
    assert [(d.day, d.hour, d.minute) for d in autumn] == [(30, 2, 30), (31, 2, 30), (1, 2, 30)]


@pytest.mark.parametrize(("command", "problem"), [
    ("meeting create disinformation Call tomorrow 14:00 zone:Mars/Olympus", "Unknown time zone"),
    ("meeting create disinformation Call 2026-11-01 14:00", "in the past"),
    ("meeting create disinformation Call tomorrow 14:00 duration:25h", "between 1 minute and 24 hours"),
    ("meeting create disinformation Call tomorrow 14:00 duration:long", "not a duration"),
    ("meeting create disinformation Call tomorrow 14:00 repeat:sometimes", "not a repeat rule"),
    ("meeting create disinformation Call tomorrow 14:00 repeat:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
    ("meeting create disinformation Call tomorrow 14:00 repeat:FREQ=MINUTELY;INTERVAL=10", "more than once an hour"),
    ("meeting create disinformation Call tomorrow 14:00 link:ftp://example.org/x", "http:// or https://"),
    ("meeting create disinformation Call tomorrow 14:00 link:javascript:alert(1)", "http:// or https://"),
    ("meeting create disinformation Call tomorrow 14:00 remind:soon", "not a list of durations"),
    ("meeting create disinformation Call tomorrow 14:00 remind:1h,8d", "at most 7 days before the meeting"),
    ("meeting create disinformation Call soonish", "now, in 2h"),
    ("meeting create elections Call tomorrow 14:00", "Only a coordinator of “elections”"),
])
async def test_bad_input_is_refused_and_nothing_is_stored(h: Harness, command: str, problem: str) -> None:
    reply = await h.say("demo-coordinator", command)
    assert reply.message.is_error
    assert problem in reply.message.plain_text()
    assert await _meetings(h) == DEMO_MEETINGS
    assert not [e for e in await h.app.store.audit.recent() if e.action.startswith("meeting.")]


async def test_reminders_reach_subscribers_channel_and_yes_maybe_but_not_no(h: Harness) -> None:
    await _audience(h)
    await h.text("demo-coordinator", 'meeting create disinformation "Fact-check sync" 2026-11-25 13:00 '
                                     "remind:24h,1h")
    await h.say("demo-member", "rsvp 2 yes")
    await h.say("demo-admin", "rsvp 2 maybe")
    await h.say("nosayer", "rsvp 2 no")
    await h.app.run_due()
    assert "Reminder" not in h.console_output()
    h.clock.current = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 24 h before
    await h.app.run_due()
    out = h.console_output()
    for target in ("[DM → demo-coordinator]", "[DM → demo-member]", "[DM → demo-admin]", "[#wg-disinformation]"):
        assert f"{target} == Reminder: Fact-check sync ==" in out, target
    assert "[DM → nosayer] == Reminder" not in out
    assert "[Yes] /rsvp 2 yes" in out and "late" not in out
    await h.app.run_due()
    assert h.console_output().count("== Reminder: Fact-check sync ==") == 4, "never twice"
    h.clock.current = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 1 h before
    await h.app.run_due()
    assert h.console_output().count("== Reminder: Fact-check sync ==") == 8


async def test_rsvp_next_occurrence_or_all(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation")
    next_only = await h.text("demo-member", "rsvp 1 no")
    assert "You answered no for “Disinformation working group call”" in next_only
    occurrences = await h.app.store.meetings.occurrences(1)
    service = h.app.services.meetings
    member = (await h.app.store.people.find_by_name("demo-member"))[0].id
    assert (await service.answers(1, occurrences[0])).get(member) is not None
    assert member not in await service.answers(1, occurrences[1])
    assert "every meeting" in await h.text("demo-member", "rsvp 1 maybe all")
    assert (await service.answers(1, occurrences[1]))[member].value == "maybe"
    assert "member role" in await h.text("demo-outsider", "rsvp 1 yes")
    attendees = await h.text("demo-coordinator", "meeting attendees 1")
    assert "maybe: demo-member" in attendees


async def test_late_reminder_after_downtime_and_missed_one_recorded(tmp_path: Path) -> None:
    clock = FixedClock()
    settings = console_settings(tmp_path)
    async with harness(settings, clock) as h:
        await h.text("demo-coordinator", "meeting create disinformation Soon 2026-11-24 12:30 remind:1h")
        await h.text("demo-coordinator", "meeting create disinformation Later 2026-11-24 14:00 remind:2h")
    clock.current = datetime(2026, 11, 24, 12, 45, tzinfo=UTC)  # down from 12:00 yesterday until now
    async with harness(settings, clock) as h:
        await h.app.run_due()
        await h.app.run_due()
        out = h.console_output()
        assert out.count("== Reminder: Later ==") == 1
        assert "This reminder is late: the bot was offline when it was due." in out
        assert "Reminder: Soon" not in out  # it had already started
        reminders = await h.app.store.outbox.by_kind("reminder")
        missed = [d for d in reminders if d.status is DeliveryStatus.MISSED]
        assert len(missed) == 1 and "missed" in english(missed[0].reason)
        processed = await h.app.store.meetings.processed_reminders(2)
        assert [outcome for _start, _offset, outcome in processed] == ["missed"]


async def test_cancel_and_reschedule_notify_the_same_audience(h: Harness) -> None:
    await _audience(h)
    await h.text("demo-coordinator", "meeting create disinformation Weekly 2026-11-26 10:00 repeat:weekly")
    await h.say("demo-member", "rsvp 2 yes all")
    await h.say("nosayer", "rsvp 2 no all")
    cancelled = await _text(h, "demo-coordinator", "meeting cancel 2 occurrence:2026-12-03")
    assert "Thursday, December 3, 2026, 10:00\u202fAM (UTC) is cancelled" in cancelled
    await h.app.run_due()
    out = h.console_output()
    for target in ("[DM → demo-coordinator]", "[DM → demo-member]", "[#wg-disinformation]"):
        assert f"{target} == Meeting cancelled: Weekly ==" in out, target
    assert "[DM → nosayer] == Meeting cancelled" not in out
    occurrences = await h.app.store.meetings.occurrences(2)
    assert [o.state for o in occurrences[:3]] == [OccurrenceState.SCHEDULED, OccurrenceState.CANCELLED,
                                                  OccurrenceState.SCHEDULED]
    moved = await _text(h, "demo-coordinator", "meeting reschedule 2 2026-12-10 15:00 occurrence:2026-12-10")
    assert "Moved to Thursday, December 10, 2026, 3:00\u202fPM (UTC)" in moved
    await h.app.run_due()
    assert h.console_output().count("== Meeting moved: Weekly ==") == 3
    series = await _text(h, "demo-coordinator", "meeting reschedule 2 2026-12-15 09:00")
    assert "now starts Tuesday, December 15, 2026, 9:00\u202fAM (UTC), repeating every Tuesday" in series
    assert "no upcoming occurrence on 2026-12-03" in await h.text("demo-coordinator",
                                                                "meeting cancel 2 occurrence:2026-12-03")
    assert "is cancelled" in await h.text("demo-coordinator", "meeting cancel 2")
    await h.app.run_due()
    out = h.console_output()
    assert "Every occurrence of meeting #2 is cancelled." in out
    h.clock.current = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
    await h.app.run_due()
    assert "Reminder: Weekly" not in h.console_output()
    assert "No meetings" in await h.text("demo-member", "meetings elections")


async def test_reminder_for_a_cancelled_occurrence_is_not_sent(h: Harness) -> None:
    await h.text("demo-coordinator", "meeting create disinformation Once 2026-11-24 13:00 remind:1h")
    h.clock.current = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    await h.app.services.meetings.run_due()  # queued, not yet sent
    await h.say("demo-coordinator", "meeting cancel 2")
    await h.app.run_due()
    assert "Reminder: Once" not in h.console_output()
    statuses = {d.status for d in await h.app.store.outbox.by_kind("reminder")}
    assert statuses == {DeliveryStatus.CANCELLED}


async def test_private_topic_meeting_is_invisible_to_outsiders(h: Harness) -> None:
    reply = await h.text("demo-admin", "meeting create incident-response Triage tomorrow 10:00")
    assert "Meeting #2" in reply
    assert "There is no meeting #2." in await h.text("demo-member", "meeting show 2")
    assert "Triage" not in await h.text("demo-member", "meetings")
    assert "Triage" in await h.text("demo-admin", "meetings")


async def test_digest_subscribers_see_upcoming_meetings(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation mode:daily")
    await h.text("demo-coordinator", "meeting create disinformation Digestible 2026-11-24 15:00")
    h.clock.current = datetime(2026, 11, 24, 8, 5, tzinfo=UTC)  # after the 08:00 digest slot (UTC)
    await h.app.run_due()
    out = h.console_output()
    assert "[DM → demo-member] == Your daily digest ==" in out
    assert "1 upcoming meeting:" in out and "Digestible (disinformation), meeting #2" in out
    await h.app.run_due()
    assert h.console_output().count("Your daily digest") == 1


async def test_ics_attachment_and_scheduler_wakeups(h: Harness) -> None:
    reply = await h.say("demo-outsider", "meeting ics 1")
    assert reply.message.attachment is not None
    assert reply.message.attachment.filename == "meeting-1.ics"
    first = await h.app.store.meetings.get(1)
    assert first is not None
    assert f"UID:meeting-{first.public_id}@demo-coalition".encode() in reply.message.attachment.data
    calendar = await h.say("demo-outsider", "meeting calendar disinformation")
    assert calendar.message.attachment is not None and b"BEGIN:VTIMEZONE" in calendar.message.attachment.data
    await h.text("demo-coordinator", "meeting create disinformation Wake 2026-11-30 10:00 remind:24h,1h")
    async with h.app.scheduler.armed(paused=True) as scheduler:
        jobs = scheduler.job_times()
        assert jobs["meeting:2"] == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
        assert set(jobs) == {"meeting:1", "meeting:2"}
        await h.say("demo-coordinator", "meeting reschedule 2 2026-12-01 10:00")
        assert scheduler.job_times()["meeting:2"] == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
        await h.say("demo-coordinator", "meeting cancel 2")
        assert "meeting:2" not in scheduler.job_times()
        assert scheduler.job_times()["meeting:1"] > h.clock.now()


async def test_rolling_window_is_extended_by_run_due(h: Harness) -> None:
    before = await h.app.store.meetings.occurrences(1)
    h.clock.advance(days=45)
    await h.app.services.meetings.run_due()
    after = await h.app.store.meetings.occurrences(1)
    assert len(after) > len(before)
    assert after[-1].start > h.clock.now() + timedelta(days=50)


async def test_reminder_already_past_at_creation_is_not_sent_late(h: Harness) -> None:
    await h.text("demo-coordinator", "meeting create disinformation Soon 2026-11-23 15:00 remind:24h,1h")
    await h.app.run_due()
    assert "Reminder: Soon" not in h.console_output()
    h.clock.current = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    await h.app.run_due()
    out = h.console_output()
    assert out.count("[DM → demo-coordinator] == Reminder: Soon ==") == 1 and "late" not in out
    assert [o for _s, _m, o in await h.app.store.meetings.processed_reminders(2)] == ["not-due", "sent"]


def test_console_run_arms_wakeups_and_writes_the_ics_file(tmp_path: Path) -> None:
    """Through ``python -m bot run`` (App.serve starts the wake-up scheduler): list, export, create."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "BOT_STORAGE__PATH": str(tmp_path / "bot.db"), "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": str(root)}
    script = ('/meetings\n/meeting ics 1\n/as demo-coordinator\n'
              '/meeting create disinformation "Zone check" tomorrow 10:00 zone:Europe/Brussels\n')
    result = subprocess.run([sys.executable, "-m", "bot", "run"], input=script, capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Disinformation working group call" in result.stdout
    assert "(file written: data/exports/meeting-1.ics)" in result.stdout
    assert (tmp_path / "data" / "exports" / "meeting-1.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert "Meeting #2 “Zone check” in “disinformation” is scheduled." in result.stdout
    assert "Traceback" not in result.stderr


async def test_an_hourly_series_is_stored_without_gaps_past_the_materialise_limit(h: Harness) -> None:
    h.clock.current = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    reply = await h.text("demo-admin", "meeting create research Watch 2027-01-05 10:00 repeat:FREQ=HOURLY zone:UTC")
    assert "is scheduled" in reply
    meeting_id = int(reply.split("#")[1].split()[0].rstrip(".,:"))
    for _day in range(60):
        h.clock.advance(days=1)
        await h.app.run_due()
    starts = [o.start for o in await h.app.store.meetings.occurrences(meeting_id, limit=100_000)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(starts) > 1000 and max(gaps) == timedelta(hours=1)


async def test_after_downtime_only_the_reminder_closest_to_the_start_is_sent(tmp_path: Path) -> None:
    """Two overdue reminders of one meeting arriving together help nobody: the 1 h one goes out (late), the
    24 h one is recorded as superseded."""
    clock = FixedClock()
    settings = console_settings(tmp_path)
    async with harness(settings, clock) as h:
        await h.text("demo-coordinator", "meeting create disinformation Briefing 2026-11-26 12:00 remind:24h,1h")
    clock.current = datetime(2026, 11, 26, 11, 30, tzinfo=UTC)  # down from 12:00 on the 23rd until now
    async with harness(settings, clock) as h:
        await h.app.run_due()
        await h.app.run_due()
        out = h.console_output()
        assert out.count("== Reminder: Briefing ==") == 1
        assert "This reminder is late: the bot was offline when it was due." in out
        processed = await h.app.store.meetings.processed_reminders(2)
        assert sorted((offset, outcome) for _start, offset, outcome in processed) == [
            (60, "late"), (24 * 60, "superseded")]


async def test_a_late_reminder_is_superseded_by_one_due_within_minutes(tmp_path: Path) -> None:
    """Back at 10:59 for a noon meeting with 24 h and 1 h reminders: the 1 h one, a minute away, is enough."""
    clock = FixedClock()
    settings = console_settings(tmp_path)
    async with harness(settings, clock) as h:
        await h.text("demo-coordinator", "meeting create disinformation Briefing 2026-11-26 12:00 remind:24h,1h")
    clock.current = datetime(2026, 11, 26, 10, 59, tzinfo=UTC)
    async with harness(settings, clock) as h:
        await h.app.run_due()
        clock.current = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
        await h.app.run_due()
        await h.app.run_due()
        out = h.console_output()
        assert out.count("== Reminder: Briefing ==") == 1 and "is late" not in out
        processed = await h.app.store.meetings.processed_reminders(2)
        assert sorted((offset, outcome) for _start, offset, outcome in processed) == [
            (60, "sent"), (24 * 60, "superseded")]


async def test_reminders_on_time_are_never_superseded(h: Harness) -> None:
    """Offsets a minute apart, both within the grace period: both go out, neither marked late."""
    await h.text("demo-coordinator", "meeting create disinformation Standup 2026-11-23 13:00 remind:10m,9m")
    h.clock.current = datetime(2026, 11, 23, 12, 51, tzinfo=UTC)
    await h.app.run_due()
    await h.app.run_due()
    processed = await h.app.store.meetings.processed_reminders(2)
    assert sorted((offset, outcome) for _start, offset, outcome in processed) == [(9, "sent"), (10, "sent")]
