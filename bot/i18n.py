"""Translation layer: every user-facing string is a lazy :class:`Text` rendered in the reader's language.

Why lazy: one core message often reaches many people (a request notice to every coordinator, an
announcement to every subscriber), each in their own language, and a delivery row may be sent hours after it
was written. So the core builds :class:`Text` values (message id + parameters), stores them as JSON when
queued, and renders them only when the reader is known.

Catalogues are gettext ``.po`` files under ``bot/locales``; they are compiled in memory at start with Babel,
so there is no build step and no binary file in the repository.
"""

from __future__ import annotations

import gettext
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = ["DEFAULT_LANGUAGE", "Msg", "Text", "Translator", "_", "_n", "decode_text", "duration", "encode_text",
           "text_from_json", "text_to_json"]

DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).parent / "locales"
_DURATION = "\x00duration"
"""The message id of a :func:`duration`: no catalogue holds it; :meth:`Translator.render` formats it."""


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
        """Translate and format ``message``; plain strings pass through untouched."""
        if isinstance(message, str):
            return message
        if message.msgid == _DURATION:
            return self._duration(message, language)
        catalogue = self._catalogues.get(language or DEFAULT_LANGUAGE) or self._catalogues[DEFAULT_LANGUAGE]
        if message.plural is not None and message.n is not None:
            template = catalogue.ngettext(message.msgid, message.plural, message.n)
        else:
            template = catalogue.gettext(message.msgid)
        values = {key: self.render(value, language) if isinstance(value, Text) else value
                  for key, value in message.params}
        return template.format(**values) if values else template

    def _duration(self, message: Text, language: str | None) -> str:
        seconds = dict(message.params).get("seconds", 0)
        if not isinstance(seconds, int | float) or seconds < 60:
            return self.render(_("less than a minute"), language)
        try:
            locale = Locale.parse(language or DEFAULT_LANGUAGE)
        except (UnknownLocaleError, ValueError):
            locale = Locale.parse(DEFAULT_LANGUAGE)
        return format_timedelta(timedelta(seconds=seconds), threshold=1, format="short", locale=locale)


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
