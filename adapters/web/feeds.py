"""Atom feeds (RFC 4287) of the coalition's public announcements: ``/feeds/all.atom`` and
``/topics/{slug}/feed.atom``, and — through :mod:`adapters.web.calendars` — the calendar files.

Everything comes from :class:`bot.public.service.PublicService`, so a feed lists exactly what an outsider may
see; a topic an outsider may not see answers 404 like one that does not exist. Entries keep their ``tag:`` id
across edits, languages and feed URLs (a reader that sees the same id again updates the entry instead of
showing it twice); ``updated`` is the last edit. Announcement text is user text: it goes out as
``type="text"``, escaped by the XML serialiser, with the characters XML cannot carry removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree

from aiohttp import web

from adapters.web.calendars import calendar_routes
from adapters.web.syndication import Site, Versions, conditional, etag_of, language_of, printable
from bot import bidi
from bot.clock import Clock
from bot.i18n import Msg, Translator, _
from bot.public.model import PublicAnnouncement
from bot.public.service import PublicService
from bot.public.service import headline as title_of
from bot.topics.model import Topic

__all__ = ["ATOM_TYPE", "feed_routes"]

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"


def feed_routes(public: PublicService, translator: Translator, clock: Clock, *, coalition_name: str,
                default_language: str, base_url: str | None, coalition_slug: str, max_age: int = 300,
                ) -> list[web.RouteDef]:
    """The routes of part "feeds": two Atom feeds and three calendar files. ``coalition_slug`` must be the one
    the chat's ``.ics`` exports use (:func:`bot.meetings.ics.coalition_slug` of the coalition's name), so an
    event imported from chat and the same event from a subscription share their UID. ``base_url``: ``[web]
    base_url`` (``None``: the address each request reached)."""
    versions = Versions(clock)
    feeds = _Feeds(public, translator, base_url, versions, coalition_name, default_language, max_age)
    return [web.get("/feeds/all.atom", feeds.everything),
            web.get("/topics/{slug}/feed.atom", feeds.topic),
            *calendar_routes(public, translator, versions=versions, coalition_name=coalition_name,
                             default_language=default_language, coalition_slug=coalition_slug,
                             max_age=max_age)]


class _Feeds:
    def __init__(self, public: PublicService, translator: Translator, base_url: str | None, versions: Versions,
                 coalition: str, default_language: str, max_age: int) -> None:
        self._public = public
        self._translator = translator
        self._base_url = base_url
        self._versions = versions
        self._coalition = coalition
        self._default = default_language
        self._max_age = max_age

    async def everything(self, request: web.Request) -> web.StreamResponse:
        entries = await self._public.announcements()
        return self._answer(request, None, entries or [])

    async def topic(self, request: web.Request) -> web.StreamResponse:
        slug = request.match_info["slug"]
        topic = await self._public.topic(slug)
        entries = await self._public.announcements(topic.slug) if topic is not None else None
        if topic is None or entries is None:
            raise web.HTTPNotFound()
        return self._answer(request, topic, entries)

    def _answer(self, request: web.Request, topic: Topic | None, entries: Sequence[PublicAnnouncement],
                ) -> web.Response:
        language = language_of(request, self._translator.languages, self._default)
        path = "/feeds/all.atom" if topic is None else f"/topics/{topic.slug}/feed.atom"
        body = self._document(Site.of(self._base_url, request), topic, entries, language, _with_lang(path, language))
        etag = etag_of(body)
        newest = max((e.updated_at for e in entries), default=None)
        stamp = self._versions.last_modified(_with_lang(path, language), etag, newest)
        return conditional(request, body, ATOM_TYPE, etag=etag, last_modified=stamp, now=self._versions.now(),
                           max_age=self._max_age)

    def _text(self, message: Msg, language: str) -> str:
        return printable(self._translator.render(message, language))

    def _document(self, site: Site, topic: Topic | None, entries: Sequence[PublicAnnouncement], language: str,
                  self_path: str) -> bytes:
        # Plain tag names and a literal xmlns: ElementTree's default_namespace refuses unqualified attributes.
        feed = ElementTree.Element("feed", {"xmlns": ATOM, "xml:lang": language})
        if topic is None:
            feed_id = site.tag(_FEED_EPOCH, "feeds/all")
            title = self._text(_("Announcements of {coalition}", coalition=self._coalition), language)
            page = "/"
        else:
            feed_id = site.tag(topic.created_at, f"topic/{topic.slug}")
            title = self._text(_("{topic} — {coalition}", topic=_contained(printable(topic.title), language),
                                 coalition=self._coalition), language)
            page = f"/topics/{topic.slug}"
        _add(feed, "id", feed_id)
        _add(feed, "title", title, type="text")
        if topic is not None and topic.description.strip():
            _add(feed, "subtitle", _contained(printable(topic.description), language), type="text")
        newest = max((e.updated_at for e in entries), default=topic.created_at if topic else _FEED_EPOCH)
        _add(feed, "updated", _instant(newest))
        author = ElementTree.SubElement(feed, "author")
        _add(author, "name", printable(self._coalition))
        _add(feed, "link", None, rel="self", type=ATOM_TYPE, href=site.url(self_path))
        _add(feed, "link", None, rel="alternate", type="text/html", href=site.url(_with_lang(page, language)))
        _add(feed, "generator", "coalition-bot")
        for entry in entries:
            feed.append(self._entry(site, entry, language))
        data: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
        return data

    def _entry(self, site: Site, item: PublicAnnouncement, language: str) -> ElementTree.Element:
        entry = ElementTree.Element("entry")
        text = printable(item.text).replace("\r\n", "\n").replace("\r", "\n")
        headline = title_of(item)
        title = _contained(printable(headline), language) if isinstance(headline, str) else \
            self._text(headline, language)
        _add(entry, "id", site.tag(item.announcement.created_at, f"announcement/{item.public_id}"))
        _add(entry, "title", title, type="text")
        _add(entry, "published", _instant(item.published_at))
        _add(entry, "updated", _instant(item.updated_at))
        _add(entry, "link", None, rel="alternate", type="text/html",
             href=site.url(_with_lang(f"/announcements/{item.public_id}", language)))
        _add(entry, "category", None, term=item.topic.slug, label=_contained(printable(item.topic.title), language))
        _add(entry, "content", text, type="text")
        return entry


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _contained(text: str, language: str) -> str:
    """A line of user text shown inside a reader's own interface (a title, a label): wrapped in an isolate when
    the feed is right to left or the text holds direction controls, so a pasted RIGHT-TO-LEFT OVERRIDE cannot
    reverse whatever the reader shows after it. Other text is left as typed."""
    return bidi.isolate(text) if bidi.is_rtl(language) or not _BIDI_CONTROLS.isdisjoint(text) else text


_FEED_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
"""The date in the whole-site feed's ``tag:`` id (RFC 4151 wants one; it only has to stay the same)."""


def _add(parent: ElementTree.Element, name: str, text: str | None, **attributes: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, name, attributes)
    element.text = text
    return element


def _instant(instant: datetime) -> str:
    """RFC 3339 in UTC, to the second (what every Atom reader parses)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _with_lang(path: str, language: str) -> str:
    return f"{path}?lang={language}"

