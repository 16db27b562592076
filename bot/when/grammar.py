"""The grammar of a typed time: a small state machine over folded words (:func:`advance`), so a command line can
ask how many of its words form a time, and a phrase of several words (``daqui a``, ``el lunes``, ``p. m.``)
is read one word at a time like any other.

It only says what the words are; :mod:`bot.when.reading` says which instant they mean.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.when.words import OFFSET_SHAPE, Vocabulary

DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})(?:t(?P<clock>.+))?")
OTHER_DATE = re.compile(r"(?:\d{1,4}/\d{1,2}(?:/\d{1,4})?|\d{1,4}([.-])\d{1,2}\1\d{1,4})\b.*", re.ASCII)
_OFFSET = re.compile(OFFSET_SHAPE)
_NUMBER = re.compile(r"[0-9]+")
_AMOUNTS = re.compile(r"(?:[0-9]+[^\W\d_]+)+")
_AMOUNT = re.compile(r"([0-9]+)([^\W\d_]+)")


@dataclass(frozen=True, slots=True)
class Clock:
    hour: int
    minute: int | None
    second: int | None
    fraction: str | None
    ampm: str | None  # "am" or "pm", whichever words said it
    offset: str | None
    shown: str  # as typed (folded), without the offset: what an error quotes

    @property
    def bare(self) -> bool:  # a number alone ("9"): a time only once am or pm follows
        return self.minute is None and self.ampm is None


@dataclass(frozen=True, slots=True)
class Path:
    """How far the words have come through the grammar, and what they said."""

    state: str = "start"
    now: bool = False
    amounts: tuple[tuple[int, str], ...] = ()
    pending: int = 0
    lead_unit: str | None = None
    relative_day: int | None = None  # 0 today, 1 tomorrow
    weekday: int | None = None  # 0 Monday
    day: tuple[int, int, int] | None = None  # an ISO date
    clock: Clock | None = None
    offset: str | None = None
    partial: tuple[str, ...] = ()  # the words so far of a phrase not finished yet

    @property
    def complete(self) -> bool:
        return self.state in _ACCEPTING and not self.partial


_ACCEPTING = frozenset({"end", "amounts", "day", "clock", "date", "date-clock", "date-clock-ampm"})
_TAKES_AMPM = {"clock": "end", "hour": "end", "date-clock-ampm": "date-clock", "date-hour": "date-clock"}
_GROUP = {"start": "start", "day": "at", "in": "amount", "amounts": "amount", "unit": "unit",
          **dict.fromkeys(_TAKES_AMPM, "ampm")}
"""Which phrases may stand in each state."""


def scan(words: Sequence[str], vocabulary: Vocabulary) -> tuple[int, int, Path | None]:
    """(words that still begin a time, words of the longest complete time, what the latter says); ``words``
    are folded."""
    path, viable, complete, found = Path(), 0, 0, None
    for index, word in enumerate(words):
        advanced = advance(path, word, vocabulary)
        if advanced is None:
            break
        path, viable = advanced, index + 1
        if path.complete:
            complete, found = viable, path
    return viable, complete, found


def advance(path: Path, word: str, vocabulary: Vocabulary) -> Path | None:
    """The path after one more (folded) word, or ``None`` when no time goes on that way."""
    group = _GROUP.get(path.state)
    if group is not None:
        phrase = (*path.partial, word)
        meaning = vocabulary.meaning(group, phrase)
        if meaning is not None:
            return _phrase(replace(path, partial=()), meaning, " ".join(phrase))
        if vocabulary.begins(group, phrase):
            return replace(path, partial=phrase)
        if path.partial:
            return None
    return _word(path, word, vocabulary)


def _phrase(path: Path, meaning: str, shown: str) -> Path | None:
    kind, _sep, value = meaning.partition(":")
    if kind in ("now", "in", "at"):
        return replace(path, state={"now": "end", "in": "in", "at": "at"}[kind], now=kind == "now")
    if kind in ("today", "tomorrow"):
        return replace(path, state="day", relative_day=int(kind == "tomorrow"))
    if kind == "weekday":
        return replace(path, state="day", weekday=int(value))
    if kind == "unit":
        return replace(path, state="amounts", amounts=(*path.amounts, (path.pending, value)))
    if kind == "lead":
        return replace(path, state="lead", lead_unit=value)
    if kind == "count":
        count, _sep, unit = value.partition(":")
        return replace(path, state="amounts", amounts=(*path.amounts, (int(count), unit)))
    if kind in ("am", "pm") and path.clock is not None:
        clock = replace(path.clock, ampm=kind, shown=f"{path.clock.shown} {shown}")
        return replace(path, state=_TAKES_AMPM[path.state], clock=clock)
    return None  # pragma: no cover - every meaning a table builds is handled above


def _word(path: Path, word: str, vocabulary: Vocabulary) -> Path | None:
    """A word that is no phrase of the tables: a number, an amount, a date, a clock time or an offset."""
    state = path.state
    if state == "start":
        if match := DATE.fullmatch(word):
            dated = replace(path, state="date", day=(int(match["year"]), int(match["month"]), int(match["day"])))
            return dated if match["clock"] is None else _with_clock(dated, match["clock"], vocabulary)
        return _with_clock(path, word, vocabulary)
    if state in ("in", "amounts"):
        if _AMOUNTS.fullmatch(word):
            found = [(int(number), vocabulary.meaning("unit", (unit,))) for number, unit in _AMOUNT.findall(word)]
            units = [(number, unit.partition(":")[2]) for number, unit in found if unit is not None]
            return replace(path, state="amounts", amounts=path.amounts + tuple(units)) \
                if len(units) == len(found) else None
        return replace(path, state="unit", pending=int(word)) if _NUMBER.fullmatch(word) else None
    if state == "lead" and path.lead_unit is not None:
        return replace(path, state="amounts", amounts=(*path.amounts, (int(word), path.lead_unit))) \
            if _NUMBER.fullmatch(word) else None
    if state in ("day", "at", "date"):
        return _with_clock(path, word, vocabulary)
    if state in ("date-clock", "date-clock-ampm") and _OFFSET.fullmatch(word):
        return replace(path, state="end", offset=word)
    return None


def with_clock_text(text: str, vocabulary: Vocabulary) -> Clock | None:
    """The clock time one word gives (``14:00``, ``9pm``, ``9h30``), if it is one."""
    match = vocabulary.clock.fullmatch(text)
    if match is None:
        return None
    groups = match.groupdict()
    if groups.get("mark") and (groups["ampm"] or groups["offset"]):
        return None  # "9hpm", "14h+03:00": neither way of writing a time
    last = max(match.end(group) for group in ("hour", "minute", "second", "fraction", "mark", "marked", "ampm")
               if groups.get(group) is not None)
    minute = groups["minute"] or groups.get("marked") or ("0" if groups.get("mark") else None)
    ampm = None if groups["ampm"] is None else vocabulary.meaning("ampm", (groups["ampm"],))
    return Clock(int(match["hour"]), None if minute is None else int(minute),
                 None if groups["second"] is None else int(groups["second"]), groups["fraction"], ampm,
                 groups["offset"], text[:last])


def _with_clock(path: Path, text: str, vocabulary: Vocabulary) -> Path | None:
    clock = with_clock_text(text, vocabulary)
    if clock is None:
        return None
    dated = path.day is not None
    if clock.offset is not None:  # only an ISO date and time carries an offset
        return replace(path, state="end", clock=clock) if dated and not clock.bare else None
    if clock.bare:
        return replace(path, state="date-hour" if dated else "hour", clock=clock)
    if clock.ampm is not None:
        return replace(path, state="date-clock" if dated else "end", clock=clock)
    return replace(path, state="date-clock-ampm" if dated else "clock", clock=clock)
