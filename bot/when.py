"""Reading a point in time typed by a person, e.g. for scheduling an announcement or a meeting.

:func:`parse_when` turns the text into an aware UTC instant, reading wall-clock times in the author's
IANA zone. Accepted forms (case-insensitive, extra spaces tolerated; English words, like the commands):

* ``now`` — anything that resolves to within the past 60 seconds also counts as now and returns ``now``.
* ``in 2h``, ``in 2 hours``, ``in 30m``, ``in 30 minutes``, ``in 1h30m``, ``in 1 day``, ``in 3d``,
  ``in 2 weeks`` — days and weeks are *calendar* arithmetic on the local wall clock (``in 1 day`` across a
  DST change is the same wall-clock time tomorrow), hours and minutes are *elapsed* time (``in 24h`` across
  a DST change shows a different wall-clock time). In a mix such as ``in 1d 2h`` the days are applied to
  the wall clock first, then the hours are added as elapsed time.
* ``today 17:00``, ``tomorrow 09:00``, ``tomorrow 9am``, ``tomorrow at 9:30pm``.
* ``monday 14:00`` / ``mon 14:00`` — the next such day; today if it is that weekday and the time is still
  ahead, otherwise the same weekday next week.
* ``14:00``, ``9:30``, ``9pm`` alone — the next such time: today if still ahead, otherwise tomorrow.
* ``2026-12-01 14:00``, ``2026-12-01T14:00`` (seconds optional).
* A day without a time (``2026-12-01``, ``tomorrow``, ``monday``) means **09:00 local time** that day.
* ISO 8601 with an offset or ``Z`` (``2026-12-01T14:00:00+03:00``, ``2026-12-01T11:00Z``) — the offset wins
  over the zone.

Refused with a :class:`~bot.errors.UserError`: ``01/12/2026`` and other day/month orders that could be read
either way (the message suggests ``YYYY-MM-DD``), invalid dates or times (``2026-02-30``, ``25:00``), times
in the past, times more than ``max_ahead`` ahead, and anything else.

DST: a local time that does not exist (02:30 on the spring-forward day) is moved forward by the length of
the gap (03:30); a local time that occurs twice (the repeated autumn hour) means the first occurrence. Both
follow from PEP 495 with ``fold=0`` and a round trip through UTC, never from naive arithmetic on offsets.
(So ``02:30`` typed at 02:10 during the *second* pass through a repeated hour means tomorrow's 02:30; an
explicit offset, ``2026-10-25T02:30+01:00``, reaches the second occurrence.)
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.i18n import Text, _

__all__ = ["DEFAULT_TIME", "EXAMPLES", "NOW_GRACE", "format_local", "parse_when"]

DEFAULT_TIME = time(9, 0)
"""The local time used when only a day is given (``2026-12-01``, ``tomorrow``, ``monday``)."""

NOW_GRACE = timedelta(seconds=60)
"""Anything this far in the past still counts as now."""

EXAMPLES = "now, in 2h, in 30 minutes, tomorrow 09:00, monday 14:00, 2026-12-01 14:00"
"""The accepted forms shown in every error (command syntax, so never translated)."""

MAX_LENGTH = 100

_WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tue": 1, "tues": 1,
    "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_UNITS: dict[str, str] = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
}

_TIME = r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?)?" \
        r"(?: ?(?P<ampm>am|pm))?"
_OFFSET = r"(?: ?(?P<offset>z|[+-]\d{2}(?::?\d{2})?))?"
_RELATIVE = re.compile(r"in (?P<amounts>(?:\d+ ?[a-z]+ ?)+)", re.ASCII)
_AMOUNT = re.compile(r"(\d+) ?([a-z]+)", re.ASCII)
_ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?:(?: ?t ?| )" + _TIME + _OFFSET + ")?",
                  re.ASCII)
_DAY_WORD = re.compile(r"(?P<word>[a-z]+)(?: (?:at )?" + _TIME + ")?", re.ASCII)
_TIME_ALONE = re.compile(r"(?:at )?" + _TIME, re.ASCII)
_OTHER_DATE = re.compile(r"(?:\d{1,4}/\d{1,2}(?:/\d{1,4})?|\d{1,4}([.-])\d{1,2}\1\d{1,4})\b.*", re.ASCII)


def parse_when(text: str, zone: ZoneInfo, now: datetime, *, max_ahead: timedelta = timedelta(days=366)) -> datetime:
    """The instant ``text`` means, as an aware UTC datetime; see the module docstring for the forms.

    ``now`` must be aware; ``zone`` is the author's zone. Raises :class:`UserError` for anything refused.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    cleaned = " ".join(text.lower().split())
    if len(cleaned) > MAX_LENGTH:
        raise _refused(_unreadable(text))
    try:
        instant = _interpret(cleaned, text, zone, now)
    except OverflowError:  # beyond year 1 or 9999, e.g. "in 99999999 weeks"
        raise _refused(_unreadable(text)) from None
    if instant > now:
        if instant - now > max_ahead:
            raise _refused(_too_far(instant, zone, now, max_ahead))
        return instant
    if now - instant <= NOW_GRACE:
        return now
    raise _refused(_("{when} is in the past.", when=_plain(instant, zone)))


