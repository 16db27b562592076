"""Calendar files (RFC 5545) of the coalition's public meetings, for subscriptions (``webcal://``) and "add to
calendar": ``/calendar.ics`` (every public topic), ``/topics/{slug}/calendar.ics`` and ``/meetings/{id}.ics``.

The file is the chat's own export (:func:`bot.meetings.ics.calendar_for`): the same VTIMEZONE, RRULE, EXDATE
for cancelled occurrences, RECURRENCE-ID for moved ones, UIDs and SEQUENCE, so an event imported from a chat
export and the same event from a subscription are one event to the calendar app. Series cancelled in the last
30 days stay in, marked ``STATUS:CANCELLED``, so a subscribed calendar learns of the cancellation.

DTSTAMP: a file served without METHOD must carry when its information last changed (RFC 5545 §3.8.7.2), not
when it was fetched — a stamp of "now" would change the body, and so the ETag, on every poll. It is the same
instant as the ``Last-Modified`` header (:class:`adapters.web.syndication.Versions`), put in after the body
without it has been hashed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web

from adapters.web.syndication import Versions, conditional, etag_of, language_of, printable
from bot.bidi import stripped
from bot.i18n import Translator, _
from bot.meetings.ics import calendar_for
from bot.meetings.model import Meeting, MeetingState, Occurrence, OccurrenceState
from bot.public.model import PUBLIC_ID
from bot.public.service import PublicService

__all__ = ["CALENDAR_TYPE", "calendar_routes"]

CALENDAR_TYPE = "text/calendar"
_STAMP = datetime(2000, 1, 1, tzinfo=UTC)
_STAMP_LINE = b"\r\nDTSTAMP:20000101T000000Z\r\n"
"""How :data:`_STAMP` reads in the file: always a whole line of its own (a folded SUMMARY continues on a line
that starts with a space, so user text can never forge it)."""

_CALENDAR_UID = re.compile(rb"\r\nUID:[^\r\n]*(?=\r\n|$)")
"""The calendar's own UID line, among its properties before its first component (user text cannot forge a
line: a long NAME folds onto lines that start with a space, and a line break in it is escaped)."""

Series = Sequence[tuple[Meeting, Sequence[Occurrence]]]


def calendar_routes(public: PublicService, translator: Translator, *, versions: Versions, coalition_name: str,
                    default_language: str, coalition_slug: str, max_age: int) -> list[web.RouteDef]:
    """The three calendar routes; :func:`adapters.web.feeds.feed_routes` includes them."""
    calendars = _Calendars(public, translator, versions, coalition_name, default_language, coalition_slug,
                           max_age)
    return [web.get("/calendar.ics", calendars.everything),
            web.get("/topics/{slug}/calendar.ics", calendars.topic),
            web.get(f"/meetings/{{id:{PUBLIC_ID.pattern}}}.ics", calendars.meeting)]


class _Calendars:
    def __init__(self, public: PublicService, translator: Translator, versions: Versions,
                 coalition: str, default_language: str, coalition_slug: str, max_age: int) -> None:
        self._public = public
        self._translator = translator
        self._versions = versions
        self._coalition = coalition
        self._default = default_language
        self._slug = coalition_slug
        self._max_age = max_age

    async def everything(self, request: web.Request) -> web.StreamResponse:
        language = self._language(request)
        series = await self._public.calendar() or []
        name = self._translator.render(_("Meetings of {coalition}", coalition=self._coalition), language)
        return self._answer(request, "/calendar.ics", "all", language, series, name)

    async def topic(self, request: web.Request) -> web.StreamResponse:
        topic = await self._public.topic(request.match_info["slug"])
        series = await self._public.calendar(topic.slug) if topic is not None else None
        if topic is None or series is None:
            raise web.HTTPNotFound()
        language = self._language(request)
        name = self._translator.render(_("Meetings: {topic} — {coalition}", topic=topic.title,
                                         coalition=self._coalition), language)
        return self._answer(request, f"/topics/{topic.slug}/calendar.ics", f"topic-{topic.slug}", language, series,
                            name)

    async def meeting(self, request: web.Request) -> web.StreamResponse:
        found = await self._public.meeting_calendar(request.match_info["id"])
        if found is None:
            raise web.HTTPNotFound()
        meeting, occurrences = found
        language = self._language(request)
        name = self._translator.render(_("{title} — {coalition}", title=meeting.title, coalition=self._coalition),
                                       language)
        return self._answer(request, f"/meetings/{meeting.public_id}.ics", f"meeting-{meeting.public_id}", language,
                            [(meeting, occurrences)], name)

    def _language(self, request: web.Request) -> str:
        return language_of(request, self._translator.languages, self._default)

    def _answer(self, request: web.Request, path: str, what: str, language: str, series: Series,
                name: str) -> web.Response:
        shown = [(_shown(meeting, occurrences), occurrences) for meeting, occurrences in series]
        exported = calendar_for(shown, self._slug, _STAMP, name=_one_line(name))
        # The export gives the calendar itself a random UID (RFC 7986) each time: a subscription needs the same one.
        head, start, components = exported.partition(b"\r\nBEGIN:V")
        head = _CALENDAR_UID.sub(f"\r\nUID:calendar-{what}@{self._slug}".encode(), head, count=1)
        unstamped = head + start + components
        # Weak: the ETag is of the file before its DTSTAMP goes in, so after a restart the same ETag may come
        # with another DTSTAMP — the same calendar, not the same bytes.
        etag = "W/" + etag_of(unstamped)
        newest = max((meeting.created_at for meeting, _occurrences in series), default=None)
        stamp = self._versions.last_modified(f"{path}?lang={language}", etag, newest)
        body = unstamped.replace(_STAMP_LINE, f"\r\nDTSTAMP:{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n".encode())
        return conditional(request, body, CALENDAR_TYPE, etag=etag, last_modified=stamp, now=self._versions.now(),
                           max_age=self._max_age)


def _shown(meeting: Meeting, occurrences: Sequence[Occurrence]) -> Meeting:
    """The series as the file shows it: its title on one line (a line break, even a lone CR, must never reach a
    content line) without the control characters RFC 5545 forbids, and a one-off
    meeting whose only occurrence was cancelled as a cancelled event (the export marks cancelled occurrences
    with EXDATE, which only a recurring series has), and never its call link."""
    state = meeting.state
    if meeting.rrule is None and occurrences and all(o.state is OccurrenceState.CANCELLED for o in occurrences):
        state = MeetingState.CANCELLED
    # No call link on the public web, in calendars either: a stranger with the link could join the call.
    return dataclasses.replace(meeting, title=_one_line(meeting.title), state=state, link=None)


def _one_line(text: str) -> str:
    """One line, without control characters or bidi controls (a right-to-left override in a title would
    reverse what a calendar app shows next to it; the pages drop them too)."""
    return " ".join(stripped(printable(text)).split())
