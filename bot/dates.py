"""Dates, times, weekdays, lengths of time and lists in a reader's language, by Babel (CLDR data).

Why: month and weekday names, the order of day, month and year, the 12 or 24 hour clock, the word that joins
the last two items of a list — all differ by language, and CLDR already knows them for every language we
ship. Nothing a person reads is made with ``strftime`` or a hand-written name list; it goes through here.

These are plain functions of a language code and a value. The core does not call them directly: it builds
lazy values (:func:`bot.i18n.moment`, :func:`bot.i18n.wall_clock`, :func:`bot.i18n.weekdays`,
:func:`bot.i18n.listing`, :func:`bot.i18n.exact_duration`) that :meth:`bot.i18n.Translator.render` formats
with these when the reader is known. Adapters use :func:`format_stamp` for the core's time stamps.

Styles are the letters of Discord's time markers, so one stamp means the same on every platform:
``t`` short time, ``T`` time with seconds, ``d`` short date, ``D`` long date, ``f`` long date and short time,
``F`` full date (with the weekday) and short time, ``R`` (relative on Discord) a medium date and time here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.units import format_unit

__all__ = ["STYLES", "format_local", "format_span", "format_stamp", "format_weekdays", "join", "locale_of",
           "slack_tokens", "zone_of"]

STYLES = frozenset("tTdDfFR")
DEFAULT_STYLE = "F"
FALLBACK_LANGUAGE = "en"

# style -> (date width or None, time width or None, width of the pattern that glues them)
_WIDTHS: dict[str, tuple[str | None, str | None, str]] = {
    "t": (None, "short", "short"), "T": (None, "medium", "medium"), "d": ("short", None, "short"),
    "D": ("long", None, "long"), "f": ("long", "short", "long"), "F": ("full", "short", "full"),
    "R": ("medium", "short", "medium"),
}
# style -> (date token, time token) of Slack's ``<!date^…^format|fallback>``; Slack fills them in the
# reader's own zone and client language, and the glue between them comes from the reader's CLDR pattern.
_SLACK_TOKENS: dict[str, tuple[str | None, str | None]] = {
    "t": (None, "{time}"), "T": (None, "{time_secs}"), "d": ("{date_num}", None), "D": ("{date_long_full}", None),
    "f": ("{date_short_pretty}", "{time}"), "F": ("{date_long_pretty}", "{time}"), "R": ("{ago}", None),
}
_UNITS = (("duration-day", 86400), ("duration-hour", 3600), ("duration-minute", 60))


def locale_of(language: str | None) -> Locale:
    """The Babel locale of a language code (``pt``, ``pt-BR``, ``es_419``); English for an unknown one."""
    try:
        return Locale.parse((language or FALLBACK_LANGUAGE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(FALLBACK_LANGUAGE)


def zone_of(name: str | None) -> ZoneInfo:
    """The zone named ``name``; UTC for a missing or unknown name (a stored value from an older version)."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _glue(locale: Locale, width: str, date_part: str, time_part: str) -> str:
    """Date and time joined by the locale's CLDR pattern (``{1}, {0}``; ``{1} {0}``; ``{1}، {0}``)."""
    pattern = str(locale.datetime_formats.get(width) or "{1} {0}")
    return _unquote(pattern).replace("{1}", date_part).replace("{0}", time_part)


def _unquote(pattern: str) -> str:
    """A CLDR pattern's literal text without its quoting (``{1} 'at' {0}`` → ``{1} at {0}``)."""
    out: list[str] = []
    quoted = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            if pattern[index + 1:index + 2] == "'":
                out.append("'")
                index += 1
            else:
                quoted = not quoted
        else:
            out.append(char)
        index += 1
    return "".join(out)


def format_local(local: datetime, style: str, language: str | None) -> str:
    """A wall-clock time (naive, or aware and already in the reader's zone) in ``style``, in ``language``."""
    locale = locale_of(language)
    date_width, time_width, glue_width = _WIDTHS.get(style, _WIDTHS[DEFAULT_STYLE])
    naive = local.replace(tzinfo=None)
    date_part = format_date(naive.date(), date_width, locale=locale) if date_width else None
    time_part = format_time(naive.time(), time_width, locale=locale) if time_width else None
    if date_part is not None and time_part is not None:
        return _glue(locale, glue_width, date_part, time_part)
    return date_part or time_part or ""


def format_stamp(unix: int, style: str, zone: ZoneInfo | str, language: str | None, *,
                 with_zone: bool = True) -> str:
    """An instant on the wall clock of ``zone``, e.g. ``mardi 1 décembre 2026, 14:00 (Africa/Nairobi)``.

    The zone is named by its IANA name, the form people type in ``zone:`` and ``settings timezone``.
    """
    tz = zone if isinstance(zone, ZoneInfo) else zone_of(zone)
    try:
        local = datetime.fromtimestamp(unix, UTC).astimezone(tz)
    except (OverflowError, OSError, ValueError):  # beyond the years datetime knows
        local, tz = datetime(9999, 12, 31, tzinfo=UTC), ZoneInfo("UTC")
    text = format_local(local, style, language)
    return f"{text} ({tz.key})" if with_zone else text


def format_weekdays(days: Sequence[int], language: str | None) -> str:
    """Weekday numbers (0 = Monday) as a list of names: ``Tuesday and Thursday``, ``mardi et jeudi``."""
    locale = locale_of(language)
    names = locale.days["format"]["wide"]
    return join([names[day] for day in days if 0 <= day <= 6], language)


def join(items: Sequence[str], language: str | None, *, style: str = "standard") -> str:
    """``a, b and c`` in ``language`` (``standard``), or ``a, b, c`` for measures and counts (``unit``)."""
    locale = locale_of(language)
    if not items:
        return ""
    chosen: Literal["unit", "standard"] = "unit" if style == "unit" and _complete(locale, "unit") else "standard"
    return format_list(list(items), style=chosen, locale=locale)


def _complete(locale: Locale, style: str) -> bool:
    """Whether Babel has every pattern of a list style for ``locale``: for some (es, ar "unit") it has only
    part, and then formats a list wrongly (ar repeats the last item) or not at all (es); those use the
    standard style instead."""
    try:
        patterns = locale.list_patterns[style]
    except KeyError:
        return False
    return all(key in patterns for key in ("start", "middle", "end", "2"))


def format_span(seconds: float, language: str | None) -> str:
    """An exact length of time in whole minutes, e.g. ``1 hour, 30 minutes`` or ``1 día``.

    Unlike :func:`bot.i18n.duration` (an estimate, rounded to one unit), this keeps every unit: a meeting's
    length or a reminder's offset is a setting the reader must see exactly.
    """
    rest = max(0, round(seconds / 60)) * 60
    parts: list[str] = []
    locale = locale_of(language)
    for unit, size in _UNITS:
        amount, rest = divmod(rest, size)
        if amount:
            parts.append(format_unit(amount, unit, length="long", locale=locale))
    if not parts:
        parts.append(format_unit(0, "duration-minute", length="long", locale=locale))
    return join(parts, language, style="unit")


def slack_tokens(style: str, language: str | None) -> str:
    """The format part of a Slack date for ``style``: Slack's tokens, glued by the reader's CLDR pattern."""
    date_token, time_token = _SLACK_TOKENS.get(style, _SLACK_TOKENS["f"])
    if date_token is not None and time_token is not None:
        width = _WIDTHS.get(style, _WIDTHS[DEFAULT_STYLE])[2]
        return _glue(locale_of(language), width, date_token, time_token)
    return date_token or time_token or "{date_short_pretty}"

