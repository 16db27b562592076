"""The public pages: home, topic, announcement permalink, meeting, resource library, robots.txt.

Every handler asks :class:`~bot.public.service.PublicService` and answers 404 — the one "not found" page —
for anything it returns ``None`` for, so a private topic, a draft announcement and a number nobody used read
the same. Every sentence is a catalogue message defined here (:data:`LABELS` and the ``_()`` calls below).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlencode

from aiohttp import web

from adapters.web.email import subscribe_form
from adapters.web.language import choose
from adapters.web.render import Renderer
from bot.i18n import Msg, Text, _, exact_duration
from bot.meetings.model import MeetingState
from bot.meetings.recurrence import describe_rule
from bot.public.model import PUBLIC_ID, ResourceResults
from bot.public.service import PublicService
from bot.public.service import headline as title_of
from bot.resources.model import KIND_LABELS, ResourceFilter, ResourceKind

MAX_QUERY = 200

LABELS: dict[str, Text] = {
    "home": _("Home"), "library": _("Resource library"), "languages": _("Languages"),
    "times_note": _("Times are shown in UTC, or in your own time zone when your browser runs the page's script."),
    "topics": _("Public topics"), "no_topics": _("There are no public topics yet."),
    "next_meetings": _("Next meetings"), "upcoming": _("Upcoming meetings"),
    "no_meetings": _("No meetings are planned."), "latest": _("Latest announcements"),
    "no_announcements": _("No announcements yet."), "edited": _("edited"), "permalink": _("Read and share"),
    "moved": _("moved"), "cancelled": _("cancelled"), "follow": _("Follow without a chat account"),
    "feed_all": _("News feed of every public topic (Atom)"),
    "calendar_all": _("Calendar of every public meeting (.ics)"),
    "subscribe_calendar": _("Subscribe in your calendar app"), "feed_topic": _("News feed of this topic (Atom)"),
    "calendar_topic": _("Calendar of this topic's meetings (.ics)"),
    "topic_resources": _("Resources of this topic"), "newer": _("Newer"), "older": _("Older"),
    "meeting_cancelled": _("This meeting has been cancelled."), "duration": _("Length"),
    "repeats": _("Repeats"), "zone": _("Time zone"), "next_dates": _("Next dates"),
    "no_dates": _("No dates are planned."), "add_to_calendar": _("Add to calendar"),
    "search_words": _("Words to search for"), "topic": _("Topic"), "all_topics": _("All topics"),
    "kind": _("Kind"), "all_kinds": _("All kinds"), "search": _("Search"), "open_link": _("Open"),
    "no_resources": _("No resources match."), "previous_page": _("Previous page"), "next_page": _("Next page"),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Pages:
    def __init__(self, public: PublicService, renderer: Renderer, *, email_enabled: bool = False) -> None:
        self._public = public
        self._render = renderer
        self._email = email_enabled

    def language(self, request: web.Request) -> str:
        return choose(request.query.get("lang"), request.headers.get("Accept-Language"),
                      self._render.languages, self._render.config.default_language)

    def _text(self, message: Text, language: str) -> str:
        return self._render.text(message, language)

    async def home(self, request: web.Request) -> web.StreamResponse:
        language = self.language(request)
        home = await self._public.home()
        feeds = [{"type": "application/atom+xml", "title": self._text(LABELS["feed_all"], language),
                  "href": "/feeds/all.atom"}]
        return self._render.page(request, "home.html", language, title=self._text(LABELS["home"], language),
                                 home=home, feeds=feeds, webcal_all=self._render.webcal("/calendar.ics"))

    async def topic(self, request: web.Request, *, values: Mapping[str, str] | None = None, error: Msg | None = None,
                    status: int = 200) -> web.StreamResponse:
        """The topic page; with email on, its subscribe form (``values`` and ``error``: a form sent back)."""
        language = self.language(request)
        page = await self._public.topic_page(request.match_info["slug"], _page(request))
        if page is None:
            raise web.HTTPNotFound()
        slug = page.topic.slug
        feeds = [{"type": "application/atom+xml", "title": self._text(LABELS["feed_topic"], language),
                  "href": f"/topics/{slug}/feed.atom"}]
        follow = _("To follow this topic in the coalition's Slack or Discord, send the bot “subscribe {topic}”.",
                   topic=slug)
        archive = _("Announcements — page {page}", page=page.page) if page.page > 1 else _("Announcements")
        return self._render.page(request, "topic.html", language, title=page.topic.title, page=page, feeds=feeds,
                                 how_to_follow=self._text(follow, language),
                                 archive_title=self._text(archive, language), status=status,
                                 webcal=self._render.webcal(f"/topics/{slug}/calendar.ics"),
                                 subscribe=subscribe_form(self._render, language, slug, values, error)
                                 if self._email else None)

    async def announcement(self, request: web.Request) -> web.StreamResponse:
        language = self.language(request)
        item = await self._public.announcement(request.match_info["id"])
        if item is None:
            raise web.HTTPNotFound()
        headline = title_of(item)
        title = headline if isinstance(headline, str) else self._text(headline, language)
        return self._render.page(request, "announcement.html", language, title=title, item=item)

    async def meeting(self, request: web.Request) -> web.StreamResponse:
        language = self.language(request)
        item = await self._public.meeting(request.match_info["id"])
        if item is None:
            raise web.HTTPNotFound()
        meeting = item.meeting
        repeats = self._text(describe_rule(meeting.rrule, meeting.start_local), language) if meeting.rrule else ""
        return self._render.page(request, "meeting.html", language, title=meeting.title, item=item,
                                 cancelled=meeting.state is MeetingState.CANCELLED, repeats=repeats,
                                 length=self._text(exact_duration(meeting.duration_minutes * 60), language))

    async def resources(self, request: web.Request) -> web.StreamResponse:
        language = self.language(request)
        query = request.query.get("q", "")[:MAX_QUERY]
        page = _page(request)
        topics = await self._public.topics()
        chosen_topic = request.query.get("topic", "")
        kind_value = request.query.get("kind", "")
        kind = ResourceKind(kind_value) if kind_value in set(ResourceKind) else None
        language_filter = request.query.get("language") or None
        topic_id = next((t.id for t in topics if t.slug == chosen_topic), None)
        notes: list[str] = []
        if kind_value and kind is None:  # a hand-edited link: say what was ignored rather than pretend
            notes.append(self._text(_("There is no kind “{kind}”; every kind is shown.", kind=kind_value[:40]),
                                    language))
        suggestion_href = suggestion_label = None
        if chosen_topic and topic_id is None:  # not a public topic: the same as a topic with nothing in it
            results: ResourceResults | None = ResourceResults((), False, page, {})
        else:
            results = await self._public.resources(query, ResourceFilter(topic_id, kind, language_filter), page)
        if results is None:
            raise web.HTTPNotFound()
        filters = {"topic": chosen_topic, "kind": kind.value if kind else "", "language": language_filter or ""}
        if results.suggestion is not None:
            shown, suggestion = results.searched or "", results.suggestion
            if results.corrected:
                notes.append(self._text(_("Nothing matches “{query}”. Did you mean “{suggestion}”? Showing "
                                          "results for it.", query=shown, suggestion=suggestion), language))
            else:
                suggestion_label = self._text(_("Did you mean “{suggestion}”?", suggestion=suggestion), language)
                suggestion_href = _link(request, language, q=suggestion, **filters)
        if results.no_words:
            notes.append(self._text(_("“{query}” has no words to search for. Type one or more words, for example "
                                      "“election observation”.", query=query.strip()), language))
        has_more = results.has_more
        prev_href = _link(request, language, q=query, page=page - 1, **filters) if page > 1 else None
        next_href = _link(request, language, q=query, page=page + 1, **filters) if has_more else None
        kinds = [(k.value, self._text(KIND_LABELS[k], language)) for k in ResourceKind]
        return self._render.page(request, "resources.html", language, title=self._text(LABELS["library"], language),
                                 results=results, query=query, topics=topics,
                                 chosen_topic=chosen_topic, chosen_kind=kind.value if kind else "", kinds=kinds,
                                 notes=notes, suggestion_href=suggestion_href, suggestion_label=suggestion_label,
                                 prev_href=prev_href, next_href=next_href,
                                 kind_label=lambda k: self._text(KIND_LABELS[k], language))

    async def robots(self, request: web.Request) -> web.StreamResponse:
        body = "User-agent: *\nAllow: /\n" if self._render.config.indexable else "User-agent: *\nDisallow: /\n"
        return web.Response(text=body, content_type="text/plain", charset="utf-8")

    async def error(self, request: web.Request, status: int) -> web.StreamResponse:
        """The one answer for anything that is not there, or not there for an anonymous reader (404), a method
        other than reading (405), and a bug (500: no cause named, the log has it)."""
        language = self.language(request)
        if status == 404:
            title, message = _("Not found"), _("There is nothing here, or it is not public.")
        elif status == 400:
            title, message = _("Bad request"), _("This request could not be read.")
        elif status >= 500:
            title, message = _("Something went wrong"), _("This page could not be shown. Please try again later.")
        else:
            title, message = _("Not allowed"), _("This address only answers reading.")
        return self._render.page(request, "error.html", language, status=status, title=self._text(title, language),
                                 message=self._text(message, language))


def listening(url: str) -> Text:
    """What the console user reads at start: where the public pages are."""
    return _("Public pages for followers: {url}", url=url)


def page_routes(pages: Pages) -> list[web.RouteDef]:
    """Part 1's route table for :func:`adapters.web.server.build_site`."""
    return [web.get("/", pages.home), web.get("/topics/{slug}", pages.topic),
            web.get(f"/announcements/{{id:{PUBLIC_ID.pattern}}}", pages.announcement),
            web.get(f"/meetings/{{id:{PUBLIC_ID.pattern}}}", pages.meeting),
            web.get("/resources", pages.resources), web.get("/robots.txt", pages.robots)]


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or int(raw) < 1:
        raise web.HTTPNotFound()
    return int(raw)


def _link(request: web.Request, shown_in: str, /, **params: object) -> str:
    query = {key: str(value) for key, value in params.items()
             if value is not None and value != "" and not (key == "page" and value == 1)}
    if request.query.get("lang") == shown_in:
        query["lang"] = shown_in
    # The path collapsed to one leading slash: "//evil.example/x" must not become a link to another site.
    return "/" + request.path.lstrip("/") + ("?" + urlencode(query) if query else "")
