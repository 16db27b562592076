"""Typed argument values: where a zone, a language or a duration typed as text becomes a value, once.

Handlers never see these as text: :class:`bot.commands.context.Context` converts them through the
declaration's kind (``ctx.zone(ZONE)``, ``ctx.language(LANG)``, ``ctx.optional_duration(DURATION)``), and
each refusal is the same translated message wherever the kind is used. Times have their own grammar in :mod:`bot.when`
(with one table of words per language); the context reads them with it, in the caller's language.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError

from bot.errors import UserError
from bot.i18n import _
from bot.when import fold, read_when, vocabulary

ZONE_EXAMPLES = "Africa/Nairobi, America/Sao_Paulo, Asia/Kolkata, Europe/Paris"
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_BCP47 = re.compile(r"(?P<language>[a-z]{2,3})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?"
                    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*")
"""A language tag: language, then optional script, region (``BR``, ``419``) and variants (``pt-BR``, ``es-419``)."""
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@cache
def zone_names() -> Mapping[str, str]:
    """Every IANA zone name by its lower-case spelling: zones are matched regardless of case."""
    return {zone.lower(): zone for zone in available_timezones()}


def parse_zone(text: str) -> ZoneInfo:
    """The zone ``text`` names (its ``key`` is the canonical IANA name), or :class:`UserError` with examples
    and, when one is close, a suggestion."""
    wanted = text.strip().lower()
    name = zone_names().get(wanted)
    if name is not None:
        try:
            return ZoneInfo(name)
        except ZoneInfoNotFoundError:  # pragma: no cover - listed zones always load
            pass
    close = difflib.get_close_matches(wanted, zone_names().keys(), n=1, cutoff=0.7)
    if close:
        raise UserError(_("Unknown time zone “{zone}”. Did you mean {suggestion}? Use an IANA name such as "
                          "{examples}.", zone=text, suggestion=zone_names()[close[0]], examples=ZONE_EXAMPLES))
    raise UserError(_("Unknown time zone “{zone}”. Use an IANA name such as {examples}.", zone=text,
                      examples=ZONE_EXAMPLES))


def parse_language(text: str, among: Collection[str] | None = None) -> str:
    """The language code ``text`` gives: a BCP 47 tag's language (``pt-BR``, ``pt_PT`` → ``pt``; ``es-419`` →
    ``es``). ``among``: the languages accepted (those the bot speaks, for a person's setting); otherwise any
    ISO 639 code (a document's language)."""
    tag = _BCP47.fullmatch(text.strip().lower().replace("_", "-"))
    code = tag["language"] if tag is not None else text.strip().lower()
    if among is not None:
        if code not in among:
            raise UserError(_("“{language}” is not available. Supported languages: {languages}.",
                              language=text, languages=language_list(among)))
        return code
    try:
        valid = bool(_LANGUAGE.match(code)) and Locale.parse(code) is not None
    except (UnknownLocaleError, ValueError):
        valid = False
    if not valid:
        raise UserError(_("“{language}” is not a language code. Use a code such as en, fr or es.",
                          language=text[:20]))
    return code


def language_list(codes: Collection[str]) -> str:
    """``en (English), fr (français)``: each language named in itself, so a reader finds their own."""
    return ", ".join(f"{code} ({Locale.parse(code).get_display_name(code)})" for code in sorted(codes))


def parse_duration(text: str) -> timedelta:
    """``1h``, ``90m``, ``1h30m``, ``2d``, ``45`` (minutes). What range is allowed is the feature's rule."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned.isascii() and cleaned.isdigit():
        return timedelta(minutes=int(cleaned))
    match = _DURATION.match(cleaned) if cleaned.isascii() else None
    if not cleaned or not match or not any(match.groups()):
        raise UserError(_("“{duration}” is not a duration. Write it like 1h, 90m or 1h30m.", duration=text))
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def parse_durations(text: str) -> tuple[timedelta, ...]:
    """``24h,1h,15m`` → the distinct durations, longest first. What range each may take is the feature's rule."""
    parts = text.replace(" ", "").split(",")
    if not all(parts):
        raise UserError(_("“{durations}” is not a list of durations. Write them like 24h,1h,15m.", durations=text))
    try:
        durations = {parse_duration(part) for part in parts}
    except UserError:
        raise UserError(_("“{durations}” is not a list of durations. Write them like 24h,1h,15m.",
                          durations=text)) from None
    return tuple(sorted(durations, reverse=True))


@dataclass(frozen=True, slots=True)
class Occasion:
    """Which one of a series' occurrences the words name: the next one (``day`` is ``None``), or a day in
    ``zone``, with the instant ``at`` when they named a time of day too."""

    text: str
    """As typed, for a reply that says it found nothing then."""
    zone: ZoneInfo
    day: date | None
    at: datetime | None = None


def read_occasion(text: str, zone: ZoneInfo, now: datetime, *, max_ahead: timedelta,
                  language: str | None = None) -> Occasion:
    """``next``, a day (``2026-12-01``, ``tuesday``, ``today``) or a day and time (``tuesday 14:00``), read in
    ``zone`` and in the words of ``language`` and English (``prochain``, ``mardi``, ``demain 14h``). A lone day
    word names that day even once its 09:00 is past (``today`` is today all day, and ``tuesday`` on a Tuesday
    is today), unlike :func:`bot.when.read_when`, which would call it past."""
    words = vocabulary(language)
    wanted = " ".join(fold(text).split())
    if wanted in words.next:
        return Occasion(text, zone, None)
    if _ISO_DAY.match(wanted):
        try:
            return Occasion(text, zone, date.fromisoformat(wanted))
        except ValueError:
            raise UserError(_("“{date}” is not a date. Write it as YYYY-MM-DD.", date=text)) from None
    today = now.astimezone(zone).date()
    kind, _sep, weekday = (words.meaning("start", tuple(wanted.split())) or "").partition(":")
    if kind in ("today", "tomorrow"):
        return Occasion(text, zone, today + timedelta(days=int(kind == "tomorrow")))
    if kind == "weekday":
        return Occasion(text, zone, today + timedelta(days=(int(weekday) - today.weekday()) % 7))
    at = read_when(text, zone, now, max_ahead=max_ahead, language=language).instant
    return Occasion(text, zone, at.astimezone(zone).date(), at)
