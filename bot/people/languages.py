"""Which language someone reads, when they never chose one: platform locales mapped to shipped languages, and
languages named the way their readers name them.

Why here: Slack (``users.info``) and Discord (each interaction) both say which language a person's client is
in, in their own spelling (``es-419``, ``pt-BR``, ``en-GB``). The core decides once how such a locale maps to
a catalogue, so a reply, a DM sent hours later and an adapter's own fallback text all agree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from babel import Locale, UnknownLocaleError

from bot.bidi import is_rtl, isolate


class LanguageSource(StrEnum):
    """Where a person's language comes from, in the order it is looked for (as :class:`ZoneSource` for zones)."""

    OWN = "own"
    PLATFORM = "platform"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """The language someone is answered in through one identity, and why. ``platform`` names the identity's
    platform when its locale decided."""

    language: str
    source: LanguageSource
    platform: str | None = None


def platform_language(locale: str | None, shipped: Collection[str]) -> str | None:
    """The shipped language a platform locale reads as (``es-ES`` and ``es-419`` → ``es``, ``pt-BR`` → ``pt``,
    ``en-GB`` → ``en``); ``None`` for no locale or one we ship no catalogue for (the caller then falls back to
    the coalition's language). Only the language subtag counts: a region never changes which catalogue is
    read (Brazilian and European Portuguese read the same text)."""
    if not locale:
        return None
    language = locale.strip().replace("_", "-").split("-")[0].lower()
    return language if language and language in shipped else None


def language_name(language: str, reader: str) -> str:
    """``language`` as ``reader`` names it ("français" for a French reader, "French" for an English one), with
    Babel's CLDR names; the bare code when CLDR has no name. Never a code where a name exists: "Your language
    is now fr" read like a bug."""
    try:
        name = Locale.parse(language).get_display_name(Locale.parse(reader))
    except (UnknownLocaleError, ValueError, TypeError):
        return language
    return name or language


def own_name(language: str) -> str:
    """``language`` in itself ("español", "العربية"), wrapped in Unicode isolates when it is written right to
    left, so it keeps its place among left-to-right text (a list of languages, "(ar)" after it)."""
    name = language_name(language, language)
    return isolate(name) if is_rtl(language) else name


def own_names(languages: Collection[str]) -> str:
    """Each language by its own name with its code, e.g. "English (en), français (fr)", for a picker's help:
    a reader finds their language whatever the language of the sentence around it."""
    return ", ".join(f"{own_name(language)} ({language})" for language in sorted(languages))