def format_local(instant: datetime, zone: ZoneInfo) -> str:
    """``instant`` on the wall clock of ``zone``, e.g. ``Tue 1 Dec 2026 14:00 (Africa/Nairobi)``."""
    local = instant.astimezone(zone)
    return (f"{_DAY_NAMES[local.weekday()]} {local.day} {_MONTH_NAMES[local.month - 1]} {local.year} "
            f"{local:%H:%M} ({_zone_name(zone)})")


# --- interpretation ----------------------------------------------------------------------------------


def _interpret(cleaned: str, original: str, zone: ZoneInfo, now: datetime) -> datetime:
    if cleaned == "now":
        return now
    if match := _RELATIVE.fullmatch(cleaned):
        return _relative(match.group("amounts"), original, zone, now)
    if match := _ISO.fullmatch(cleaned):
        return _absolute(match, zone)
    if _OTHER_DATE.fullmatch(cleaned):
        raise _refused(_("“{text}” could be read as day/month or as month/day. Write the date as YYYY-MM-DD instead.",
                         text=original.strip()))
    if (match := _DAY_WORD.fullmatch(cleaned)) and (match.group("word") in _WEEKDAYS
                                                    or match.group("word") in ("today", "tomorrow")):
        return _day_word(match, zone, now)
    if match := _TIME_ALONE.fullmatch(cleaned):
        at = _time_of(match)
        today = now.astimezone(zone).date()
        candidate = _resolve(today, at, zone)
        if candidate < now - NOW_GRACE:
            candidate = _resolve(today + timedelta(days=1), at, zone)
        return candidate
    raise _refused(_unreadable(original))


def _relative(amounts: str, original: str, zone: ZoneInfo, now: datetime) -> datetime:
    totals = dict.fromkeys(("weeks", "days", "hours", "minutes"), 0)
    for number, word in _AMOUNT.findall(amounts):
        unit = _UNITS.get(word)
        if unit is None:
            raise _refused(_unreadable(original))
        totals[unit] += int(number)
    days = totals["weeks"] * 7 + totals["days"]
    elapsed_minutes = totals["hours"] * 60 + totals["minutes"]
    instant = now
    if days:
        # Calendar arithmetic: the same wall-clock time ``days`` later, then back to UTC.
        local = now.astimezone(zone)
        instant = _resolve(local.date() + timedelta(days=days), local.time(), zone)
    return instant + timedelta(minutes=elapsed_minutes)


def _absolute(match: re.Match[str], zone: ZoneInfo) -> datetime:
    day = _date_of(match)
    at = _time_of(match) if match.group("hour") is not None else DEFAULT_TIME
    offset = match.group("offset")
    if offset is None:
        return _resolve(day, at, zone)
    fixed = _fixed_offset(offset, match.group(0))
    return datetime.combine(day, at, tzinfo=fixed).astimezone(UTC)


