"""Occurrences from local wall-clock time + IANA zone: correct across daylight-saving changes, unlike
APScheduler's CronTrigger (which skips a week for a weekly Monday 00:00 job and fires twice in the repeated
hour). Each case names the zone and the change it guards."""

# ruff: noqa: DTZ001 - naive datetimes here are wall-clock times, read in the zone beside them
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.i18n import Translator, _, exact_duration
from bot.meetings.recurrence import expand, parse_rule, reminder_minutes

# zone, spring-forward day, autumn-back day, a time in the spring gap, a time in the repeated hour
CHANGES = [
    ("Europe/Copenhagen", datetime(2027, 3, 28), datetime(2027, 10, 31), (2, 30), (2, 30)),
    ("America/New_York", datetime(2027, 3, 14), datetime(2027, 11, 7), (2, 30), (1, 30)),
    ("Australia/Sydney", datetime(2027, 10, 3), datetime(2027, 4, 4), (2, 30), (2, 30)),
]


def _daily(zone: str, first: datetime, days: int = 7) -> list[datetime]:
    tz = ZoneInfo(zone)
    body = parse_rule("daily", first)
    after = first.replace(tzinfo=tz) - timedelta(days=1)
    return [o.astimezone(tz) for o in expand(first, tz, body, after, after + timedelta(days=days + 2), days)]


@pytest.mark.parametrize(("zone", "spring", "autumn", "gap", "repeated"), CHANGES)
@pytest.mark.parametrize("change", ["spring", "autumn"])
def test_daily_meeting_keeps_its_wall_clock_time_across_the_change(zone: str, spring: datetime, autumn: datetime,
                                                                   gap: tuple[int, int], repeated: tuple[int, int],
                                                                   change: str) -> None:
    day = spring if change == "spring" else autumn
    occurrences = _daily(zone, day.replace(hour=9) - timedelta(days=3))
    assert [o.date() for o in occurrences] == [(day - timedelta(days=3 - i)).date() for i in range(7)]
    assert {(o.hour, o.minute) for o in occurrences} == {(9, 0)}
    gaps = {occurrences[i + 1].astimezone(UTC) - occurrences[i].astimezone(UTC) for i in range(6)}
    assert gaps == {timedelta(days=1), timedelta(hours=23 if change == "spring" else 25)}


@pytest.mark.parametrize(("zone", "spring", "autumn", "gap", "repeated"), CHANGES)
def test_time_that_does_not_exist_on_the_spring_day_moves_forward_by_the_gap(
        zone: str, spring: datetime, autumn: datetime, gap: tuple[int, int], repeated: tuple[int, int]) -> None:
    occurrences = _daily(zone, spring.replace(hour=gap[0], minute=gap[1]) - timedelta(days=3))
    assert len(occurrences) == 7, "no day is skipped"
    on_the_day = [o for o in occurrences if o.date() == spring.date()]
    assert [(o.hour, o.minute) for o in on_the_day] == [(gap[0] + 1, gap[1])]
    assert all((o.hour, o.minute) == gap for o in occurrences if o.date() != spring.date())


@pytest.mark.parametrize(("zone", "spring", "autumn", "gap", "repeated"), CHANGES)
def test_time_in_the_repeated_hour_happens_once(zone: str, spring: datetime, autumn: datetime,
                                                gap: tuple[int, int], repeated: tuple[int, int]) -> None:
    occurrences = _daily(zone, autumn.replace(hour=repeated[0], minute=repeated[1]) - timedelta(days=3))
    assert len(occurrences) == 7
    on_the_day = [o for o in occurrences if o.date() == autumn.date()]
    assert len(on_the_day) == 1, "one occurrence, not two"
    assert on_the_day[0].fold == 0 and (on_the_day[0].hour, on_the_day[0].minute) == repeated
    # The first pass through the hour: still on summer (daylight) time.
    assert on_the_day[0].dst() != timedelta(0)


@pytest.mark.parametrize("zone", ["Europe/Copenhagen", "America/New_York"])
def test_weekly_monday_midnight_does_not_skip_the_week_after_the_spring_change(zone: str) -> None:
    tz = ZoneInfo(zone)
    spring = {"Europe/Copenhagen": datetime(2027, 3, 29), "America/New_York": datetime(2027, 3, 15)}[zone]
    first = spring - timedelta(days=14)  # two Mondays before the Monday after the change
    body = parse_rule("weekly", first)
    occurrences = [o.astimezone(tz) for o in expand(first, tz, body, first.replace(tzinfo=tz),
                                                     first.replace(tzinfo=tz) + timedelta(days=35), 10)]
    assert [o.date() for o in occurrences] == [(first + timedelta(weeks=i)).date() for i in range(5)]
    assert all((o.weekday(), o.hour, o.minute) == (0, 0, 0) for o in occurrences)


