"""What the Atom feeds and the calendar files share: text fit for XML and iCalendar, tag: ids, the feed's
language, and conditional GET.

Feed readers and calendar apps poll every few minutes, so each answer carries an ``ETag`` (a hash of the body)
and a ``Last-Modified``, and a request naming either gets a bodiless 304. The ETag is exact. ``Last-Modified``
cannot come from the data alone: a cancelled announcement leaves a feed, a cancelled occurrence joins a
calendar's EXDATE, and neither records a time a reader may see (the audit log does, but it also times private
activity, and a public header must not reveal when members-only work happens). So :class:`Versions` remembers,
per URL, the hash it last served and since when: a body seen for the first time is stamped with the newest
change its data records (never before this process started, so a change made just before a restart is not
hidden behind an older date), and a body that changed since is stamped with the moment it was first served.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from aiohttp import web

from adapters.web.language import from_query
from bot.clock import Clock

MAX_REMEMBERED = 4096
"""URLs whose last body :class:`Versions` keeps (a few bytes each); the least recently asked ones go first."""

_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 forbids even escaped (C0 controls but tab and line breaks, surrogates, U+FFFE/FFFF),
which RFC 5545 TEXT forbids as well, plus DEL and the C1 controls, which neither format needs and some readers
choke on."""


_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                   r"[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}"
                   r"|[1-9]\d{0,3}))?")
"""A ``Host`` header fit to name the site in feeds: a DNS name or an IP literal, and a port in range."""


def printable(text: str) -> str:
    """``text`` without the characters an XML or iCalendar document may not carry: one control character in a
    title must not make a whole feed unreadable (a parser rejects the document, not the entry)."""
    return _NOT_TEXT.sub("", text)


@dataclass(frozen=True, slots=True)
class Site:
    """Where the site is reached from outside (``[web] base_url``): absolute links and stable ids."""

    base_url: str

    @staticmethod
    def of(base_url: str | None, request: web.Request) -> Site:
        """``base_url``, else the address this request reached (Atom needs absolute ids and links; behind a
        reverse proxy that forwards ``Host`` it is the public name, but only ``base_url`` keeps ids stable
        whichever name a reader used)."""
        if base_url:
            return Site(base_url)
        host = request.headers.get("Host", "")
        if not _HOST.fullmatch(host):  # copied into ids and links: a name and a port, nothing else
            raise web.HTTPBadRequest()
        return Site(f"{request.scheme}://{host.lower()}")

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    @property
    def authority(self) -> str:
        """The host name for ``tag:`` ids (RFC 4151): only the name, so a change of port or path keeps them."""
        return (urlsplit(self.base_url).hostname or "localhost").lower()

    def tag(self, created: datetime, specific: str) -> str:
        """A ``tag:`` URI: stable for as long as the host name is, whatever the feed's URL or language."""
        return f"tag:{self.authority},{created.astimezone(UTC):%Y-%m-%d}:{specific}"


def language_of(request: web.Request, shipped: Collection[str], default: str) -> str:
    """A feed's language: ``?lang=`` when it names a shipped language, else the coalition's default. A feed URL
    is copied into a reader once, so the browser's ``Accept-Language`` (whoever fetched it) does not count."""
    return from_query(request.query.get("lang"), shipped) or default


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _whole_second(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(microsecond=0)


class Versions:
    """``Last-Modified`` per URL: see the module's docstring. In memory: a restart only costs each poller one
    full download."""

    def __init__(self, clock: Clock, limit: int = MAX_REMEMBERED) -> None:
        self._clock = clock
        self._started = _whole_second(clock.now())
        self._limit = limit
        self._seen: OrderedDict[str, tuple[str, datetime]] = OrderedDict()
        self._forgot = False

    def now(self) -> datetime:
        return self._clock.now()

    def last_modified(self, key: str, etag: str, recorded: datetime | None) -> datetime:
        """When the body ``etag`` served at ``key`` changed last; ``recorded``: the newest change its data
        records (``None``: none)."""
        known = self._seen.get(key)
        if known is not None and known[0] == etag:
            self._seen.move_to_end(key)
            return known[1]
        now = _whole_second(self._clock.now())
        if known is not None:
            # Strictly later than the stamp a poller holds for the old body, even within the same second.
            stamp = max(now, known[1] + timedelta(seconds=1))
        elif self._forgot:
            stamp = now  # it may have been stamped later than its data before it was forgotten
        else:
            stamp = max(_whole_second(recorded), self._started) if recorded is not None else self._started
        self._seen[key] = (etag, stamp)
        self._seen.move_to_end(key)
        while len(self._seen) > self._limit:
            self._seen.popitem(last=False)
            self._forgot = True
        return stamp


def _etags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def not_modified(request: web.Request, etag: str, last_modified: datetime, now: datetime) -> bool:
    """RFC 9110 §13.2.2: ``If-None-Match`` decides when present (weak comparison); else ``If-Modified-Since``,
    ignored when it names a time after ``now`` (§13.1.3: such a date is invalid)."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("If-Modified-Since")
    if not since:
        return False
    try:
        instant = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return _whole_second(last_modified) <= instant <= now


def conditional(request: web.Request, body: bytes, content_type: str, *, etag: str, last_modified: datetime,
                now: datetime, max_age: int) -> web.Response:
    """The answer to a GET or HEAD: ``body`` with its validators, or a 304 with the same validators."""
    headers = {"ETag": etag, "Last-Modified": format_datetime(_whole_second(last_modified), usegmt=True),
               "Cache-Control": f"public, max-age={max_age}",
               # Without [web] base_url the links inside name the host the request came to: a shared cache
               # must not hand one host's copy to another.
               "Vary": "Host, Accept-Encoding"}
    if not_modified(request, etag, last_modified, now):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)