def _day_word(match: re.Match[str], zone: ZoneInfo, now: datetime) -> datetime:
    word = match.group("word")
    at = _time_of(match) if match.group("hour") is not None else DEFAULT_TIME
    today = now.astimezone(zone).date()
    if word == "today":
        return _resolve(today, at, zone)
    if word == "tomorrow":
        return _resolve(today + timedelta(days=1), at, zone)
    ahead = (_WEEKDAYS[word] - today.weekday()) % 7
    candidate = _resolve(today + timedelta(days=ahead), at, zone)
    if candidate < now - NOW_GRACE:  # only possible when ahead == 0: that time today has passed
        candidate = _resolve(today + timedelta(days=ahead + 7), at, zone)
    return candidate


def _resolve(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``day`` ``at`` in ``zone``.

    With ``fold=0`` (PEP 495) an ambiguous time takes the offset in force before the change, i.e. the first
    occurrence, and a non-existent time also takes the offset before the change, so converting to UTC and
    back moves it forward by the length of the gap (02:30 → 03:30 on a one-hour spring-forward day).
    """
    return datetime.combine(day, at.replace(fold=0), tzinfo=zone).astimezone(UTC)


def _date_of(match: re.Match[str]) -> date:
    year, month, day = int(match.group("year")), int(match.group("month")), int(match.group("day"))
    try:
        return date(year, month, day)
    except ValueError:
        raise _refused(_("{date} is not a valid date.", date=f"{year:04d}-{month:02d}-{day:02d}")) from None


def _time_of(match: re.Match[str]) -> time:
    hour = int(match.group("hour"))
    minute = int(match.group("minute") or 0)
    second = int(match.group("second") or 0)
    fraction = match.group("fraction")
    microsecond = int(fraction.ljust(6, "0")) if fraction else 0
    ampm = match.group("ampm")
    last = max(match.end(group) for group in ("hour", "minute", "second", "fraction", "ampm")
               if match.group(group) is not None)
    shown = match.string[match.start("hour"):last]
    if ampm is None and match.group("minute") is None:
        raise _refused(_unreadable(shown))  # a bare number such as "14" is not a time
    if ampm is not None:
        if not 1 <= hour <= 12:
            raise _refused(_invalid_time(shown))
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        return time(hour, minute, second, microsecond)
    except ValueError:
        raise _refused(_invalid_time(shown)) from None


def _fixed_offset(text: str, shown: str) -> timezone:
    if text == "z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise _refused(_unreadable(shown))
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


# --- messages ----------------------------------------------------------------------------------------


def _refused(problem: Text) -> UserError:
    """``problem`` followed by the accepted forms."""
    return UserError(_("{problem} Try, for example: {examples}.", problem=problem, examples=EXAMPLES))


def _unreadable(text: str) -> Text:
    return _("I could not read “{text}” as a date or time.", text=text.strip())


def _invalid_time(text: str) -> Text:
    return _("{time} is not a valid time: use 00:00 to 23:59, or 12-hour times such as 9am or 9:30pm.",
             time=text)


def _too_far(instant: datetime, zone: ZoneInfo, now: datetime, max_ahead: timedelta) -> Text:
    if max_ahead >= timedelta(days=365):
        return _("{when} is more than a year ahead.", when=_plain(instant, zone))
    return _("{when} is too far ahead: the latest possible time is {latest}.",
             when=_plain(instant, zone), latest=_plain(now + max_ahead, zone))


def _plain(instant: datetime, zone: ZoneInfo) -> str:
    """Language-neutral form for messages, e.g. ``2026-11-20 09:00 (Africa/Nairobi)``."""
    try:
        return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} ({_zone_name(zone)})"
    except OverflowError:  # within hours of year 1 or 9999
        return f"{instant.astimezone(UTC):%Y-%m-%d %H:%M} (UTC)"


def _zone_name(zone: ZoneInfo) -> str:
    return zone.key or str(zone)
