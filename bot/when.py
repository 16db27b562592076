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

The forms are a small grammar over words (:func:`_advance`), so a command line can ask how many of its words
form a time (:func:`time_length`): ``when:monday 14:00 Webinar`` takes two, ``when:tomorrow 9 Webinar`` is
refused (``9`` begins a time it does not finish), never guessed. The word lists below are the one place to
translate the grammar's words.

Refused with a :class:`~bot.errors.UserError`: ``01/12/2026`` and other day/month orders that could be read
either way (the message suggests ``YYYY-MM-DD``), invalid dates or times (``2026-02-30``, ``25:00``), times
in the past, times more than ``max_ahead`` ahead, and anything else.

DST: a local time that does not exist (02:30 on the spring-forward day) is moved forward by the length of
the gap (03:30); a local time that occurs twice (the repeated autumn hour) means the first occurrence. Both
follow from PEP 495 with ``fold=0`` and a round trip through UTC, never from naive arithmetic on offsets.
(So ``02:30`` typed at 02:10 during the *second* pass through a repeated hour means tomorrow's 02:30; an
explicit offset, ``2026-10-25T02:30+01:00``, reaches the second occurrence.) :func:`read_when` also gives
the wall-clock time typed, so a caller can say when a gap moved it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.i18n import Text, _

__all__ = ["DEFAULT_TIME", "EXAMPLES", "NEXT_WORDS", "NOW_GRACE", "TODAY_WORDS", "TOMORROW_WORDS", "WEEKDAYS",
           "Reading", "format_local", "not_a_time", "parse_when", "read_when", "time_length"]

DEFAULT_TIME = time(9, 0)
"""The local time used when only a day is given (``2026-12-01``, ``tomorrow``, ``monday``)."""

NOW_GRACE = timedelta(seconds=60)
"""Anything this far in the past still counts as now."""

EXAMPLES = "now, in 2h, in 30 minutes, tomorrow 09:00, monday 14:00, 2026-12-01 14:00"
"""The accepted forms shown in every error (command syntax, so never translated)."""
MAX_LENGTH = 100

# --- the words of the grammar (the one place to translate them) -----------------------------------------

NOW_WORDS = frozenset({"now"})
IN_WORDS = frozenset({"in"})  # begins a relative time: "in 2h"
AT_WORDS = frozenset({"at"})  # may stand before a clock time: "tomorrow at 9:30", "at 14:00"
TODAY_WORDS = frozenset({"today"})
TOMORROW_WORDS = frozenset({"tomorrow"})
NEXT_WORDS = frozenset({"next"})  # the next of a series' occurrences: "occurrence:next"
WEEKDAYS = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
            "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
            "sunday": 6, "sun": 6}
AM_WORDS = frozenset({"am"})
PM_WORDS = frozenset({"pm"})
UNITS: dict[str, str] = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
}
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# --- the shapes of single words (digits are ASCII: "١٤:٠٠" is refused, not read) --------------------------


def _alternatives(words: frozenset[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_AMPM = _alternatives(AM_WORDS | PM_WORDS)
_OFFSET_SHAPE = r"z|[+-][0-9]{2}(?::?[0-9]{2})?"
_CLOCK = re.compile(r"(?P<hour>[0-9]{1,2})(?::(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})"
                    rf"(?:\.(?P<fraction>[0-9]{{1,6}}))?)?)?(?P<ampm>{_AMPM})?(?P<offset>{_OFFSET_SHAPE})?")
_DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})(?:t(?P<clock>.+))?")
_OFFSET = re.compile(_OFFSET_SHAPE)
_NUMBER = re.compile(r"[0-9]+")
_AMOUNTS = re.compile(r"(?:[0-9]+[^\W\d_]+)+")
_AMOUNT = re.compile(r"([0-9]+)([^\W\d_]+)")
_OTHER_DATE = re.compile(r"(?:\d{1,4}/\d{1,2}(?:/\d{1,4})?|\d{1,4}([.-])\d{1,2}\1\d{1,4})\b.*", re.ASCII)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a typed time means: the instant, and the wall-clock time typed when it named one."""

    instant: datetime  # aware, UTC
    zone: ZoneInfo
    typed: datetime | None
    """The naive wall-clock time in ``zone`` that the text named (``None`` for ``now``, ``in 2h`` or an
    explicit offset); it differs from the instant's wall clock when a DST gap moved it forward."""
    text: str = ""  # as typed, for a reply that quotes it

    @property
    def shifted(self) -> bool:
        """Whether the typed wall-clock time does not exist in ``zone`` and was moved forward by the gap."""
        return self.typed is not None and self.instant.astimezone(self.zone).replace(tzinfo=None) != self.typed


def parse_when(text: str, zone: ZoneInfo, now: datetime, *, max_ahead: timedelta = timedelta(days=366)) -> datetime:
    """The instant ``text`` means, as an aware UTC datetime (see the module docstring for the forms); ``now``
    must be aware, ``zone`` is the author's zone. Raises :class:`UserError` for anything refused."""
    return read_when(text, zone, now, max_ahead=max_ahead).instant


