"""Atom feeds and calendar files over the real app (demo coalition, a real SQLite file) and the real site
(part 1's ``build_site`` and its middleware) served on loopback, read with aiohttp's client.

Hostile text is checked in the RAW bytes: feedparser and icalendar repair or strip what a careless serialiser
lets through, and would hide exactly the bug these tests are for.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest
from aiohttp import ClientResponse, ClientSession, ClientTimeout
from icalendar import Calendar, Component

from adapters.web.feeds import feed_routes
from adapters.web.server import build_site, serving
from bot.announcements.model import AnnouncementState
from bot.meetings.model import NewMeeting
from bot.public.service import PublicService
from bot.topics.model import Policy, Visibility
from tests.postgres_server import engine
from tests.support import FixedClock, Harness, console_settings, harness

WAIT = 30.0
BASE = "https://coalition.example/"
HOSTILE = "<script>alert(1)</script> ]]> tab\there \u202eevil"
# PostgreSQL cannot store a NUL in text at all (it refuses the row), so only SQLite gets one to the feeds.
CONTROLS = ("\x00" if engine() == "sqlite" else "") + "\x01\x07\x0b\x0c\x1b\x7f\x85"
MEMBERS_MARK = "Wombat members-only plan"
PRIVATE_MARK = "Narwhal private response"


@dataclass
class Site:
    h: Harness
    session: ClientSession
    base: str

    async def get(self, path: str, **headers: str) -> tuple[ClientResponse, bytes]:
        async with asyncio.timeout(WAIT), self.session.get(self.base + path.lstrip("/"), headers=headers) as response:
            return response, await response.read()

    async def ok(self, path: str) -> bytes:
        response, body = await self.get(path)
        assert response.status == 200, (path, response.status)
        return body


@asynccontextmanager
async def feeds_of(h: Harness, base_url: str | None) -> AsyncIterator[Site]:
    """Part 2's routes alone on part 1's ``build_site`` (its middleware), listening on loopback."""
    services = h.app.services
    public = PublicService(h.app.store, h.clock, services.topics, services.meetings, services.resources,
                           language=services.config.default_language)
    routes = feed_routes(public, services.translator, h.clock, coalition_name=services.config.coalition_name,
                         default_language=services.config.default_language, base_url=base_url,
                         coalition_slug=services.meetings.coalition_slug)
    async with serving(build_site([routes]), "127.0.0.1", 0) as address, \
            ClientSession(timeout=ClientTimeout(total=WAIT)) as session:
        yield Site(h, session, address.url)


@pytest.fixture
async def feeds(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Site]:
    async with harness(console_settings(tmp_path), clock) as h, feeds_of(h, BASE) as running:
        yield running


async def announce(h: Harness, user: str, topic: str, text: str) -> int:
    preview = await h.text(user, f"announce new {topic} {text}")
    found = re.search(r"announce confirm (\d+)", preview)
    assert found is not None, preview
    number = int(found.group(1))
    assert "on its way" in await h.text(user, f"announce confirm {number}")
    return number


async def published(h: Harness, topic: str, text: str) -> int:
    """An announcement written straight to the store (text no command would pass through), then sent."""
    store, now = h.app.store, h.clock.now()
    found = await store.topics.by_slug(topic)
    assert found is not None
    created = await store.announcements.create(found.id, 1, text, None, now)
    assert await store.announcements.transition(created.id, AnnouncementState.SENDING, [AnnouncementState.DRAFT], now)
    return created.id


async def public_id(h: Harness, announcement: int) -> str:
    """The id the public web names announcement ``announcement`` (a chat number) by."""
    found = await h.app.store.announcements.get(announcement)
    assert found is not None
    return found.public_id


async def meeting_public_id(h: Harness, meeting: int) -> str:
    found = await h.app.store.meetings.get(meeting)
    assert found is not None
    return found.public_id


async def hidden_content(h: Harness) -> None:
    """Announcements and meetings on a members-only and a private topic, with marker text."""
    await announce(h, "demo-admin", "cybersecurity", MEMBERS_MARK)
    await announce(h, "demo-admin", "incident-response", PRIVATE_MARK)
    for topic, title, day in (("cybersecurity", MEMBERS_MARK, 3), ("incident-response", PRIVATE_MARK, 4)):
        assert "is scheduled" in await h.text("demo-admin", f'meeting create {topic} "{title}" 2026-12-0{day} 10:00')


def no_hidden(body: bytes) -> None:
    for mark in (MEMBERS_MARK, PRIVATE_MARK, "cybersecurity", "incident-response"):
        assert mark.encode() not in body, mark


def safe_raw(body: bytes) -> None:
    """No markup, CDATA end or forbidden control character from user text in the raw document."""
    assert b"<script" not in body.lower()
    assert b"]]>" not in body
    assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", body)
    assert "\x85".encode() not in body


# --- Atom ---------------------------------------------------------------------------------------------------


async def test_all_feed_lists_public_announcements_with_stable_ids(feeds: Site) -> None:
    first = await announce(feeds.h, "demo-coordinator", "disinformation", "Fact-check hub opens")
    hostile = await published(feeds.h, "disinformation", HOSTILE + CONTROLS + "\nsecond line")
    await hidden_content(feeds.h)
    body = await feeds.ok("/feeds/all.atom")

    no_hidden(body)
    safe_raw(body)
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt;" in body
    ElementTree.fromstring(body)  # well-formed XML, or this raises
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Announcements of Demo Coalition"
    assert feed.feed.author == "Demo Coalition"
    assert feed.feed.language == "en"
    ids = [entry.id for entry in feed.entries]
    assert ids == [f"tag:coalition.example,2026-11-23:announcement/{await public_id(feeds.h, n)}"
                   for n in (hostile, first)]
    by_id = {entry.id: entry for entry in feed.entries}
    entry = by_id[ids[0]]
    assert entry.content[0].type == "text/plain"
    assert entry.content[0].value.startswith("<script>alert(1)</script> ]]> tab\there \u202eevil\n")
    assert "\x07" not in entry.content[0].value
    assert "second line" not in entry.title  # the first line only, its RTL override kept inside an isolate
    assert entry.title.startswith("\u2068") and entry.title.endswith("\u2069")
    assert by_id[ids[1]].link == \
        f"https://coalition.example/announcements/{await public_id(feeds.h, first)}?lang=en"
    assert by_id[ids[1]].title == "Fact-check hub opens"


async def test_topic_feed_and_hidden_topics_answer_like_missing_ones(feeds: Site) -> None:
    await announce(feeds.h, "demo-coordinator", "disinformation", "Report on the campaign")
    await hidden_content(feeds.h)
    feed = feedparser.parse(await feeds.ok("/topics/disinformation/feed.atom"))
    assert [entry.title for entry in feed.entries] == ["Report on the campaign"]
    assert feed.feed.title == "Countering disinformation — Demo Coalition"
    assert feed.feed.id.startswith("tag:coalition.example,")

    missing = await feeds.get("/topics/no-such-topic/feed.atom")
    assert missing[0].status == 404
    for slug in ("cybersecurity", "incident-response", "no-such-topic"):
        for path in (f"/topics/{slug}/feed.atom", f"/topics/{slug}/calendar.ics"):
            response, body = await feeds.get(path)
            assert response.status == 404, path
            no_hidden(body)
            assert body == missing[1] or body.replace(slug.encode(), b"no-such-topic") == missing[1]


async def test_an_edit_updates_the_entry_and_a_cancel_removes_it(feeds: Site) -> None:
    number = await announce(feeds.h, "demo-coordinator", "disinformation", "Meeting at 10")
    before = feedparser.parse(await feeds.ok("/topics/disinformation/feed.atom")).entries[0]
    feeds.h.clock.advance(minutes=5)
    assert "updated" in await feeds.h.text("demo-coordinator", f"announce edit {number} Meeting at 11")
    after = feedparser.parse(await feeds.ok("/topics/disinformation/feed.atom")).entries[0]
    assert after.id == before.id
    assert after.content[0].value == "Meeting at 11"
    assert after.updated == "2026-11-23T12:05:00Z" and after.published == before.published
    assert "cancelled" in await feeds.h.text("demo-coordinator", f"announce cancel {number}")
    assert not feedparser.parse(await feeds.ok("/topics/disinformation/feed.atom")).entries


async def test_language_comes_from_the_query_else_the_default(feeds: Site) -> None:
    shown = await public_id(feeds.h, await announce(feeds.h, "demo-coordinator", "disinformation", "Hello"))
    arabic = await feeds.ok("/feeds/all.atom?lang=ar")
    assert b'xml:lang="ar"' in arabic
    assert f"/announcements/{shown}?lang=ar".encode() in arabic
    unknown = await feeds.ok("/feeds/all.atom?lang=zz%3Cscript%3E")
    assert b'xml:lang="en"' in unknown and b"zz" not in unknown
    _response, body = await feeds.get("/feeds/all.atom", **{"Accept-Language": "fr"})
    assert b'xml:lang="en"' in body


async def test_without_base_url_links_and_ids_use_the_address_reached(feeds: Site) -> None:
    shown = await public_id(feeds.h, await announce(feeds.h, "demo-coordinator", "disinformation", "Hello"))
    async with feeds_of(feeds.h, None) as bare:
        entry = feedparser.parse(await bare.ok("/feeds/all.atom")).entries[0]
    assert entry.link == f"{bare.base}announcements/{shown}?lang=en"
    assert entry.id == f"tag:127.0.0.1,2026-11-23:announcement/{shown}"


# --- conditional GET ----------------------------------------------------------------------------------------


async def test_feed_answers_304_until_it_changes(feeds: Site) -> None:
    await announce(feeds.h, "demo-coordinator", "disinformation", "First")
    response, body = await feeds.get("/topics/disinformation/feed.atom")
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert "max-age=" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # part 1's middleware
    assert parsedate_to_datetime(modified) == datetime(2026, 11, 23, 12, tzinfo=UTC)

    for headers in ({"If-None-Match": etag}, {"If-None-Match": f'"other", W/{etag}'},
                    {"If-Modified-Since": modified}):
        again, empty = await feeds.get("/topics/disinformation/feed.atom", **headers)
        assert again.status == 304 and empty == b"", headers
        assert again.headers["ETag"] == etag
    stale, _ = await feeds.get("/topics/disinformation/feed.atom", **{"If-None-Match": '"other"'})
    assert stale.status == 200

    feeds.h.clock.advance(minutes=10)
    await announce(feeds.h, "demo-coordinator", "disinformation", "Second")
    changed, body2 = await feeds.get("/topics/disinformation/feed.atom", **{"If-None-Match": etag})
    assert changed.status == 200 and body2 != body and changed.headers["ETag"] != etag
    assert parsedate_to_datetime(changed.headers["Last-Modified"]) == datetime(2026, 11, 23, 12, 10, tzinfo=UTC)
    since, _ = await feeds.get("/topics/disinformation/feed.atom", **{"If-Modified-Since": modified})
    assert since.status == 200


async def test_a_removal_moves_last_modified_although_no_time_is_recorded(feeds: Site) -> None:
    number = await announce(feeds.h, "demo-coordinator", "disinformation", "Soon withdrawn")
    first, _ = await feeds.get("/feeds/all.atom")
    feeds.h.clock.advance(minutes=3)
    await feeds.h.text("demo-coordinator", f"announce cancel {number}")
    feeds.h.clock.advance(minutes=1)
    response, _ = await feeds.get("/feeds/all.atom", **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert response.status == 200
    assert parsedate_to_datetime(response.headers["Last-Modified"]) == datetime(2026, 11, 23, 12, 4, tzinfo=UTC)


# --- calendars ----------------------------------------------------------------------------------------------


def events(body: bytes) -> list[Component]:
    return list(Calendar.from_ical(body).walk("VEVENT"))


async def test_calendar_lists_public_meetings_only(feeds: Site) -> None:
    await hidden_content(feeds.h)
    store, now = feeds.h.app.store, feeds.h.clock.now()
    topic = await store.topics.by_slug("elections")
    assert topic is not None
    start = datetime(2026, 12, 2, 9, 0)  # noqa: DTZ001 - wall-clock time in its zone
    hostile = await store.meetings.create(NewMeeting(
        topic_id=topic.id, author_id=1, title=HOSTILE + CONTROLS + "\r\nBEGIN:VALARM\r", start_local=start,
        zone="Africa/Nairobi", duration_minutes=30, rrule=None, link="https://x.example/\x07a", remind_minutes=()),
        now)
    response, body = await feeds.get("/calendar.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    no_hidden(body)
    assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", body.replace(b"\r\n", b"").replace(b"\t", b""))
    unfolded = body.replace(b"\r\n ", b"")
    # One line, no control characters, no right-to-left override (it would reverse what a calendar app shows).
    assert b"SUMMARY:<script>alert(1)</script> ]]> tab here evil BEGIN:VALARM\r\n" in unfolded
    assert b"\xe2\x80\xae" not in body
    assert b"\r\nBEGIN:VALARM" not in body
    assert b"x.example" not in body  # no call link on the public web, in calendars either
    found = {str(e["UID"]): e for e in events(body)}
    first = f"meeting-{await meeting_public_id(feeds.h, 1)}@demo-coalition"
    assert set(found) == {first, f"meeting-{hostile.public_id}@demo-coalition"}
    assert {str(tz["TZID"]) for tz in Calendar.from_ical(body).walk("VTIMEZONE")} == {"Europe/Brussels",
                                                                                        "Africa/Nairobi"}
    assert str(found[first]["RRULE"].to_ical(), "ascii") == "FREQ=WEEKLY;BYDAY=TU"
    # DTSTAMP is when the file's information changed, not when it was fetched: polls get the same bytes.
    feeds.h.clock.advance(minutes=7)
    assert await feeds.ok("/calendar.ics") == body

    topic_file = await feeds.ok("/topics/disinformation/calendar.ics")
    assert [str(e["UID"]) for e in events(topic_file)] == [first]
    for meeting_id in (2, 3):  # the members-only and the private meeting
        for name in (str(meeting_id), await meeting_public_id(feeds.h, meeting_id)):
            response, missing = await feeds.get(f"/meetings/{name}.ics")
            assert response.status == 404
            no_hidden(missing)
    for name in ("1", "999", "x1", "0123456789abcdef", "0123456789ABCDEF", (await meeting_public_id(feeds.h, 1)) + "0"):
        assert (await feeds.get(f"/meetings/{name}.ics"))[0].status == 404, name


async def test_sequence_grows_after_a_reschedule(feeds: Site) -> None:
    await feeds.h.text("demo-coordinator", "meeting create disinformation Briefing 2026-12-02 10:00 zone:UTC")
    path = f"/meetings/{await meeting_public_id(feeds.h, 2)}.ics"
    response, body = await feeds.get(path)
    before = events(body)[0]
    etag = response.headers["ETag"]
    assert (await feeds.get(path, **{"If-None-Match": etag}))[0].status == 304

    feeds.h.clock.advance(minutes=2)
    reply = await feeds.h.text("demo-coordinator", "meeting reschedule 2 2026-12-03 11:00 zone:UTC")
    assert "now takes place" in reply
    response, body = await feeds.get(path, **{"If-None-Match": etag})
    assert response.status == 200
    after = events(body)[0]
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("DTSTART") == datetime(2026, 12, 3, 11, tzinfo=UTC)
    assert after.decoded("DTSTAMP") == datetime(2026, 11, 23, 12, 2, tzinfo=UTC)
    assert parsedate_to_datetime(response.headers["Last-Modified"]) == datetime(2026, 11, 23, 12, 2, tzinfo=UTC)
    old = format_datetime(datetime(2026, 11, 23, 12, 1, tzinfo=UTC), usegmt=True)
    assert (await feeds.get(path, **{"If-Modified-Since": old}))[0].status == 200


async def test_cancelled_occurrences_and_series_are_marked(feeds: Site) -> None:
    assert "is cancelled" in await feeds.h.text("demo-coordinator", "meeting cancel 1 occurrence:2026-12-08")
    first = await meeting_public_id(feeds.h, 1)
    master = events(await feeds.ok(f"/meetings/{first}.ics"))[0]
    excluded = [d.dt for d in master["EXDATE"].dts] if not isinstance(master["EXDATE"], list) else \
        [d.dt for ex in master["EXDATE"] for d in ex.dts]
    assert [d.astimezone(UTC) for d in excluded] == [datetime(2026, 12, 8, 13, tzinfo=UTC)]
    assert str(master["STATUS"]) == "CONFIRMED"

    await feeds.h.text("demo-coordinator", "meeting create disinformation Once 2026-12-02 10:00 zone:UTC")
    assert "is cancelled" in await feeds.h.text("demo-coordinator", "meeting cancel 2 occurrence:2026-12-02")
    once = await meeting_public_id(feeds.h, 2)
    assert str(events(await feeds.ok(f"/meetings/{once}.ics"))[0]["STATUS"]) == "CANCELLED"

    assert "is cancelled" in await feeds.h.text("demo-coordinator", "meeting cancel 1")
    series = events(await feeds.ok("/topics/disinformation/calendar.ics"))
    assert {str(e["UID"]): str(e["STATUS"]) for e in series} == {f"meeting-{first}@demo-coalition": "CANCELLED",
                                                                 f"meeting-{once}@demo-coalition": "CANCELLED"}
    feeds.h.clock.advance(days=31)  # a cancelled series stays 30 days (PublicService's window)
    assert [str(e["UID"]) for e in events(await feeds.ok("/topics/disinformation/calendar.ics"))] == \
        [f"meeting-{once}@demo-coalition"]


async def test_sequence_grows_when_one_occurrence_changes(feeds: Site) -> None:
    path = f"/meetings/{await meeting_public_id(feeds.h, 1)}.ics"
    before = int(events(await feeds.ok(path))[0]["SEQUENCE"])
    await feeds.h.text("demo-coordinator", "meeting cancel 1 occurrence:2026-12-08")
    assert int(events(await feeds.ok(path))[0]["SEQUENCE"]) > before


async def test_beside_the_pages_a_hidden_feed_gets_the_same_404_page_as_a_missing_one(feeds: Site) -> None:
    """With part 1's pages and error page (as the composition root builds the site): no route clashes, and the
    404 page of a members-only or private topic's feed is the one a missing topic's feed gets."""
    h = feeds.h
    assert h.app.site is not None  # as the composition root builds it: pages, feeds and calendars together
    async with serving(h.app.site, "127.0.0.1", 0) as at, \
            ClientSession(timeout=ClientTimeout(total=WAIT)) as session:
        full = Site(h, session, at.url)
        first = await meeting_public_id(h, 1)
        assert (await full.get(f"/meetings/{first}"))[0].status == 200  # the page and its file side by side
        assert (await full.get(f"/meetings/{first}.ics"))[0].headers["Content-Type"].startswith("text/calendar")
        def page(body: bytes) -> bytes:  # each response has its own CSP nonce
            return re.sub(rb'nonce="[^"]*"', b'nonce=""', body)

        for kind in ("feed.atom", "calendar.ics"):
            missing = page((await full.get(f"/topics/no-such-topic/{kind}"))[1])
            assert b"<html" in missing
            for slug in ("cybersecurity", "incident-response"):
                response, body = await full.get(f"/topics/{slug}/{kind}")
                assert response.status == 404
                assert page(body).replace(slug.encode(), b"no-such-topic") == missing  # the URL asked is echoed


async def test_a_direction_override_in_a_topic_title_stays_inside_the_feed_title(feeds: Site) -> None:
    store, now = feeds.h.app.store, feeds.h.clock.now()
    await store.topics.create("rtl", "\u202eHostile topic", "", Visibility.PUBLIC, Policy.OPEN, now)
    feed = feedparser.parse(await feeds.ok("/topics/rtl/feed.atom"))
    assert feed.feed.title == "\u2068\u202eHostile topic\u2069 — Demo Coalition"


@pytest.mark.parametrize("host", ["evil.example:99999", "x y", "evil.example/path?x", "a@b", "", "[zz]"])
async def test_without_base_url_a_host_that_is_no_name_is_refused(feeds: Site, host: str) -> None:
    async with feeds_of(feeds.h, None) as bare:
        for path in ("/feeds/all.atom", "/topics/disinformation/feed.atom"):
            response, body = await bare.get(path, Host=host)
            assert response.status == 400, (host, path)
            assert b"evil" not in body and b"tag:" not in body


async def test_a_date_in_the_future_is_no_reason_for_304(feeds: Site) -> None:
    await announce(feeds.h, "demo-coordinator", "disinformation", "First")
    future = format_datetime(datetime(2030, 1, 1, tzinfo=UTC), usegmt=True)
    response, body = await feeds.get("/topics/disinformation/feed.atom", **{"If-Modified-Since": future})
    assert response.status == 200 and body


async def test_calendar_etags_are_weak_and_still_answer_304(feeds: Site) -> None:
    response, _body = await feeds.get("/calendar.ics")
    etag = response.headers["ETag"]
    assert etag.startswith('W/"')
    for sent in (etag, etag.removeprefix("W/")):
        assert (await feeds.get("/calendar.ics", **{"If-None-Match": sent}))[0].status == 304
