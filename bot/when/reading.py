"""Which instant typed words mean: :func:`read_when` runs the grammar (:mod:`bot.when.grammar`) over the folded
words of the reader's language and English, then resolves what they said on the wall clock of the zone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.when.grammar import DATE, OTHER_DATE, Clock, Path, scan
from bot.when.messages import (
    Problem,
    ambiguous_order,
    invalid_date,
    invalid_time,
    past,
    refused,
    too_far,
    unfinished,
    unreadable,
)
from bot.when.words import TABLES, fold, vocabulary

DEFAULT_TIME = time(9, 0)
"""The local time used when only a day is given (``2026-12-01``, ``tomorrow``, ``monday``)."""

NOW_GRACE = timedelta(seconds=60)
"""Anything this far in the past still counts as now."""

MAX_LENGTH = 100


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


def parse_when(text: str, zone: ZoneInfo, now: datetime, *, max_ahead: timedelta = timedelta(days=366),
               language: str | None = None) -> datetime:
    """The instant ``text`` means, as an aware UTC datetime (see :mod:`bot.when` for the forms); ``now`` must be
    aware, ``zone`` is the author's zone, ``language`` the reader's (English is always read too). Raises
    :class:`UserError` for anything refused."""
    return read_when(text, zone, now, max_ahead=max_ahead, language=language).instant


def read_when(text: str, zone: ZoneInfo, now: datetime, *, max_ahead: timedelta = timedelta(days=366),
              language: str | None = None) -> Reading:
    """Like :func:`parse_when`, with the wall-clock time that was typed (to tell a DST gap)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    words = fold(text).split()
    if len(" ".join(words)) > MAX_LENGTH:
        raise refused(unreadable(text), language)
    _viable, complete, path = scan(words, vocabulary(language))
    if path is None or complete != len(words):
        raise not_a_time(text, language)
    try:
        instant, typed = _interpret(path, zone, now)
    except OverflowError:  # beyond year 1 or 9999, e.g. "in 99999999 weeks"
        raise refused(unreadable(text), language) from None
    except Problem as problem:
        raise refused(problem.problem, language) from None
    if instant > now:
        if instant - now > max_ahead:
            raise refused(too_far(instant, zone, now, max_ahead), language)
        return Reading(instant, zone, typed, text)
    if now - instant <= NOW_GRACE:
        return Reading(now, zone, None, text)
    raise refused(past(instant, zone), language)


def time_length(words: Sequence[str], language: str | None = None) -> int:
    """How many of the leading ``words`` form a time: the longest run that is a complete one, 0 when the
    first word does not begin a time (so a caller can take a time from a command line and leave the rest).

    ``language``: the reader's. ``None`` (a caller that does not know who reads) counts with each language's
    words in turn and takes the longest; reading the time afterwards in the reader's language refuses what
    only another language's words made longer, so nothing is guessed either way.

    Raises :class:`UserError` when the words go on to begin a longer time they do not finish
    (``tomorrow 9 Webinar``, ``in 2h 30 people``): where the time ends cannot be told, so nothing is guessed.
    """
    folded = [fold(word) for word in words]
    scans = [scan(folded, vocabulary(code))[:2] for code in ([language] if language is not None else TABLES)]
    viable, complete = max(found[0] for found in scans), max(found[1] for found in scans)
    if viable > complete:
        raise refused(unfinished(" ".join(words[:viable + 1])), language)
    return complete


def not_a_time(text: str, language: str | None = None) -> UserError:
    """The refusal for ``text`` that is no time at all, naming the accepted forms."""
    cleaned = " ".join(fold(text).split())
    if OTHER_DATE.fullmatch(cleaned) and not DATE.match(cleaned):  # "2026-12-01 14" is ISO, just unfinished
        return refused(ambiguous_order(text), language)
    return refused(unreadable(text), language)


# --- interpretation ----------------------------------------------------------------------------------


def _interpret(path: Path, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime | None]:
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
    if path.relative_day is not None:
        return _resolve(today + timedelta(days=path.relative_day), at, zone)
    ahead = 0 if path.weekday is None else (path.weekday - today.weekday()) % 7
    instant, typed = _resolve(today + timedelta(days=ahead), at, zone)
    if instant < now - NOW_GRACE:  # that time today has passed: tomorrow, or that weekday next week
        instant, typed = _resolve(today + timedelta(days=ahead + (1 if path.weekday is None else 7)), at, zone)
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
        raise Problem(invalid_date(year, month, day)) from None


def _time_of(clock: Clock) -> time:
    hour, minute, second = clock.hour, clock.minute or 0, clock.second or 0
    microsecond = int(clock.fraction.ljust(6, "0")) if clock.fraction else 0
    if clock.ampm is not None:
        if not 1 <= hour <= 12:
            raise Problem(invalid_time(clock.shown))
        hour = hour % 12 + (12 if clock.ampm == "pm" else 0)
    try:
        return time(hour, minute, second, microsecond)
    except ValueError:
        raise Problem(invalid_time(clock.shown)) from None


def _fixed_offset(text: str) -> timezone:
    if text == "z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise Problem(unreadable(text))
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)
