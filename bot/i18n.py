"""Translation layer: every user-facing string is a lazy :class:`Text` rendered in the reader's language.

Why lazy: one core message often reaches many people (a request notice to every coordinator, an
announcement to every subscriber), each in their own language, and a delivery row may be sent hours after it
was written. So the core builds :class:`Text` values (message id + parameters), stores them as JSON when
queued, and renders them only when the reader is known.

Catalogues are gettext ``.po`` files under ``bot/locales``; they are compiled in memory at start with Babel,
so there is no build step and no binary file in the repository.

Dates, times, weekdays, lengths of time and lists are lazy too (:func:`moment`, :func:`wall_clock`,
:func:`weekdays`, :func:`listing`, :func:`duration`, :func:`exact_duration`): a :class:`Text` whose message id
no catalogue holds, formatted by Babel (:mod:`bot.dates`) in the reader's language when rendered. They are
stored as JSON like any other text, so a queued reminder shows its date in the language of whoever gets it.
"""

from __future__ import annotations

import gettext
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import dates
from bot.bidi import is_rtl, isolate

__all__ = ["DEFAULT_LANGUAGE", "Msg", "Text", "Translator", "_", "_n", "decode_text", "duration", "encode_text",
           "exact_duration", "listing", "moment", "text_from_json", "text_to_json", "wall_clock", "weekdays"]

DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).parent / "locales"
_DURATION = "\x00duration"
"""The message id of a :func:`duration`: no catalogue holds it; :meth:`Translator.render` formats it."""
_MOMENT = "\x00moment"
_WALL_CLOCK = "\x00wall-clock"
_WEEKDAYS = "\x00weekdays"
_LIST = "\x00list"
_EXACT = "\x00exact-duration"
_FORMATTED = frozenset({_MOMENT, _WALL_CLOCK, _WEEKDAYS, _LIST, _EXACT})
"""Message ids of the other lazy formatted values: like :data:`_DURATION`, formatted by :mod:`bot.dates`."""


@dataclass(frozen=True, slots=True)
class Text:
    """A message id with its parameters, rendered later in the reader's language.

    Parameters may themselves be :class:`Text` (a translated role or mode name inside a sentence).
    """

    msgid: str
    plural: str | None = None
    n: int | None = None
    params: tuple[tuple[str, str | int | float | Text], ...] = ()

    def __str__(self) -> str:  # pragma: no cover - debugging aid only
        return Translator.untranslated().render(self, DEFAULT_LANGUAGE)


Msg = Text | str
"""A user-facing string: :class:`Text` is translated; a plain ``str`` is user content shown as is."""


def _(msgid: str, /, **params: str | int | float | Text) -> Text:
    """Mark ``msgid`` for translation; ``{name}`` placeholders are filled from ``params``."""
    return Text(msgid, params=tuple(sorted(params.items())))


def _n(singular: str, plural: str, n: int, /, **params: str | int | float | Text) -> Text:
    """Mark a message with plural forms; ``n`` chooses the form and is also available as ``{n}``."""
    return Text(singular, plural=plural, n=n, params=tuple(sorted({**params, "n": n}.items())))


def duration(seconds: float) -> Text:
    """A length of time, rendered in the reader's language by Babel ("4 min", "2 hr"), rounded to its largest
    unit; under a minute it reads "less than a minute". Lazy like any :class:`Text`, so it survives being
    stored and is rendered for each reader."""
    return Text(_DURATION, params=(("seconds", max(0, round(seconds))),))


def exact_duration(seconds: float) -> Text:
    """A length of time to the minute with every unit ("1 hour, 30 minutes", "1 día"): a meeting's length or a
    reminder's offset, which the reader must see exactly (unlike the estimate of :func:`duration`)."""
    return Text(_EXACT, params=(("seconds", max(0, round(seconds))),))


def moment(instant: datetime, zone: ZoneInfo, style: str = "F", *, with_zone: bool = False) -> Text:
    """``instant`` on the wall clock of ``zone``, in the reader's language ("Tuesday, December 1, 2026,
    2:00 PM"; "martes, 1 de diciembre de 2026, 14:00"), with the zone's name after it when ``with_zone``.

    For a time in a *named* zone (the meeting's, the author's). A time each reader should see in their own zone
    is a :func:`bot.messages.stamp`, which the adapters render. ``style`` is a stamp style letter.
    """
    return Text(_MOMENT, params=(("at", int(instant.timestamp())), ("style", _style(style)),
                                 ("with_zone", int(with_zone)), ("zone", zone.key or "UTC")))


def wall_clock(local: datetime, style: str = "f") -> Text:
    """A naive wall-clock time as is, in the reader's language: for a time that names no instant (02:30 on
    the day the clocks skip it) or one already in the zone the sentence names."""
    return Text(_WALL_CLOCK, params=(("local", local.replace(tzinfo=None).isoformat(timespec="minutes")),
                                     ("style", _style(style))))


def weekdays(days: Iterable[int]) -> Text:
    """Weekday numbers (0 = Monday) as names joined in the reader's language ("Tuesday and Thursday"), in
    week order and each once, however they were given."""
    return Text(_WEEKDAYS, params=(("days", ",".join(str(day) for day in sorted(set(days)))),))


def listing(items: Iterable[str | Text], *, counts: bool = False) -> Text:
    """Items joined in the reader's language: "a, b and c" ("a, b y c"); with ``counts``, the form for
    measures and tallies ("3 queued, 2 sent"). Each item is rendered for the reader first."""
    params = tuple((f"{index:04d}", item) for index, item in enumerate(items))
    return Text(_LIST, params=(("style", "unit" if counts else "standard"), *params))


