"""Recurrence rules for meetings, and their occurrences as UTC instants.

Why not APScheduler's CronTrigger or IntervalTrigger: both are wrong across daylight-saving changes (a
weekly Monday 00:00 job skips a week, a daily 02:30 job fires twice in the repeated hour). A meeting is
instead a *local wall-clock* start plus an IANA zone; dateutil's ``rrule`` expands it on naive wall-clock
times, and each wall-clock time becomes one UTC instant:

* a wall-clock time that does not exist on the spring-forward day (02:30 in Copenhagen) is moved forward by
  the length of the gap (03:30 local), the same rule as :func:`bot.when.parse_when`;
* a wall-clock time that occurs twice on the autumn day means the first pass (PEP 495 ``fold=0``) — one
  occurrence, not two.

Rules are stored as the body of an RFC 5545 RRULE (``FREQ=WEEKLY;BYDAY=TU``) so the .ics export can copy them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from bot.errors import UserError
from bot.i18n import Text, _, _n, exact_duration, weekdays

__all__ = ["RULE_WORDS", "describe_rule", "expand", "gap_moves", "local_of", "parse_rule", "reminder_minutes", "to_utc"]

RULE_WORDS = "daily, weekdays, weekly, biweekly, monthly, tue,thu"
"""The accepted shorthand, shown in errors (command syntax, so never translated)."""

MAX_RULE_LENGTH = 300
MAX_OFFSET = timedelta(days=7)
_DAYS = {"mo": "MO", "mon": "MO", "monday": "MO", "tu": "TU", "tue": "TU", "tues": "TU", "tuesday": "TU",
         "we": "WE", "wed": "WE", "wednesday": "WE", "th": "TH", "thu": "TH", "thur": "TH", "thurs": "TH",
         "thursday": "TH", "fr": "FR", "fri": "FR", "friday": "FR", "sa": "SA", "sat": "SA", "saturday": "SA",
         "su": "SU", "sun": "SU", "sunday": "SU"}
_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant of a naive wall-clock time in ``zone``: gaps move forward, repeated hours take the first."""
    aware = local.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    # A time in a gap round-trips to a different wall clock; fold=0 already gave the pre-gap offset, which
    # moves it forward by the length of the gap — exactly what we want.
    return instant


