"""Turning page values into HTML: one Jinja2 environment (autoescape on, undefined names fail), every label
rendered through the catalogues in the page's language, times as ``<time datetime="…Z">`` with CLDR text in
UTC, user text cleaned of bidi controls and shown inside ``<bdi>``.

Labels are :class:`~bot.i18n.Text` values defined in :mod:`adapters.web.pages`, never literals in templates: the
catalogue extraction reads Python only, so a template holds no sentence of its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from adapters.web.server import NONCE_KEY
from bot.bidi import is_rtl, stripped
from bot.i18n import Msg, Translator, moment
from bot.people.languages import own_name

TEMPLATES = Path(__file__).parent / "templates"
UTC_ZONE = ZoneInfo("UTC")
EXCERPT = 600
"""Characters of an announcement or summary shown in a listing (the permalink shows all of it)."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """What the pages need from ``[web]`` and ``[coalition]``: plain values from the composition root."""

    coalition: str = "Coalition"
    default_language: str = "en"
    base_url: str | None = None
    """Public address of the site (``https://follow.example.org/``) behind a reverse proxy; absolute links,
    canonical URLs and ``webcal://`` links use it. ``None``: links stay relative."""
    indexable: bool = False
    """Off by default: ``robots.txt`` disallows everything and every page says ``noindex``."""


def clean(text: str) -> str:
    """User text as shown on a page: no bidi controls (an RLO in a title cannot reverse what follows), no C0/C1
    controls but tabs and line breaks, compatibility forms left alone. Escaping is Jinja's job."""
    return _CONTROL.sub("", stripped(unicodedata.normalize("NFC", text)))


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[:EXCERPT].rstrip() + "…"


def safe_url(url: str) -> str | None:
    """An http(s) link as is; anything else (``javascript:``, ``data:``, a relative path) is not linked."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


class Renderer:
    def __init__(self, translator: Translator, config: SiteConfig, labels: Mapping[str, Msg]) -> None:
        self.translator = translator
        self.config = config
        self._labels = labels
        self._env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                       undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self._env.globals.update(clean=clean, excerpt=excerpt, safe_url=safe_url)

    @property
    def languages(self) -> tuple[str, ...]:
        return self.translator.languages

    def text(self, message: Msg, language: str) -> str:
        return self.translator.render(message, language)

    def when(self, instant: datetime, language: str) -> Markup:
        """``<time datetime="…Z">`` with the time in UTC in the page's language; the page's script may rewrite
        the text in the reader's own zone."""
        utc = instant.astimezone(UTC)
        stamp = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        shown = self.text(moment(utc, UTC_ZONE, "F", with_zone=True), language)
        return Markup(f'<time datetime="{stamp}">{escape(shown)}</time>')

    def absolute(self, path: str) -> str | None:
        base = self.config.base_url
        return f"{base.rstrip('/')}{path}" if base else None

    def webcal(self, path: str) -> str | None:
        """``webcal://`` for a calendar path, when the public address is known (calendars need a host)."""
        url = self.absolute(path)
        if url is None:
            return None
        return "webcal://" + url.split("://", 1)[1] if "://" in url else None

    def page(self, request: web.Request, template: str, language: str, *, status: int = 200,
             **context: Any) -> web.Response:
        explicit = request.query.get("lang") == language

        def href(path: str, **params: object) -> str:
            query = {key: str(value) for key, value in params.items() if value not in (None, "")}
            if explicit:
                query["lang"] = language
            return path + ("?" + urlencode(query) if query else "")

        switcher = []
        for code in self.languages:
            query = dict(request.query)
            query["lang"] = code
            switcher.append({"code": code, "name": own_name(code), "current": code == language,
                             "href": "?" + urlencode(query)})  # query only: never a path to elsewhere
        labels = {key: self.text(value, language) for key, value in self._labels.items()}
        when: Callable[[datetime], Markup] = lambda instant: self.when(instant, language)  # noqa: E731
        html = self._env.get_template(template).render(
            lang=language, dir="rtl" if is_rtl(language) else "ltr", nonce=request[NONCE_KEY],
            coalition=self.config.coalition, indexable=self.config.indexable, L=labels, href=href, when=when,
            switcher=switcher, explicit_lang=explicit, canonical=self.absolute(request.path),
            **{"feeds": (), **context})
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store" if status >= 500 else "public, max-age=60",
                                     "Content-Language": language,
                                     "Vary": "Accept-Language"})
