"""The words of the time grammar, one table per language, and how typed text is folded before it is read.

A reader's words are their own language's table plus English (English always works), merged into one
:class:`Vocabulary`. Weekday names are not typed here: they come from CLDR through Babel (format and stand-alone,
wide and abbreviated, without a trailing dot). Everything is compared *folded* (:func:`fold`): case-insensitive,
accents and Arabic diacritics, hamza seats and tatweel dropped, Arabic-Indic digits read as ASCII, so
``MAÑANA``, ``manana``, ``غداً`` and ``٠٩:٠٠`` are the words a table lists.

A phrase that means two different things in one reader's words (one language's table, or it and English) is
not read at all: it is dropped and listed in :attr:`Vocabulary.ambiguous`, so typing it is refused like any
unknown word, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

from babel import Locale

from bot.bidi import stripped

__all__ = ["ENGLISH", "TABLES", "LanguageWords", "Vocabulary", "fold", "vocabulary"]

_DIGITS = str.maketrans({**{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic ٠-٩
                         **{chr(0x06F0 + i): str(i) for i in range(10)},  # Extended (Persian, Urdu) ۰-۹
                         "\u0640": None,  # tatweel, a stretching stroke
                         "\u2019": "'", "\u02bc": "'",  # typographic apostrophes: aujourd’hui
                         "\u00a0": " ", "\u202f": " "})  # CLDR's "a. m." has a no-break space


def fold(text: str) -> str:
    """``text`` as the tables compare it: case-folded, without accents, Arabic diacritics (harakat, hamza and
    madda marks) or tatweel, Arabic-Indic digits as ASCII. ``Peut-Être`` → ``peut-etre``, ``غداً`` → ``غدا``."""
    decomposed = unicodedata.normalize("NFD", stripped(text).translate(_DIGITS).casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class LanguageWords:
    """One language's words (phrases may have several words: ``daqui a``, ``a las``). Weekdays come from CLDR;
    ``weekday_articles`` may stand before one (``el lunes``), ``weekday_suffixes`` may be left off one
    (``segunda-feira`` → ``segunda``). ``examples`` are shown in a refusal to this language's readers and must
    each be accepted (a test reads them)."""

    examples: str
    now: tuple[str, ...]
    in_: tuple[str, ...]
    at: tuple[str, ...]
    today: tuple[str, ...]
    tomorrow: tuple[str, ...]
    next: tuple[str, ...]
    units: Mapping[str, str]
    """After a number: ``in 2 hours``."""
    leading_units: Mapping[str, str] = field(default_factory=_empty)
    """Before a number, where the language says it that way: Swahili ``baada ya dakika 30``."""
    counted: Mapping[str, tuple[int, str]] = field(default_factory=_empty)
    """A word that holds its count: Arabic duals, ``بعد ساعتين`` (in two hours)."""
    am: tuple[str, ...] = ()
    pm: tuple[str, ...] = ()
    """Besides CLDR's own day-period abbreviations (``a. m.``, ``ص``), which are always read."""
    weekday_articles: tuple[str, ...] = ()
    weekday_suffixes: tuple[str, ...] = ()
    weekday_extras: Mapping[str, int] = field(default_factory=_empty)
    """Informal abbreviations CLDR does not list (English ``tues``, ``thurs``)."""
    hour_mark: bool = False
    """``9h``, ``9h30``, ``14h``: the French and Portuguese way of writing a clock time."""


_MINUTES, _HOURS, _DAYS, _WEEKS = "minutes", "hours", "days", "weeks"


def _units(**words: str) -> Mapping[str, str]:
    """``minutes="m min"`` → each word to its unit."""
    return MappingProxyType({word: unit for unit, spelt in words.items() for word in spelt.split()})


ENGLISH = LanguageWords(
    examples="now, in 2h, in 30 minutes, tomorrow 09:00, monday 14:00, 2026-12-01 14:00",
    now=("now",), in_=("in",), at=("at",), today=("today",), tomorrow=("tomorrow",), next=("next",),
    units=_units(minutes="m min mins minute minutes", hours="h hr hrs hour hours", days="d day days",
                 weeks="w wk wks week weeks"),
    am=("am",), pm=("pm",), weekday_extras=MappingProxyType({"tues": 1, "thur": 3, "thurs": 3}))