def local_of(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time of ``instant`` in ``zone``."""
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def parse_rule(text: str, start: datetime, zone: ZoneInfo | None = None) -> str:
    """The RRULE body for a shorthand or raw rule typed by a person, validated against the naive local
    ``start`` (in ``zone``, UTC when not given). Raises :class:`UserError` when it is invalid, never occurs, or
    occurs more than once an hour."""
    raw = text.strip()
    if len(raw) > MAX_RULE_LENGTH:
        raise _invalid(raw[:40] + "…")
    word = raw.lower()
    body: str
    if word == "daily":
        body = "FREQ=DAILY"
    elif word == "weekdays":
        body = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    elif word == "weekly":
        body = "FREQ=WEEKLY"
    elif word in ("biweekly", "fortnightly"):
        body = "FREQ=WEEKLY;INTERVAL=2"
    elif word == "monthly":
        nth = (start.day - 1) // 7 + 1
        body = f"FREQ=MONTHLY;BYDAY={-1 if nth == 5 else nth}{_CODES[start.weekday()]}"
    elif all(part.strip() in _DAYS for part in word.split(",")) and word:
        days = dict.fromkeys(_DAYS[part.strip()] for part in word.split(","))
        body = "FREQ=WEEKLY;BYDAY=" + ",".join(days)
    else:
        body = raw[6:] if raw.upper().startswith("RRULE:") else raw
        body = body.upper().replace(" ", "")
        if "FREQ=" not in body or "DTSTART" in body or "\n" in body:
            raise _invalid(raw)
    rule = _build(body, start, raw, zone or ZoneInfo("UTC"))
    first = _first(rule, start)
    if first is None:
        raise UserError(_("The rule “{rule}” never occurs after the meeting's first date.", rule=raw))
    previous = first
    for current in rule.xafter(first, count=200, inc=False):
        if current - previous < timedelta(hours=1):
            raise _too_often(raw)
        previous = current
    return body


FIRST_WITHIN = timedelta(days=5 * 366)
"""How far ahead a rule's first occurrence is looked for. Bounded, because dateutil would otherwise scan to
the year 9999 for a sub-daily rule that never occurs (seconds of a frozen event loop)."""


_DAY_PARTS = ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY")


def _first(rule: rrule, start: datetime) -> datetime | None:
    naive = start.replace(tzinfo=None)
    if not _days_exist(rule, naive):
        return None
    bound = naive + FIRST_WITHIN
    own_until: datetime | None = getattr(rule, "_until", None)  # dateutil exposes no public accessor
    bounded = rule.replace(count=None, until=min(own_until, bound) if own_until else bound)
    return next(iter(bounded.xafter(naive, inc=True)), None)


def _days_exist(rule: rrule, start: datetime) -> bool:
    """Whether any day satisfies a sub-daily rule's day parts (BYMONTH=2;BYMONTHDAY=30 never does).

    dateutil finds that out for an hourly rule only by scanning every hour to the year 9999; the same day
    parts on a yearly rule are checked in a few thousand steps.
    """
    body = str(rule).split("RRULE:", 1)[-1]
    parts = dict(part.split("=", 1) for part in body.split(";") if "=" in part)
    if parts.get("FREQ") not in ("HOURLY", "MINUTELY", "SECONDLY"):
        return True
    day_parts = [f"{key}={value}" for key, value in parts.items() if key in _DAY_PARTS]
    if not day_parts:
        return True
    probe = rrulestr("RRULE:" + ";".join(["FREQ=YEARLY", *day_parts]), dtstart=start.replace(hour=0, minute=0,
                                                                                              second=0))
    return isinstance(probe, rrule) and probe.after(start.replace(hour=0, minute=0, second=0), inc=True) is not None


def first_local(start: datetime, zone: ZoneInfo, body: str | None) -> datetime:
    """The series' first real start on the wall clock. RFC 5545 always counts DTSTART as an occurrence, so
    an export must start there, not at a typed start that the rule itself skips (a Monday for tue,thu)."""
    if body is None:
        return start
    found = _first(_build(body, start, body, zone), start)
    return found if found is not None else start


def _build(body: str, start: datetime, shown: str, zone: ZoneInfo) -> rrule:
    # A raw rule from a calendar app often carries UNTIL in UTC; with a naive wall-clock start dateutil
    # needs it naive too, so convert it to the meeting's wall clock.
    def local_until(match: re.Match[str]) -> str:
        instant = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return f"UNTIL={local_of(instant, zone):%Y%m%dT%H%M%S}"

    body = _UNTIL_UTC.sub(local_until, body)
    try:
        rule = rrulestr(f"RRULE:{body}", dtstart=start.replace(tzinfo=None), forceset=False)
    except (ValueError, TypeError, KeyError, IndexError):
        raise _invalid(shown) from None
    if not isinstance(rule, rrule):  # pragma: no cover - forceset=False with one RRULE is always an rrule
        raise _invalid(shown)
    return rule


def expand(start: datetime, zone: ZoneInfo, body: str | None, after: datetime, until: datetime,
           limit: int) -> list[datetime]:
    """The series' occurrences as UTC instants in ``[after, until)``, at most ``limit`` of them.

    ``start`` is the naive local first start; ``after``/``until`` are aware. A one-off meeting (``body``
    ``None``) has the single occurrence ``start``.
    """
    instants: list[datetime] = []
    for local in _locals(start, zone, body, after):
        instant = to_utc(local, zone)
        if instant >= until or len(instants) >= limit:
            break
        if instant >= after:
            instants.append(instant)
    return instants


def gap_moves(start: datetime, zone: ZoneInfo, body: str | None, after: datetime, until: datetime,
              limit: int) -> list[tuple[datetime, datetime]]:
    """(wall-clock time scheduled, wall-clock time it takes place) of the occurrences in ``[after, until)``
    whose scheduled time does not exist in ``zone`` (a spring-forward gap), at most ``limit`` of them."""
    moves: list[tuple[datetime, datetime]] = []
    for local in _locals(start, zone, body, after):
        instant = to_utc(local, zone)
        if instant >= until or len(moves) >= limit:
            break
        if instant >= after and local_of(instant, zone) != local:
            moves.append((local, local_of(instant, zone)))
    return moves


def _locals(start: datetime, zone: ZoneInfo, body: str | None, after: datetime) -> Iterator[datetime]:
    if body is None:
        yield start
        return
    rule = _build(body, start, body, zone)
    # Begin a day early on the wall clock: a UTC bound and a local time can be up to a day apart.
    begin = max(start, local_of(after, zone) - timedelta(days=1))
    seen: set[datetime] = set()
    for local in rule.xafter(begin, count=100_000, inc=True):
        if local not in seen:
            seen.add(local)
            yield local


def reminder_minutes(offsets: tuple[timedelta, ...]) -> tuple[int, ...]:
    """Reminder times as distinct minutes before the start, longest first. Raises :class:`UserError` for one
    further ahead than :data:`MAX_OFFSET`: the feature's rule, not the grammar's."""
    for offset in offsets:
        if offset > MAX_OFFSET:
            raise UserError(_("A reminder can be at most 7 days before the meeting, not “{offset}”.",
                              offset=exact_duration(offset.total_seconds())))
    return tuple(sorted({int(offset.total_seconds() // 60) for offset in offsets}, reverse=True))


def format_offset(minutes: int) -> str:
    """``90`` → ``1h30m`` (the notation people type): for logs and stored keys; a reader sees
    :func:`bot.i18n.exact_duration`."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return text or "0m"


def describe_rule(body: str | None, start: datetime | None = None) -> Text:
    """The rule in words, rendered in the reader's language: "every Tuesday and Thursday", "every weekday",
    "every two weeks on Monday", "on the last Friday of each month", "once".

    ``start`` (the naive local first start) names the day of a weekly or monthly rule that gives none. A rule
    the words below cannot say (an UNTIL, a COUNT, hours, set positions…) reads as a generic sentence, never as
    its RFC 5545 code: the calendar file carries it exactly.
    """
    if body is None:
        return _("once")
    parts = dict(part.split("=", 1) for part in body.upper().split(";") if "=" in part)
    parts.pop("WKST", None)
    freq = parts.pop("FREQ", "")
    interval_text = parts.pop("INTERVAL", "1")
    interval = int(interval_text) if interval_text.isdigit() and int(interval_text) > 0 else 0
    by_day = parts.pop("BYDAY", None)
    by_month_day = parts.pop("BYMONTHDAY", None)
    if parts or not interval:
        return _CUSTOM
    if freq in ("DAILY", "WEEKLY") and by_month_day is None:
        days = _weekdays_of(by_day, start if freq == "WEEKLY" else None)
        if days is None and by_day is None:
            return _daily(interval) if freq == "DAILY" else _every_week(interval)
        if days is None:
            return _CUSTOM
        if freq == "DAILY" and interval != 1:
            return _CUSTOM
        return _weekly(days, interval)
    if freq == "MONTHLY" and interval == 1:
        return _monthly(by_day, by_month_day, start)
    if freq == "YEARLY" and interval == 1 and by_day is None and by_month_day is None:
        return _("every year")
    if freq == "HOURLY" and by_day is None and by_month_day is None:
        return _n("every hour", "every {n} hours", interval)
    return _CUSTOM


_CUSTOM = _("on a schedule of its own (see the calendar file)")
_NTH: dict[int, Callable[[Text], Text]] = {
    1: lambda day: _("on the first {day} of each month", day=day),
    2: lambda day: _("on the second {day} of each month", day=day),
    3: lambda day: _("on the third {day} of each month", day=day),
    4: lambda day: _("on the fourth {day} of each month", day=day),
    -1: lambda day: _("on the last {day} of each month", day=day),
}
_POSITION = re.compile(r"([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)")


def _weekdays_of(by_day: str | None, start: datetime | None) -> tuple[int, ...] | None:
    """Weekday numbers of a plain ``BYDAY`` list (no positions), else of ``start``; ``None`` when neither."""
    if by_day is None:
        return (start.weekday(),) if start is not None else None
    codes = by_day.split(",")
    if not all(code in _CODES for code in codes):
        return None
    return tuple(sorted({_CODES.index(code) for code in codes}))


def _daily(interval: int) -> Text:
    return _("every day") if interval == 1 else _n("every {n} day", "every {n} days", interval)


def _every_week(interval: int) -> Text:
    if interval == 1:
        return _("every week")
    return _("every two weeks") if interval == 2 else _n("every {n} week", "every {n} weeks", interval)


def _weekly(days: tuple[int, ...], interval: int) -> Text:
    if interval == 1:
        return _("every weekday") if days == (0, 1, 2, 3, 4) else _("every {weekdays}", weekdays=weekdays(days))
    if interval == 2:
        return _("every two weeks on {weekdays}", weekdays=weekdays(days))
    return _n("every {n} week on {weekdays}", "every {n} weeks on {weekdays}", interval,
              weekdays=weekdays(days))


def _monthly(by_day: str | None, by_month_day: str | None, start: datetime | None) -> Text:
    if by_day is not None and by_month_day is None:
        match = _POSITION.fullmatch(by_day)
        nth = int(match.group(1)) if match and match.group(1) else 0
        if match is None or nth not in _NTH:
            return _CUSTOM
        return _NTH[nth](weekdays((_CODES.index(match.group(2)),)))
    if by_day is None:
        day_text = by_month_day if by_month_day is not None else (str(start.day) if start is not None else None)
        if day_text is not None and day_text.isdigit() and 1 <= int(day_text) <= 31:
            return _("on day {day} of each month", day=int(day_text))
        if day_text == "-1":
            return _("on the last day of each month")
        if day_text is None:
            return _("every month")
    return _CUSTOM


def _invalid(rule: str) -> UserError:
    return UserError(_("“{rule}” is not a repeat rule I understand. Use one of {words}, or an RFC 5545 RRULE "
                       "such as FREQ=WEEKLY;BYDAY=TU.", rule=rule, words=RULE_WORDS))


def _too_often(rule: str) -> UserError:
    return UserError(_("The rule “{rule}” repeats more than once an hour; meetings can repeat at most hourly.",
                       rule=rule))
