"""What the time grammar says when it refuses a time, and the language-neutral ways it shows one.

Every refusal ends with examples in the reader's own words, chosen by language from the table
(:attr:`bot.when.words.LanguageWords.examples`): they are typed syntax, like a command, so they are not in
the translation catalogue; the sentence around them is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.i18n import Text, _
from bot.when.words import ENGLISH, vocabulary

EXAMPLES = ENGLISH.examples
"""The English examples (every reader may type them)."""



class Problem(Exception):
    """Why words that form a time cannot be that time; :func:`refused` turns it into the reader's refusal."""

    def __init__(self, problem: Text) -> None:
        super().__init__(problem.msgid)
        self.problem = problem


def examples(language: str | None) -> str:
    """The accepted forms shown to a reader of ``language`` (English for a language without a table)."""
    return vocabulary(language).examples


def refused(problem: Text, language: str | None = None) -> UserError:
    """``problem`` followed by the accepted forms, in the reader's words."""
    return UserError(_("{problem} Try, for example: {examples}.", problem=problem, examples=examples(language)))


def unreadable(text: str) -> Text:
    return _("I could not read “{text}” as a date or time.", text=text.strip())


def invalid_time(text: str) -> Text:
    return _("{time} is not a valid time: use 00:00 to 23:59, or 12-hour times such as 9am or 9:30pm.",
             time=text)


def past(instant: datetime, zone: ZoneInfo) -> Text:
    return _("{when} is in the past.", when=plain(instant, zone))


def unfinished(text: str) -> Text:
    return _("“{text}” is not a complete date or time, so I cannot tell where it ends. Complete it, "
             "or put the whole time in double quotes.", text=text)


def ambiguous_order(text: str) -> Text:
    return _("“{text}” could be read as day/month or as month/day. Write the date as YYYY-MM-DD "
             "instead.", text=text.strip())


def invalid_date(year: int, month: int, day: int) -> Text:
    return _("{date} is not a valid date.", date=f"{year:04d}-{month:02d}-{day:02d}")


def too_far(instant: datetime, zone: ZoneInfo, now: datetime, max_ahead: timedelta) -> Text:
    if max_ahead >= timedelta(days=365):
        return _("{when} is more than a year ahead.", when=plain(instant, zone))
    return _("{when} is too far ahead: the latest possible time is {latest}.",
             when=plain(instant, zone), latest=plain(now + max_ahead, zone))


def plain(instant: datetime, zone: ZoneInfo) -> str:
    """Language-neutral form for messages, e.g. ``2026-11-20 09:00 (Africa/Nairobi)``."""
    try:
        return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} ({zone_name(zone)})"
    except OverflowError:  # within hours of year 1 or 9999
        return f"{instant.astimezone(UTC):%Y-%m-%d %H:%M} (UTC)"


def zone_name(zone: ZoneInfo) -> str:
    return zone.key or str(zone)