TABLES: Mapping[str, LanguageWords] = MappingProxyType({
    "en": ENGLISH,
    "fr": LanguageWords(
        examples="maintenant, dans 2h, dans 30 minutes, demain 09:00, lundi 14h, 2026-12-01 14:00",
        now=("maintenant",), in_=("dans",), at=("à",), today=("aujourd'hui",), tomorrow=("demain",),
        next=("prochain", "prochaine", "suivant", "suivante"),
        units=_units(minutes="mn minute minutes", hours="heure heures", days="j jour jours",
                     weeks="semaine semaines"),
        hour_mark=True),
    "es": LanguageWords(
        examples="ahora, en 2 horas, en 30 minutos, mañana 09:00, el lunes a las 14:00, 2026-12-01 14:00",
        now=("ahora",), in_=("en", "dentro de"), at=("a las", "a la"), today=("hoy",), tomorrow=("mañana",),
        next=("próximo", "próxima", "siguiente"),
        units=_units(minutes="minuto minutos", hours="hora horas", days="día días", weeks="semana semanas"),
        weekday_articles=("el",)),
    "pt": LanguageWords(
        examples="agora, daqui a 2 horas, em 30 minutos, amanhã às 9h, segunda 14:00, 2026-12-01 14:00",
        now=("agora",), in_=("em", "daqui a", "dentro de"), at=("às", "à"), today=("hoje",), tomorrow=("amanhã",),
        next=("próximo", "próxima", "seguinte"),
        units=_units(minutes="minuto minutos", hours="hora horas", days="dia dias", weeks="semana semanas"),
        weekday_suffixes=("-feira",), hour_mark=True),
    "ar": LanguageWords(
        examples="الآن، بعد ساعتين، بعد 30 دقيقة، غدا 09:00، الاثنين 14:00، 2026-12-01 14:00",
        now=("الآن",), in_=("بعد",), at=("الساعة",), today=("اليوم",), tomorrow=("غدا",),
        next=("القادم", "القادمة", "التالي", "التالية"),
        units=_units(minutes="دقيقة دقائق", hours="ساعة ساعات", days="يوم أيام", weeks="أسبوع أسابيع"),
        counted=MappingProxyType({"دقيقتين": (2, _MINUTES), "دقيقتان": (2, _MINUTES), "ساعتين": (2, _HOURS),
                                  "ساعتان": (2, _HOURS), "يومين": (2, _DAYS), "يومان": (2, _DAYS),
                                  "أسبوعين": (2, _WEEKS), "أسبوعان": (2, _WEEKS)}),
        am=("صباحا",), pm=("مساء", "مساءا"), weekday_articles=("يوم",)),
    # Swahili clock time ("saa tatu" is 09:00, "saa 2" 08:00) counts from dawn, so "saa" is read neither as
    # "at" nor as an hour unit: "kesho saa 3" and "baada ya saa 2" are refused, never guessed.
    "sw": LanguageWords(
        examples="sasa, baada ya dakika 30, baada ya masaa 2, kesho 09:00, Jumatatu 14:00, 2026-12-01 14:00",
        now=("sasa",), in_=("baada ya",), at=(), today=("leo",), tomorrow=("kesho",),
        next=("ijayo", "inayofuata", "ujao", "unaofuata"),
        units=_units(), leading_units=_units(minutes="dakika", hours="masaa", days="siku", weeks="wiki")),
})
"""Every language whose readers may type times in their words; any other reads English only."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One reader's words: ``phrases[group][words] = meaning``. Groups are where in a time a phrase may stand:
    ``start`` (now, in, at, today, tomorrow, ``weekday:N``), ``at`` (after a day), ``amount`` (after "in":
    ``count:N:unit`` or ``lead:unit``), ``unit`` (after a number) and ``ampm``."""

    language: str
    phrases: Mapping[str, Mapping[tuple[str, ...], str]]
    prefixes: Mapping[str, frozenset[tuple[str, ...]]]
    next: frozenset[str]
    hour_mark: bool
    examples: str
    ambiguous: Mapping[str, tuple[str, ...]]
    """Phrases dropped because they mean two things here, each with its meanings (for tests and reviewers)."""
    clock: re.Pattern[str]

    def meaning(self, group: str, words: tuple[str, ...]) -> str | None:
        return self.phrases.get(group, {}).get(words)

    def begins(self, group: str, words: tuple[str, ...]) -> bool:
        """Whether ``words`` begin a longer phrase of ``group``."""
        return words in self.prefixes.get(group, frozenset())


def _weekday_names(code: str, words: LanguageWords) -> Iterable[tuple[str, int]]:
    days = Locale.parse(code).days
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            for number, cldr in days[context][width].items():
                name = cldr.rstrip(".")
                yield from ((spelt, number) for spelt in {cldr, name})  # "lun." as CLDR writes it, or "lun"
                for suffix in words.weekday_suffixes:
                    if name.endswith(suffix):
                        yield name.removesuffix(suffix), number
    yield from words.weekday_extras.items()