def test_zone_without_dst_is_a_fixed_offset() -> None:
    occurrences = _daily("Africa/Nairobi", datetime(2027, 3, 26, 9, 0), days=10)
    assert {o.astimezone(UTC).hour for o in occurrences} == {6}
    assert len(occurrences) == 10


def test_shorthand_rules() -> None:
    tuesday = datetime(2026, 12, 8, 14, 0)  # the second Tuesday of December
    assert parse_rule("daily", tuesday) == "FREQ=DAILY"
    assert parse_rule("weekdays", tuesday) == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert parse_rule("Weekly", tuesday) == "FREQ=WEEKLY"
    assert parse_rule("biweekly", tuesday) == "FREQ=WEEKLY;INTERVAL=2"
    assert parse_rule("monthly", tuesday) == "FREQ=MONTHLY;BYDAY=2TU"
    assert parse_rule("monthly", datetime(2026, 12, 29, 14, 0)) == "FREQ=MONTHLY;BYDAY=-1TU"
    assert parse_rule("tue,thu", tuesday) == "FREQ=WEEKLY;BYDAY=TU,TH"
    assert parse_rule("RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4", tuesday) == "FREQ=WEEKLY;BYDAY=TU;COUNT=4"
    assert parse_rule("FREQ=HOURLY;INTERVAL=2", tuesday) == "FREQ=HOURLY;INTERVAL=2"


def test_monthly_keeps_the_nth_weekday() -> None:
    tz = ZoneInfo("Europe/Brussels")
    start = datetime(2026, 12, 8, 14, 0)
    body = parse_rule("monthly", start)
    occurrences = expand(start, tz, body, start.replace(tzinfo=tz), start.replace(tzinfo=tz) + timedelta(days=100),
                         4)
    assert [o.astimezone(tz).date().isoformat() for o in occurrences] == \
        ["2026-12-08", "2027-01-12", "2027-02-09", "2027-03-09"]


def test_until_in_utc_from_a_calendar_app_is_accepted() -> None:
    tz = ZoneInfo("Europe/Brussels")
    start = datetime(2026, 12, 1, 14, 0)
    body = parse_rule("FREQ=WEEKLY;UNTIL=20261222T130000Z", start, tz)
    assert len(expand(start, tz, body, start.replace(tzinfo=tz), datetime(2027, 6, 1, tzinfo=UTC), 50)) == 4


@pytest.mark.parametrize(("rule", "problem"), [
    ("sometimes", "not a repeat rule"),
    ("FREQ=FORTNIGHTLY", "not a repeat rule"),
    ("FREQ=WEEKLY;BYDAY=XX", "not a repeat rule"),
    ("DTSTART:20261201T100000\nRRULE:FREQ=DAILY", "not a repeat rule"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
    ("FREQ=WEEKLY;UNTIL=20200101T000000Z", "never occurs"),
    ("FREQ=MINUTELY;INTERVAL=30", "more than once an hour"),
    ("FREQ=HOURLY;BYMINUTE=0,30", "more than once an hour"),
    ("FREQ=SECONDLY", "more than once an hour"),
    ("x" * 400, "not a repeat rule"),
])
def test_bad_rules_are_refused(rule: str, problem: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_rule(rule, datetime(2026, 12, 1, 14, 0))
    message = raised.value.message
    assert problem in (message if isinstance(message, str) else message.msgid)


def test_reminder_offsets_are_minutes_and_at_most_a_week_ahead() -> None:
    assert reminder_minutes((timedelta(days=1), timedelta(hours=1), timedelta(minutes=15))) == (1440, 60, 15)
    assert reminder_minutes((timedelta(days=7),)) == (10080,)
    assert reminder_minutes((timedelta(minutes=15), timedelta(hours=2), timedelta(minutes=120))) == (120, 15)
    with pytest.raises(UserError) as raised:
        reminder_minutes((timedelta(days=8), timedelta(hours=1)))
    assert raised.value.message == _("A reminder can be at most 7 days before the meeting, not “{offset}”.",
                                     offset=exact_duration(8 * 86400))
    assert Translator.untranslated().render(raised.value.message, "en").endswith("not “8 days”.")


def test_a_sub_daily_rule_that_never_occurs_is_refused_quickly() -> None:
    """dateutil alone would scan to the year 9999 (seconds with the event loop frozen)."""
    import time

    from bot.errors import UserError
    from bot.meetings.recurrence import parse_rule

    started = time.monotonic()
    with pytest.raises(UserError):
        parse_rule("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", datetime(2027, 1, 5, 10, 0), ZoneInfo("UTC"))
    assert time.monotonic() - started < 1.0