def _style(style: str) -> str:
    if style not in dates.STYLES:
        raise ValueError(f"unknown time style {style!r}")
    return style


class Translator:
    """Renders :class:`Text` for a language from the gettext catalogues under ``locales``."""

    def __init__(self, catalogues: Mapping[str, gettext.NullTranslations]) -> None:
        self._catalogues = dict(catalogues)
        self._catalogues.setdefault(DEFAULT_LANGUAGE, gettext.NullTranslations())

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Translator:
        """Compile every ``<lang>/LC_MESSAGES/messages.po`` below ``directory``."""
        catalogues: dict[str, gettext.NullTranslations] = {}
        for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
            language = po_path.parent.parent.name
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            catalogues[language] = gettext.GNUTranslations(buffer)
        return cls(catalogues)

    @classmethod
    def untranslated(cls) -> Translator:
        return cls({})

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._catalogues))

    def supports(self, language: str) -> bool:
        return language in self._catalogues

    def render(self, message: Msg, language: str | None) -> str:
        """Translate and format ``message``; plain strings pass through untouched.

        For a right-to-left reader every inserted value and every plain string (user content: topic names, URLs,
        numbers, titles) is wrapped in a Unicode isolate (:func:`bot.bidi.isolate`), so a Latin name or a number
        inside an Arabic sentence keeps its own direction and does not scramble the words around it in Slack,
        Discord or a terminal."""
        rtl = is_rtl(language)
        if isinstance(message, str):
            return isolate(message) if rtl else message
        if message.msgid == _DURATION:
            return self._duration(message, language)
        if message.msgid in _FORMATTED:
            return self._formatted(message, language)
        catalogue = self._catalogues.get(language or DEFAULT_LANGUAGE) or self._catalogues[DEFAULT_LANGUAGE]
        if message.plural is not None and message.n is not None:
            template = catalogue.ngettext(message.msgid, message.plural, message.n)
        else:
            template = catalogue.gettext(message.msgid)
        values = {key: self._value(value, language, rtl) for key, value in message.params}
        return template.format(**values) if values else template

    def _value(self, value: str | int | float | Text, language: str | None, rtl: bool) -> str | int | float:
        if isinstance(value, Text):
            value = self.render(value, language)
        return isolate(str(value)) if rtl else value

    def _duration(self, message: Text, language: str | None) -> str:
        seconds = dict(message.params).get("seconds", 0)
        if not isinstance(seconds, int | float) or seconds < 60:
            return self.render(_("less than a minute"), language)
        return format_timedelta(timedelta(seconds=seconds), threshold=1, format="short",
                                locale=dates.locale_of(language))

    def _formatted(self, message: Text, language: str | None) -> str:
        """A lazy date, weekday set, list or exact duration, formatted by Babel for ``language``. A value
        that does not parse (a row damaged by hand) shows as empty rather than failing a whole delivery."""
        values = {key: self.render(value, language) if isinstance(value, Text) else value
                  for key, value in message.params}
        style = str(values.get("style", dates.DEFAULT_STYLE))
        try:
            if message.msgid == _MOMENT:
                return dates.format_stamp(int(values["at"]), style, str(values["zone"]), language,
                                          with_zone=bool(values.get("with_zone")))
            if message.msgid == _WALL_CLOCK:
                return dates.format_local(datetime.fromisoformat(str(values["local"])), style, language)
            if message.msgid == _WEEKDAYS:
                days = str(values.get("days", ""))
                return dates.format_weekdays([int(day) for day in days.split(",") if day], language)
            if message.msgid == _EXACT:
                return dates.format_span(float(values.get("seconds", 0)), language)
        except (KeyError, ValueError, TypeError):
            return ""
        items = [str(value) for key, value in sorted(values.items()) if key != "style"]
        return dates.join(items, language, style=style)


def text_to_json(message: Msg) -> Any:
    """A JSON-safe form of ``message``, for delivery rows that are rendered when sent."""
    if isinstance(message, str):
        return message
    return {
        "msgid": message.msgid,
        "plural": message.plural,
        "n": message.n,
        "params": [[key, text_to_json(value) if isinstance(value, Text) else value]
                   for key, value in message.params],
    }


def text_from_json(data: Any) -> Msg:
    """Inverse of :func:`text_to_json`; raises ``ValueError`` on a malformed value."""
    if isinstance(data, str):
        return data
    if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
        raise ValueError(f"not a serialised text: {data!r}")
    params: list[tuple[str, str | int | float | Text]] = []
    for key, value in data.get("params", []):
        params.append((str(key), text_from_json(value) if isinstance(value, dict) else value))
    return Text(data["msgid"], plural=data.get("plural"), n=data.get("n"), params=tuple(params))


def available_languages(directory: Path = LOCALES_DIR) -> tuple[str, ...]:
    """English plus every language with a catalogue, without compiling them."""
    found = {path.parent.parent.name for path in directory.glob("*/LC_MESSAGES/messages.po")}
    return tuple(sorted(found | {DEFAULT_LANGUAGE}))


def encode_text(message: Msg) -> str:
    """Store a message in a text column (delivery reasons), to be shown later in the reader's language."""
    return json.dumps(text_to_json(message), ensure_ascii=False)


def decode_text(stored: str) -> Msg:
    """Inverse of :func:`encode_text`; a value that is not one (older rows, platform codes) is shown as is."""
    try:
        return text_from_json(json.loads(stored))
    except ValueError:
        return stored