def _day_periods(code: str, words: LanguageWords) -> Iterable[tuple[str, str]]:
    periods = Locale.parse(code).day_periods["format"]["abbreviated"]
    for meaning, extra in (("am", words.am), ("pm", words.pm)):
        cldr = fold(periods[meaning])
        yield from ((phrase, meaning) for phrase in (cldr, cldr.replace(" ", ""), *extra))


def _entries(code: str, words: LanguageWords) -> Iterable[tuple[str, str, str]]:
    """(group, phrase, meaning) for every phrase of one language."""
    for group, phrases, meaning in (("start", words.now, "now"), ("start", words.in_, "in"),
                                    ("start", words.at, "at"), ("at", words.at, "at"),
                                    ("start", words.today, "today"), ("start", words.tomorrow, "tomorrow")):
        yield from ((group, phrase, meaning) for phrase in phrases)
    for name, number in _weekday_names(code, words):
        yield "start", name, f"weekday:{number}"
        yield from (("start", f"{article} {name}", f"weekday:{number}") for article in words.weekday_articles)
    yield from (("unit", word, f"unit:{unit}") for word, unit in words.units.items())
    yield from (("amount", word, f"lead:{unit}") for word, unit in words.leading_units.items())
    yield from (("amount", word, f"count:{n}:{unit}") for word, (n, unit) in words.counted.items())
    yield from (("ampm", phrase, meaning) for phrase, meaning in _day_periods(code, words))


@cache
def vocabulary(language: str | None) -> Vocabulary:
    """The words a reader of ``language`` may type: that language's and English. A language without a table
    (or ``None``) reads English. Raises ``ValueError`` for a table that makes a phrase both complete and the
    beginning of a longer one in the same place (the grammar could not tell where it ends)."""
    code = language if language is not None and language in TABLES else "en"
    sources = {"en": ENGLISH} if code == "en" else {code: TABLES[code], "en": ENGLISH}
    meanings: dict[str, dict[tuple[str, ...], set[str]]] = {}
    for source, words in sources.items():
        for group, phrase, meaning in _entries(source, words):
            meanings.setdefault(group, {}).setdefault(tuple(fold(phrase).split()), set()).add(meaning)
    phrases = {group: {p: next(iter(m)) for p, m in found.items() if len(m) == 1} for group, found in meanings.items()}
    ambiguous = {" ".join(p): tuple(sorted(m)) for found in meanings.values() for p, m in found.items() if len(m) > 1}
    prefixes = {group: frozenset(p[:i] for p in found for i in range(1, len(p))) for group, found in phrases.items()}
    for group, found in phrases.items():
        both = sorted(" ".join(p) for p in found if p in prefixes[group])
        if both:
            raise ValueError(f"{code}: {group} phrases both complete and begun: {both}")
    glued = sorted((p[0] for p in phrases.get("ampm", {}) if len(p) == 1), key=len, reverse=True)
    hour_mark = TABLES[code].hour_mark
    return Vocabulary(
        language=code, phrases=MappingProxyType({g: MappingProxyType(f) for g, f in phrases.items()}),
        prefixes=MappingProxyType(prefixes),
        next=frozenset(fold(word) for words in sources.values() for word in words.next),
        hour_mark=hour_mark, examples=TABLES[code].examples, ambiguous=MappingProxyType(ambiguous),
        clock=_clock_pattern(glued, hour_mark))


OFFSET_SHAPE = r"z|[+-][0-9]{2}(?::?[0-9]{2})?"


def _clock_pattern(ampm: list[str], hour_mark: bool) -> re.Pattern[str]:
    """``14:00``, ``9:30pm``, ``9pm``, ``14:00:05.5+03:00`` (the offset only after an ISO date), and with
    ``hour_mark`` ``9h``, ``9h30``."""
    periods = "|".join(re.escape(word) for word in ampm)
    marked = r"|(?P<mark>h)(?P<marked>[0-9]{2})?" if hour_mark else ""
    return re.compile(rf"(?P<hour>[0-9]{{1,2}})(?::(?P<minute>[0-9]{{2}})(?::(?P<second>[0-9]{{2}})"
                      rf"(?:\.(?P<fraction>[0-9]{{1,6}}))?)?{marked})?(?P<ampm>{periods})?(?P<offset>{OFFSET_SHAPE})?")
