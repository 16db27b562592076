"""Which language a page is written in: ``?lang=`` when it names a shipped language, else the best match of the
browser's ``Accept-Language``, else the coalition's default. Only the language subtag counts, as for platform
locales (:func:`bot.people.languages.platform_language`): ``es-419`` reads Spanish, ``pt-BR`` Portuguese."""

from __future__ import annotations

from collections.abc import Collection

from bot.people.languages import platform_language

MAX_ACCEPT = 1000
"""Longer ``Accept-Language`` headers are cut here: nobody lists more, and parsing stays cheap."""


def from_query(value: str | None, shipped: Collection[str]) -> str | None:
    """The shipped language ``?lang=`` names, or ``None`` (absent, unknown or malformed: the page falls back)."""
    if not value or len(value) > 35:
        return None
    return platform_language(value.strip(), shipped)


def from_accept(header: str | None, shipped: Collection[str]) -> str | None:
    """The shipped language the browser prefers most (RFC 9110 quality values; ties keep the header's order);
    ``None`` when it lists none we ship."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header[:MAX_ACCEPT].split(",")):
        tag, _sep, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if not quality > 0 or quality == float("inf") or not tag or tag == "*":  # "nan" compares false
            continue
        language = platform_language(tag, shipped)
        if language is not None:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else None


def choose(query: str | None, accept: str | None, shipped: Collection[str], default: str) -> str:
    """``?lang=``, else ``Accept-Language``, else ``default``."""
    return from_query(query, shipped) or from_accept(accept, shipped) or default