def read_when(text: str, zone: ZoneInfo, now: datetime, *, max_ahead: timedelta = timedelta(days=366)) -> Reading:
    """Like :func:`parse_when`, with the wall-clock time that was typed (to tell a DST gap)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    words = text.lower().split()
    if len(" ".join(words)) > MAX_LENGTH:
        raise _refused(_unreadable(text))
    _viable, complete, path = _scan(words)
    if path is None or complete != len(words):
        raise not_a_time(text)
    try:
        instant, typed = _interpret(path, zone, now)
    except OverflowError:  # beyond year 1 or 9999, e.g. "in 99999999 weeks"
        raise _refused(_unreadable(text)) from None
    if instant > now:
        if instant - now > max_ahead:
            raise _refused(_too_far(instant, zone, now, max_ahead))
        return Reading(instant, zone, typed, text)
    if now - instant <= NOW_GRACE:
        return Reading(now, zone, None, text)
    raise _refused(_("{when} is in the past.", when=_plain(instant, zone)))


def time_length(words: Sequence[str]) -> int:
    """How many of the leading ``words`` form a time: the longest run that is a complete one, 0 when the
    first word does not begin a time (so a caller can take a time from a command line and leave the rest).

    Raises :class:`UserError` when the words go on to begin a longer time they do not finish
    (``tomorrow 9 Webinar``, ``in 2h 30 people``): where the time ends cannot be told, so nothing is guessed.
    """
    viable, complete, _path = _scan([word.lower() for word in words])
    if viable > complete:
        raise _refused(_("“{text}” is not a complete date or time, so I cannot tell where it ends. Complete it, "
                         "or put the whole time in double quotes.", text=" ".join(words[:viable + 1])))
    return complete


def not_a_time(text: str) -> UserError:
    """The refusal for ``text`` that is no time at all, naming the accepted forms."""
    cleaned = " ".join(text.lower().split())
    if _OTHER_DATE.fullmatch(cleaned) and not _DATE.match(cleaned):  # "2026-12-01 14" is ISO, just unfinished
        return _refused(_("“{text}” could be read as day/month or as month/day. Write the date as YYYY-MM-DD "
                          "instead.", text=text.strip()))
    return _refused(_unreadable(text))


def format_local(instant: datetime, zone: ZoneInfo) -> str:
    """``instant`` on the wall clock of ``zone``, e.g. ``Tue 1 Dec 2026 14:00 (Africa/Nairobi)``."""
    local = instant.astimezone(zone)
    return (f"{_DAY_NAMES[local.weekday()]} {local.day} {_MONTH_NAMES[local.month - 1]} {local.year} "
            f"{local:%H:%M} ({_zone_name(zone)})")


# --- the grammar -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Clock:
    hour: int
    minute: int | None
    second: int | None
    fraction: str | None
    ampm: str | None
    offset: str | None
    shown: str  # as typed, without the offset: what an error quotes

    @property
    def bare(self) -> bool:  # a number alone ("9"): a time only once am or pm follows
        return self.minute is None and self.ampm is None


@dataclass(frozen=True, slots=True)
class _Path:
    """How far the words have come through the grammar, and what they said."""

    state: str = "start"
    now: bool = False
    amounts: tuple[tuple[int, str], ...] = ()
    pending: int = 0
    day_word: str | None = None
    day: tuple[int, int, int] | None = None
    clock: _Clock | None = None
    offset: str | None = None


_ACCEPTING = frozenset({"end", "amounts", "day", "clock", "date", "date-clock", "date-clock-ampm"})
_TAKES_AMPM = {"clock": "end", "hour": "end", "date-clock-ampm": "date-clock", "date-hour": "date-clock"}


def _scan(words: Sequence[str]) -> tuple[int, int, _Path | None]:
    """(words that still begin a time, words of the longest complete time, what the latter says)."""
    path, viable, complete, found = _Path(), 0, 0, None
    for index, word in enumerate(words):
        advanced = _advance(path, word)
        if advanced is None:
            break
        path, viable = advanced, index + 1
        if path.state in _ACCEPTING:
            complete, found = viable, path
    return viable, complete, found


def _advance(path: _Path, word: str) -> _Path | None:
    """The path after one more (lower-case) word, or ``None`` when no time goes on that way."""
    state = path.state
    if state == "start":
        if word in NOW_WORDS:
            return replace(path, state="end", now=True)
        if word in IN_WORDS:
            return replace(path, state="in")
        if word in TODAY_WORDS or word in TOMORROW_WORDS or word in WEEKDAYS:
            return replace(path, state="day", day_word=word)
        if word in AT_WORDS:
            return replace(path, state="at")
        if match := _DATE.fullmatch(word):
            dated = replace(path, state="date", day=(int(match["year"]), int(match["month"]), int(match["day"])))
            return dated if match["clock"] is None else _with_clock(dated, match["clock"])
        return _with_clock(path, word)
    if state in ("in", "amounts"):
        if _AMOUNTS.fullmatch(word):
            found = [(int(number), UNITS.get(unit)) for number, unit in _AMOUNT.findall(word)]
            units = [(number, unit) for number, unit in found if unit is not None]
            return replace(path, state="amounts", amounts=path.amounts + tuple(units)) \
                if len(units) == len(found) else None
        return replace(path, state="unit", pending=int(word)) if _NUMBER.fullmatch(word) else None
    if state == "unit":
        unit = UNITS.get(word)
        return None if unit is None else replace(path, state="amounts", amounts=(*path.amounts, (path.pending, unit)))
    if state == "day" and word in AT_WORDS:
        return replace(path, state="at")
    if state in ("day", "at", "date"):
        return _with_clock(path, word)
    if state in _TAKES_AMPM and (word in AM_WORDS or word in PM_WORDS) and path.clock is not None:
        clock = replace(path.clock, ampm=word, shown=f"{path.clock.shown} {word}")
        return replace(path, state=_TAKES_AMPM[state], clock=clock)
    if state in ("date-clock", "date-clock-ampm") and _OFFSET.fullmatch(word):
        return replace(path, state="end", offset=word)
    return None


def _with_clock(path: _Path, text: str) -> _Path | None:
    match = _CLOCK.fullmatch(text)
    if match is None:
        return None
    last = max(match.end(group) for group in ("hour", "minute", "second", "fraction", "ampm")
               if match[group] is not None)
    minute, second = (None if match[g] is None else int(match[g]) for g in ("minute", "second"))
    clock = _Clock(int(match["hour"]), minute, second, match["fraction"], match["ampm"], match["offset"], text[:last])
    dated = path.day is not None
    if clock.offset is not None:  # only an ISO date and time carries an offset
        return replace(path, state="end", clock=clock) if dated and not clock.bare else None
    if clock.bare:
        return replace(path, state="date-hour" if dated else "hour", clock=clock)
    if clock.ampm is not None:
        return replace(path, state="date-clock" if dated else "end", clock=clock)
    return replace(path, state="date-clock-ampm" if dated else "clock", clock=clock)


# --- interpretation ----------------------------------------------------------------------------------


def _interpret(path: _Path, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime | None]:
    """The instant, and the naive wall-clock time the words named (``None`` when they named none)."""
    if path.now:
        return now, None
    if path.amounts:
        return _relative(path.amounts, zone, now)
    at = _time_of(path.clock) if path.clock is not None else DEFAULT_TIME
    today = now.astimezone(zone).date()
    if path.day is not None:
        day = _date_of(*path.day)
        offset = path.offset or (path.clock.offset if path.clock is not None else None)
        if offset is None:
            return _resolve(day, at, zone)
        return datetime.combine(day, at, tzinfo=_fixed_offset(offset)).astimezone(UTC), None
    if path.day_word in TODAY_WORDS:
        return _resolve(today, at, zone)
    if path.day_word in TOMORROW_WORDS:
        return _resolve(today + timedelta(days=1), at, zone)
    ahead = 0 if path.day_word is None else (WEEKDAYS[path.day_word] - today.weekday()) % 7
    instant, typed = _resolve(today + timedelta(days=ahead), at, zone)
    if instant < now - NOW_GRACE:  # that time today has passed: tomorrow, or that weekday next week
        instant, typed = _resolve(today + timedelta(days=ahead + (1 if path.day_word is None else 7)), at, zone)
    return instant, typed


def _relative(amounts: Sequence[tuple[int, str]], zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime | None]:
    totals = dict.fromkeys(("weeks", "days", "hours", "minutes"), 0)
    for number, unit in amounts:
        totals[unit] += number
    days = totals["weeks"] * 7 + totals["days"]
    elapsed = timedelta(minutes=totals["hours"] * 60 + totals["minutes"])
    if not days:
        return now + elapsed, None
    local = now.astimezone(zone)  # calendar arithmetic: the same wall-clock time days later, then to UTC
    instant, typed = _resolve(local.date() + timedelta(days=days), local.time(), zone)
    return instant + elapsed, typed if not elapsed else None


def _resolve(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instant of wall-clock ``day`` ``at`` in ``zone``, and that wall-clock time. With ``fold=0``
    (PEP 495) a repeated time takes the offset before the change (its first occurrence), and so does a time
    that does not exist, so the round trip through UTC moves it forward by the gap (02:30 → 03:30)."""
    wall = datetime.combine(day, at.replace(fold=0))
    return wall.replace(tzinfo=zone).astimezone(UTC), wall


def _date_of(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise _refused(_("{date} is not a valid date.", date=f"{year:04d}-{month:02d}-{day:02d}")) from None


def _time_of(clock: _Clock) -> time:
    hour, minute, second = clock.hour, clock.minute or 0, clock.second or 0
    microsecond = int(clock.fraction.ljust(6, "0")) if clock.fraction else 0
    if clock.ampm is not None:
        if not 1 <= hour <= 12:
            raise _refused(_invalid_time(clock.shown))
        hour = hour % 12 + (12 if clock.ampm in PM_WORDS else 0)
    try:
        return time(hour, minute, second, microsecond)
    except ValueError:
        raise _refused(_invalid_time(clock.shown)) from None


def _fixed_offset(text: str) -> timezone:
    if text == "z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise _refused(_unreadable(text))
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
