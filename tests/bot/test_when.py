"""parse_when: every accepted form, DST gaps and repeated hours, and every refusal.

Expected values are exact UTC instants worked out by hand from the 2026 transitions:
Europe/Copenhagen 29 Mar 02:00 CET → 03:00 CEST and 25 Oct 03:00 CEST → 02:00 CET;
America/New_York 8 Mar 02:00 EST → 03:00 EDT and 1 Nov 02:00 EDT → 01:00 EST;
Australia/Sydney 5 Apr 03:00 AEDT → 02:00 AEST and 4 Oct 02:00 AEST → 03:00 AEDT.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.i18n import Translator
from bot.when import EXAMPLES, parse_when, read_when, time_length

NAIROBI = ZoneInfo("Africa/Nairobi")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
KOLKATA = ZoneInfo("Asia/Kolkata")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")

ENGLISH = Translator.untranslated()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# Tuesday 24 Nov 2026, 13:00 in Nairobi (UTC+3, no DST).
NOW = utc(2026, 11, 24, 10)


def refusal(text: str, zone: ZoneInfo = NAIROBI, now: datetime = NOW, **kwargs: timedelta) -> str:
    """The English message of the UserError that ``text`` raises."""
    with pytest.raises(UserError) as caught:
        parse_when(text, zone, now, **kwargs)
    rendered = ENGLISH.render(caught.value.message, "en")
    assert rendered.endswith(f"Try, for example: {EXAMPLES}."), rendered
    return rendered


# --- accepted forms, Africa/Nairobi --------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("now", NOW),
    ("  NOW ", NOW),
    ("in 2h", utc(2026, 11, 24, 12)),
    ("in 2 hours", utc(2026, 11, 24, 12)),
    ("in 1 hour", utc(2026, 11, 24, 11)),
    ("in 30 minutes", utc(2026, 11, 24, 10, 30)),
    ("in 30m", utc(2026, 11, 24, 10, 30)),
    ("in 30 min", utc(2026, 11, 24, 10, 30)),
    ("in 1 day", utc(2026, 11, 25, 10)),
    ("in 3d", utc(2026, 11, 27, 10)),
    ("in 1h30m", utc(2026, 11, 24, 11, 30)),
    ("In  1h 30m", utc(2026, 11, 24, 11, 30)),
    ("in 1 hour 30 minutes", utc(2026, 11, 24, 11, 30)),
    ("in 1d2h", utc(2026, 11, 25, 12)),
    ("in 2 weeks", utc(2026, 12, 8, 10)),
    ("in 1w", utc(2026, 12, 1, 10)),
    ("in 0 minutes", NOW),
    ("today 17:00", utc(2026, 11, 24, 14)),
    ("tomorrow 09:00", utc(2026, 11, 25, 6)),
    ("tomorrow 9:00", utc(2026, 11, 25, 6)),
    ("Tomorrow 9am", utc(2026, 11, 25, 6)),
    ("tomorrow 9 am", utc(2026, 11, 25, 6)),
    ("tomorrow 9:30pm", utc(2026, 11, 25, 18, 30)),
    ("tomorrow  at  9:30 PM", utc(2026, 11, 25, 18, 30)),
    ("tomorrow 12am", utc(2026, 11, 24, 21)),  # midnight starting the 25th, local
    ("tomorrow 12pm", utc(2026, 11, 25, 9)),
    ("tomorrow", utc(2026, 11, 25, 6)),  # a day alone means 09:00 local
    ("2026-12-01 14:00", utc(2026, 12, 1, 11)),
    ("2026-12-01T14:00", utc(2026, 12, 1, 11)),
    ("2026-12-01t14:00", utc(2026, 12, 1, 11)),
    ("2026-12-01 2pm", utc(2026, 12, 1, 11)),
    ("2026-12-01", utc(2026, 12, 1, 6)),  # 09:00 local
    ("2026-12-01T14:00:00+03:00", utc(2026, 12, 1, 11)),
    ("2026-12-01T11:00Z", utc(2026, 12, 1, 11)),
    ("2026-12-01T11:00:00.000Z", utc(2026, 12, 1, 11)),
    ("2026-12-01T14:00:00+05:30", utc(2026, 12, 1, 8, 30)),  # the offset wins over the zone
    ("2026-12-01T14:00-0500", utc(2026, 12, 1, 19)),
    ("2026-12-01 14:00 +01", utc(2026, 12, 1, 13)),
    ("14:00", utc(2026, 11, 24, 11)),  # still ahead today
    ("at 14:00", utc(2026, 11, 24, 11)),
    ("9:30", utc(2026, 11, 25, 6, 30)),  # already past today: tomorrow
    ("12:58", utc(2026, 11, 25, 9, 58)),
    ("9pm", utc(2026, 11, 24, 18)),
])
def test_forms_in_nairobi(text: str, expected: datetime) -> None:
    result = parse_when(text, NAIROBI, NOW)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("text", "expected"), [
    ("tue 14:00", utc(2026, 11, 24, 11)),  # today is Tuesday and 14:00 is still ahead
    ("Tuesday 14:00", utc(2026, 11, 24, 11)),
    ("tuesday 12:00", utc(2026, 12, 1, 9)),  # today's 12:00 has passed: next week
    ("tue 9am", utc(2026, 12, 1, 6)),
    ("tue", utc(2026, 12, 1, 6)),  # 09:00 today has passed
    ("wed 09:00", utc(2026, 11, 25, 6)),
    ("wednesday 09:00", utc(2026, 11, 25, 6)),
    ("thu 18:30", utc(2026, 11, 26, 15, 30)),
    ("Thursday at 18:30", utc(2026, 11, 26, 15, 30)),
    ("fri", utc(2026, 11, 27, 6)),
    ("friday 10:00", utc(2026, 11, 27, 7)),
    ("sat 23:59", utc(2026, 11, 28, 20, 59)),
    ("sun 8am", utc(2026, 11, 29, 5)),
    ("sunday 08:00", utc(2026, 11, 29, 5)),
    ("monday 14:00", utc(2026, 11, 30, 11)),
    ("mon 14:00", utc(2026, 11, 30, 11)),
    ("MON   14:00", utc(2026, 11, 30, 11)),
])
def test_weekdays_today_or_next(text: str, expected: datetime) -> None:
    assert parse_when(text, NAIROBI, NOW) == expected


@pytest.mark.parametrize("text", [
    "13:00",  # exactly now
    "12:59",  # 60 s ago
    "tue 13:00",
    "today 13:00",
    "2026-11-24T09:59:30Z",
    "2026-11-24 12:59",
])
def test_the_last_minute_counts_as_now(text: str) -> None:
    assert parse_when(text, NAIROBI, NOW) == NOW


def test_now_with_seconds_is_returned_unchanged() -> None:
    now = utc(2026, 11, 24, 10, 0, 42)
    assert parse_when("now", NAIROBI, now) == now
    assert parse_when("13:00", NAIROBI, now) == now  # 42 s ago
    assert parse_when("in 2h", NAIROBI, now) == utc(2026, 11, 24, 12, 0, 42)


def test_now_in_another_offset_is_converted_to_utc() -> None:
    now = NOW.astimezone(timezone(timedelta(hours=-7)))
    result = parse_when("in 2h", NAIROBI, now)
    assert result == utc(2026, 11, 24, 12)
    assert result.tzinfo is UTC
    assert parse_when("now", NAIROBI, now).tzinfo is UTC


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_when("now", NAIROBI, datetime(2026, 11, 24, 10))  # noqa: DTZ001


# --- zones without DST ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("tomorrow 09:00", utc(2026, 11, 25, 12)),  # 07:00 local now
    ("in 1 day", utc(2026, 11, 25, 10)),
    ("08:00", utc(2026, 11, 24, 11)),
    ("06:00", utc(2026, 11, 25, 9)),
    ("2026-12-01 00:00", utc(2026, 12, 1, 3)),
    ("2027-01-15 12:00", utc(2027, 1, 15, 15)),  # before 2019 this was summer time (UTC-2)
    ("2027-01-15", utc(2027, 1, 15, 12)),
])
def test_sao_paulo_has_no_dst(text: str, expected: datetime) -> None:
    assert parse_when(text, SAO_PAULO, NOW) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("tomorrow 09:00", utc(2026, 11, 25, 3, 30)),  # 15:30 local now
    ("16:00", utc(2026, 11, 24, 10, 30)),
    ("15:00", utc(2026, 11, 25, 9, 30)),
    ("2026-12-01", utc(2026, 12, 1, 3, 30)),
    ("2026-12-01 14:00", utc(2026, 12, 1, 8, 30)),
    ("2026-12-01T14:00Z", utc(2026, 12, 1, 14)),
    ("wed 9:15pm", utc(2026, 11, 25, 15, 45)),
])
def test_kolkata_half_hour_offset(text: str, expected: datetime) -> None:
    assert parse_when(text, KOLKATA, NOW) == expected


# --- DST: Europe/Copenhagen ----------------------------------------------------------------------------

CPH_BEFORE_SPRING = utc(2026, 3, 28, 12)  # Saturday 13:00 CET
CPH_BEFORE_AUTUMN = utc(2026, 10, 24, 12)  # Saturday 14:00 CEST


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-29 01:59", utc(2026, 3, 29, 0, 59)),
    ("2026-03-29 02:00", utc(2026, 3, 29, 1)),  # does not exist: 03:00 CEST
    ("2026-03-29 02:30", utc(2026, 3, 29, 1, 30)),  # does not exist: moved forward by the gap, 03:30 CEST
    ("2026-03-29 03:00", utc(2026, 3, 29, 1)),
    ("2026-03-29 03:30", utc(2026, 3, 29, 1, 30)),
    ("tomorrow 02:30", utc(2026, 3, 29, 1, 30)),
    ("sun 02:30", utc(2026, 3, 29, 1, 30)),
    ("sunday 2:59am", utc(2026, 3, 29, 1, 59)),
    ("in 1 day", utc(2026, 3, 29, 11)),  # 13:00 CEST: same wall-clock time
    ("in 24h", utc(2026, 3, 29, 12)),  # elapsed: 14:00 CEST
    ("in 1 week", utc(2026, 4, 4, 11)),
    ("in 168 hours", utc(2026, 4, 4, 12)),
    ("tomorrow", utc(2026, 3, 29, 7)),  # 09:00 CEST
])
def test_copenhagen_spring_forward(text: str, expected: datetime) -> None:
    assert parse_when(text, COPENHAGEN, CPH_BEFORE_SPRING) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-10-25 01:59", utc(2026, 10, 24, 23, 59)),
    ("2026-10-25 02:00", utc(2026, 10, 25, 0)),  # repeated hour: first occurrence (CEST)
    ("2026-10-25 02:30", utc(2026, 10, 25, 0, 30)),
    ("2026-10-25 02:59", utc(2026, 10, 25, 0, 59)),
    ("2026-10-25 03:00", utc(2026, 10, 25, 2)),  # CET
    ("2026-10-25T02:30+01:00", utc(2026, 10, 25, 1, 30)),  # the second occurrence, asked for by offset
    ("tomorrow 02:30", utc(2026, 10, 25, 0, 30)),
    ("sun 02:30", utc(2026, 10, 25, 0, 30)),
    ("in 1 day", utc(2026, 10, 25, 13)),  # 14:00 CET: same wall-clock time
    ("in 24h", utc(2026, 10, 25, 12)),  # elapsed: 13:00 CET
    ("in 1d", utc(2026, 10, 25, 13)),
])
def test_copenhagen_fall_back(text: str, expected: datetime) -> None:
    assert parse_when(text, COPENHAGEN, CPH_BEFORE_AUTUMN) == expected


@pytest.mark.parametrize(("now", "text", "expected"), [
    (utc(2026, 3, 29, 0, 15), "02:30", utc(2026, 3, 29, 1, 30)),  # 01:15 CET: today's 02:30 becomes 03:30 CEST
    (utc(2026, 3, 29, 1, 45), "02:30", utc(2026, 3, 30, 0, 30)),  # 03:45 CEST: tomorrow's 02:30 CEST
    (utc(2026, 3, 29, 0, 15), "in 1h", utc(2026, 3, 29, 1, 15)),  # 01:15 CET + 1 h = 03:15 CEST
    (utc(2026, 3, 28, 1, 30), "in 1 day", utc(2026, 3, 29, 1, 30)),  # 02:30 CET + 1 day: the gap, 03:30 CEST
    # 02:10 CET, the second pass through the repeated hour: "in 1 day" keeps the wall clock.
    (utc(2026, 10, 25, 1, 10), "in 1 day", utc(2026, 10, 26, 1, 10)),
    # 02:10 CEST, the first pass: 02:40 is still ahead in the first occurrence.
    (utc(2026, 10, 25, 0, 10), "02:40", utc(2026, 10, 25, 0, 40)),
    # 02:10 CET, second pass: 02:30 always means the first occurrence, which has passed, so tomorrow.
    (utc(2026, 10, 25, 1, 10), "02:30", utc(2026, 10, 26, 1, 30)),
    # The evening before the change, "in 1 day" lands in the repeated hour: first occurrence.
    (utc(2026, 10, 24, 0, 30), "in 1 day", utc(2026, 10, 25, 0, 30)),
])
def test_copenhagen_on_the_change_day(now: datetime, text: str, expected: datetime) -> None:
    assert parse_when(text, COPENHAGEN, now) == expected


def test_past_in_the_repeated_hour_names_the_first_occurrence() -> None:
    message = refusal("today 02:30", COPENHAGEN, utc(2026, 10, 25, 1, 10))
    assert message.startswith("2026-10-25 02:30 (Europe/Copenhagen) is in the past.")


# --- DST: America/New_York -----------------------------------------------------------------------------

NY_BEFORE_SPRING = utc(2026, 3, 7, 17)  # Saturday 12:00 EST
NY_BEFORE_AUTUMN = utc(2026, 10, 31, 16)  # Saturday 12:00 EDT


@pytest.mark.parametrize(("text", "expected"), [
    ("tomorrow 01:59", utc(2026, 3, 8, 6, 59)),
    ("tomorrow 02:00", utc(2026, 3, 8, 7)),  # gap: 03:00 EDT
    ("tomorrow 02:30", utc(2026, 3, 8, 7, 30)),  # gap: 03:30 EDT
    ("tomorrow 2:30am", utc(2026, 3, 8, 7, 30)),
    ("sun 02:15", utc(2026, 3, 8, 7, 15)),
    ("2026-03-08 03:00", utc(2026, 3, 8, 7)),
    ("in 1 day", utc(2026, 3, 8, 16)),  # 12:00 EDT
    ("in 24h", utc(2026, 3, 8, 17)),  # 13:00 EDT
    ("in 2 days", utc(2026, 3, 9, 16)),
])
def test_new_york_spring_forward(text: str, expected: datetime) -> None:
    assert parse_when(text, NEW_YORK, NY_BEFORE_SPRING) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("tomorrow 00:59", utc(2026, 11, 1, 4, 59)),
    ("tomorrow 01:00", utc(2026, 11, 1, 5)),  # repeated hour: first occurrence (EDT)
    ("tomorrow 01:30", utc(2026, 11, 1, 5, 30)),
    ("tomorrow 1:30am", utc(2026, 11, 1, 5, 30)),
    ("tomorrow 02:00", utc(2026, 11, 1, 7)),  # EST
    ("2026-11-01T01:30-05:00", utc(2026, 11, 1, 6, 30)),  # second occurrence, by offset
    ("in 1 day", utc(2026, 11, 1, 17)),  # 12:00 EST
    ("in 24h", utc(2026, 11, 1, 16)),  # 11:00 EST
    ("in 1 day 1 hour", utc(2026, 11, 1, 18)),
])
def test_new_york_fall_back(text: str, expected: datetime) -> None:
    assert parse_when(text, NEW_YORK, NY_BEFORE_AUTUMN) == expected


# --- DST: Australia/Sydney (southern hemisphere) --------------------------------------------------------

SYD_BEFORE_APRIL = utc(2026, 4, 4, 0)  # Saturday 11:00 AEDT
SYD_BEFORE_OCTOBER = utc(2026, 10, 3, 0)  # Saturday 10:00 AEST


@pytest.mark.parametrize(("text", "expected"), [
    ("tomorrow 01:59", utc(2026, 4, 4, 14, 59)),
    ("tomorrow 02:00", utc(2026, 4, 4, 15)),  # repeated hour: first occurrence (AEDT)
    ("tomorrow 02:30", utc(2026, 4, 4, 15, 30)),
    ("tomorrow 03:00", utc(2026, 4, 4, 17)),  # AEST
    ("sun 2:30am", utc(2026, 4, 4, 15, 30)),
    ("in 1 day", utc(2026, 4, 5, 1)),  # 11:00 AEST
    ("in 24h", utc(2026, 4, 5, 0)),  # 10:00 AEST
])
def test_sydney_april_fall_back(text: str, expected: datetime) -> None:
    assert parse_when(text, SYDNEY, SYD_BEFORE_APRIL) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("tomorrow 01:59", utc(2026, 10, 3, 15, 59)),
    ("tomorrow 02:00", utc(2026, 10, 3, 16)),  # gap: 03:00 AEDT
    ("tomorrow 02:30", utc(2026, 10, 3, 16, 30)),  # gap: 03:30 AEDT
    ("sunday 02:00", utc(2026, 10, 3, 16)),
    ("2026-10-04 03:30", utc(2026, 10, 3, 16, 30)),
    ("in 1 day", utc(2026, 10, 3, 23)),  # 10:00 AEDT
    ("in 24h", utc(2026, 10, 4, 0)),  # 11:00 AEDT
])
def test_sydney_october_spring_forward(text: str, expected: datetime) -> None:
    assert parse_when(text, SYDNEY, SYD_BEFORE_OCTOBER) == expected


# --- refusals --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "shown"), [
    ("2026-11-20 09:00", "2026-11-20 09:00 (Africa/Nairobi)"),
    ("today 09:00", "2026-11-24 09:00 (Africa/Nairobi)"),
    ("today", "2026-11-24 09:00 (Africa/Nairobi)"),
    ("2026-11-24T09:58Z", "2026-11-24 12:58 (Africa/Nairobi)"),  # 2 minutes ago: beyond the grace minute
    ("2026-11-24T06:00:00-03:00", "2026-11-24 12:00 (Africa/Nairobi)"),
    ("2025-12-01", "2025-12-01 09:00 (Africa/Nairobi)"),
])
def test_past_is_refused_naming_the_time_understood(text: str, shown: str) -> None:
    assert refusal(text) == f"{shown} is in the past. Try, for example: {EXAMPLES}."


@pytest.mark.parametrize("text", [
    "2027-11-25 14:00",  # 366 days and 1 hour ahead
    "in 367 days",
    "in 53 weeks",
    "in 8785h",  # 366 days and 1 hour
    "2030-01-01",
    "9999-12-31T23:59Z",
])
def test_more_than_a_year_ahead_is_refused(text: str) -> None:
    assert "is more than a year ahead." in refusal(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("2027-11-24 14:00", utc(2027, 11, 24, 11)),  # 365 days and 1 hour
    ("in 366 days", utc(2027, 11, 25, 10)),  # exactly the limit
    ("in 8784h", utc(2027, 11, 25, 10)),
])
def test_up_to_a_year_ahead_is_accepted(text: str, expected: datetime) -> None:
    assert parse_when(text, NAIROBI, NOW) == expected


def test_a_shorter_limit_names_the_latest_time() -> None:
    week = timedelta(days=7)
    assert parse_when("in 7 days", NAIROBI, NOW, max_ahead=week) == utc(2026, 12, 1, 10)
    message = refusal("in 8 days", max_ahead=week)
    assert message.startswith("2026-12-02 13:00 (Africa/Nairobi) is too far ahead: the latest possible time "
                              "is 2026-12-01 13:00 (Africa/Nairobi).")


@pytest.mark.parametrize("text", [
    "",
    "   ",
    "soon",
    "later today",
    "next monday",
    "yesterday 10:00",
    "in",
    "in 2",
    "in h",
    "in 2 parsecs",
    "in 1 month",
    "in -2h",
    "2h",
    "in 2h ago",
    "14",
    "1400",
    "tomorrow 9",
    "monday 14",
    "monday 14:00 please",
    "2026-12-01 14",
    "2026-12-01T14:00+25:00",
    "2026-12-01T14:00 utc",
    "20261201",
    "2026-W49",
    "tomorrow tomorrow",
    "in 1 day" + " 1 day" * 30,  # too long to read
    "in 99999999999 weeks",  # beyond the calendar
    "0001-01-01T00:00+05:00",
    "١٤ ٠٠",  # Arabic-Indic digits are read (tests/bot/test_when_languages.py), but not without a colon
])
def test_garbage_is_refused(text: str) -> None:
    assert "as a date or time." in refusal(text)


def test_garbage_message_quotes_the_input() -> None:
    assert refusal("  whenever  ") == f"I could not read “whenever” as a date or time. Try, for example: {EXAMPLES}."


@pytest.mark.parametrize("text", [
    "01/12/2026",
    "1/12/2026 14:00",
    "12/01",
    "12/1/26",
    "2026/12/01",
    "01.12.2026",
    "01-12-2026 14:00",
    "1-12-26",
])
def test_day_month_order_is_refused_suggesting_iso(text: str) -> None:
    message = refusal(text)
    assert message == (f"“{text}” could be read as day/month or as month/day. Write the date as YYYY-MM-DD instead. "
                       f"Try, for example: {EXAMPLES}.")


@pytest.mark.parametrize(("text", "shown"), [
    ("2026-02-30", "2026-02-30"),
    ("2027-02-29 10:00", "2027-02-29"),
    ("2026-13-01", "2026-13-01"),
    ("2026-12-00 10:00", "2026-12-00"),
])
def test_invalid_dates_are_refused(text: str, shown: str) -> None:
    assert refusal(text).startswith(f"{shown} is not a valid date.")


@pytest.mark.parametrize(("text", "shown"), [
    ("25:00", "25:00"),
    ("24:00", "24:00"),
    ("14:60", "14:60"),
    ("tomorrow 25:00", "25:00"),
    ("tomorrow 13pm", "13pm"),
    ("tomorrow 0am", "0am"),
    ("mon 9:75am", "9:75am"),
    ("2026-12-01 25:00", "25:00"),
    ("2026-12-01T23:59:60Z", "23:59:60"),
])
def test_invalid_times_are_refused(text: str, shown: str) -> None:
    assert refusal(text).startswith(f"{shown} is not a valid time: use 00:00 to 23:59")


def test_refusals_render_in_french() -> None:
    french = Translator.load()
    with pytest.raises(UserError) as caught:
        parse_when("2026-11-20 09:00", NAIROBI, NOW)
    rendered = french.render(caught.value.message, "fr")
    assert rendered.startswith("2026-11-20 09:00 (Africa/Nairobi) ")
    assert "passé" in rendered
    assert rendered.endswith(f"{EXAMPLES}.")


# --- how many words form a time (the command grammar stops there) ----------------------------------------


@pytest.mark.parametrize(("words", "length"), [
    ("now Webinar", 1),
    ("in 2h Webinar soon", 2),
    ("in 2 hours 30 minutes Webinar", 5),
    ("in 1d 2h and more", 3),
    ("monday 14:00 Webinar", 2),
    ("Monday at 2pm Webinar", 3),
    ("tomorrow 9 pm Webinar", 3),
    ("tomorrow Webinar", 1),
    ("tomorrow 2026 report", 1),  # four digits are no hour
    ("tomorrow tomorrow", 1),
    ("14:00 sharp", 1),
    ("at 9:30 pm", 3),
    ("2026-12-01 Webinar", 1),
    ("2026-12-01 14:00 Webinar", 2),
    ("2026-12-01 2:30 pm +03:00 Webinar", 4),
    ("2026-12-01T14:00Z Webinar", 1),
    ("2026-12-01 25:00 Webinar", 2),  # a complete shape: read, then refused as an invalid time
    ("monday 14:00 30 people", 2),
    ("soon", 0),
    ("Webinar monday 14:00", 0),
    ("01/12/2026 14:00", 0),
    ("١٤:٠٠ Webinar", 1),  # Arabic-Indic digits read as ASCII
    ("", 0),
])
def test_time_length_counts_the_words_of_a_time(words: str, length: int) -> None:
    assert time_length(words.split()) == length


@pytest.mark.parametrize(("words", "shown"), [
    ("tomorrow 9 Webinar", "tomorrow 9 Webinar"),  # 9 begins "9 pm" and stops
    ("monday 14", "monday 14"),
    ("in 2h 30 people", "in 2h 30 people"),
    ("in", "in"),
    ("at Webinar", "at Webinar"),
    ("2026-12-01 9 Webinar", "2026-12-01 9 Webinar"),
])
def test_time_length_refuses_a_time_begun_but_not_finished(words: str, shown: str) -> None:
    with pytest.raises(UserError) as caught:
        time_length(words.split())
    rendered = ENGLISH.render(caught.value.message, "en")
    assert rendered.startswith(f"“{shown}” is not a complete date or time, so I cannot tell where it ends.")
    assert rendered.endswith(f"Try, for example: {EXAMPLES}.")


@pytest.mark.parametrize("text", [
    "in 2h", "in 1 hour 30 minutes", "tomorrow at 9:30 pm", "2026-12-01 14:00 +01", "monday 14:00", "9pm",
])
def test_every_accepted_form_is_one_whole_time(text: str) -> None:
    """The grammar that measures a time on a command line is the one that reads it: no drift between them."""
    assert time_length(text.split()) == len(text.split())
    parse_when(text, NAIROBI, NOW)


def wall(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A naive wall-clock time (in the zone the test reads in)."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001 - wall-clock time, zone given apart


@pytest.mark.parametrize(("text", "typed", "shifted"), [
    ("2026-03-29 02:30", wall(2026, 3, 29, 2, 30), True),  # does not exist: read as 03:30 CEST
    ("tomorrow 02:30", wall(2026, 3, 29, 2, 30), True),
    ("2026-03-29 03:30", wall(2026, 3, 29, 3, 30), False),
    ("2026-10-25 02:30", wall(2026, 10, 25, 2, 30), False),  # repeated, not missing
    ("in 2h", None, False),
    ("2026-03-29T02:30+01:00", None, False),  # an offset names an instant, not a wall-clock time
])
def test_read_when_tells_a_wall_clock_time_a_dst_gap_moved(text: str, typed: datetime | None,
                                                           shifted: bool) -> None:
    reading = read_when(text, COPENHAGEN, CPH_BEFORE_SPRING)
    assert (reading.typed, reading.shifted) == (typed, shifted)
    assert reading.instant == parse_when(text, COPENHAGEN, CPH_BEFORE_SPRING)
