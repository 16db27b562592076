"""The real app (demo coalition on a real SQLite file) and its public site on 127.0.0.1:0, read with aiohttp's
client over real HTTP.

``hostile`` adds what must never show: members-only and private topics, their announcements, meetings and
resources, plus drafts, cancelled announcements and members-only resources in public topics — each with a
distinctive marker in its text — and, in a public topic, titles and links built to break out of the HTML
(``<script>``, ``javascript:``, U+202E).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientResponse, ClientSession, ClientTimeout
from playwright.async_api import Browser, async_playwright

from adapters.web.server import serving
from bot.announcements.model import Announcement, AnnouncementState
from bot.meetings.model import NewMeeting
from bot.meetings.recurrence import expand
from bot.model import Identity
from bot.ports import Store
from bot.resources.model import ResourceFields, ResourceKind, ResourceVisibility, normalise_url
from bot.topics.model import Policy, Topic, Visibility
from tests.support import FixedClock, Harness, console_settings, harness

WAIT = 30.0
SCRIPT = "<script>alert(1)</script>"
RLO = "\u202e"
_ADMIN = Identity("console", "demo-admin")
SECRET = "Zorblax"
"""Every hidden item's text holds this marker (with a number): it must appear in no response."""


@dataclass
class Site:
    h: Harness
    session: ClientSession
    base: str
    ids: dict[str, Any] = field(default_factory=dict)
    """What :func:`add_hostile` created, by name (``private_announcement``, ``public_meeting`` …)."""

    async def get(self, path: str, **headers: str) -> tuple[ClientResponse, str]:
        async with asyncio.timeout(WAIT), self.session.get(self.base + path.lstrip("/"), headers=headers,
                                                           allow_redirects=False) as response:
            return response, (await response.read()).decode("utf-8", errors="replace")

    async def page(self, path: str, **headers: str) -> str:
        response, body = await self.get(path, **headers)
        assert response.status == 200, (path, response.status, body[:300])
        return body


async def site_for(h: Harness) -> AsyncIterator[Site]:
    assert h.app.site is not None
    async with serving(h.app.site, "127.0.0.1", 0) as address, \
            ClientSession(timeout=ClientTimeout(total=WAIT)) as session:
        yield Site(h, session, address.url)


@pytest.fixture
async def site(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Site]:
    """The demo coalition plus :func:`add_hostile`'s items, served on an ephemeral port."""
    async with harness(console_settings(tmp_path), clock) as h:
        async for running in site_for(h):
            running.ids.update(await add_hostile(h))
            yield running


async def _topic(store: Store, slug: str, title: str, description: str, visibility: Visibility,
                 now: datetime) -> Topic:
    return await store.topics.create(slug, title, description, visibility, Policy.OPEN, now)


async def _announcement(store: Store, topic: Topic, text: str, now: datetime,
                        state: AnnouncementState = AnnouncementState.SENT) -> Announcement:
    author = (await store.people.ensure_identity(_ADMIN, "demo-admin", now)).person_id
    created = await store.announcements.create(topic.id, author, text, None, now)
    if state in (AnnouncementState.SENDING, AnnouncementState.SENT, AnnouncementState.CANCELLED):
        assert await store.announcements.transition(created.id, AnnouncementState.SENDING,
                                                    [AnnouncementState.DRAFT], now)
    if state in (AnnouncementState.SENT, AnnouncementState.CANCELLED):
        assert await store.announcements.transition(created.id, state, [AnnouncementState.SENDING], now)
    if state is AnnouncementState.SCHEDULED:
        assert await store.announcements.transition(created.id, state, [AnnouncementState.DRAFT], now)
    return created


async def _meeting(store: Store, topic: Topic, title: str, now: datetime, link: str | None = None) -> str:
    """A weekly series; returns its public id (what the site's URLs name)."""
    zone = ZoneInfo("Africa/Nairobi")
    start = (now + timedelta(days=3)).astimezone(zone).replace(tzinfo=None, hour=10, minute=0, second=0,
                                                              microsecond=0)
    meeting = await store.meetings.create(NewMeeting(
        topic_id=topic.id, author_id=1, title=title, start_local=start, zone=zone.key, duration_minutes=45,
        rrule="FREQ=WEEKLY", link=link, remind_minutes=(60,)), now)
    until = now + timedelta(days=60)
    await store.meetings.materialise(meeting.id, expand(start, zone, meeting.rrule, now, until, 1000), until)
    return meeting.public_id


async def _resource(store: Store, url: str, title: str, summary: str, topics: tuple[int, ...],
                    visibility: ResourceVisibility, now: datetime) -> int:
    try:
        clean, key = normalise_url(url)
    except ValueError:  # a javascript: link the parser refuses: stored as is, as an old import might have
        clean, key = url, url
    fields = ResourceFields(url=clean, url_key=key, title=title, summary=summary, kind=ResourceKind.GUIDE,
                            topic_ids=topics, tags=(), language="en", visibility=visibility)
    return (await store.resources.add(fields, None, now)).id


async def add_hostile(h: Harness) -> dict[str, Any]:
    store, now = h.app.store, h.clock.now()
    ids: dict[str, Any] = {}
    async with store.transaction():
        members = await _topic(store, "zmembers", f"{SECRET}1 {SCRIPT} members", f"{SECRET}2 {RLO}desc",
                               Visibility.MEMBERS, now)
        private = await _topic(store, "zprivate", f"{SECRET}3 {SCRIPT}", f"{SECRET}4", Visibility.PRIVATE, now)
        hostile = await _topic(store, "hostile", f"{SCRIPT} {RLO}Hostile topic", "<b>bold</b> javascript:alert(1)",
                               Visibility.PUBLIC, now)
        archived = await _topic(store, "zarchived", f"{SECRET}5 archived", "", Visibility.PUBLIC, now)
        await store.topics.update(Topic(archived.id, archived.slug, archived.title, archived.description,
                                        Visibility.PUBLIC, Policy.OPEN, True, archived.created_at))
        disinformation = await store.topics.by_slug("disinformation")
        assert disinformation is not None
        ids["members_topic"], ids["private_topic"] = members.id, private.id
        ids["members_announcement"] = (await _announcement(store, members, f"{SECRET}6 {SCRIPT}", now)).public_id
        ids["private_announcement"] = (await _announcement(store, private, f"{SECRET}7", now)).public_id
        ids["archived_announcement"] = (await _announcement(store, archived, f"{SECRET}8", now)).public_id
        ids["draft_announcement"] = (await _announcement(store, disinformation, f"{SECRET}9 draft", now,
                                                         AnnouncementState.DRAFT)).public_id
        ids["scheduled_announcement"] = (await _announcement(store, disinformation, f"{SECRET}10 scheduled", now,
                                                             AnnouncementState.SCHEDULED)).public_id
        ids["cancelled_announcement"] = (await _announcement(store, disinformation, f"{SECRET}11 cancelled", now,
                                                             AnnouncementState.CANCELLED)).public_id
        ids["public_announcement"] = (await _announcement(
            store, hostile, f"{SCRIPT} <a href=\"javascript:alert(1)\">click</a> {RLO}reversed\nsecond line",
            now)).public_id
        edited = await _announcement(store, disinformation, "Original wording of the debunk", now)
        await store.announcements.update_text(edited.id, "Corrected wording of the debunk", now + timedelta(hours=1))
        ids["edited_announcement"] = edited.public_id
        ids["members_meeting"] = await _meeting(store, members, f"{SECRET}12 call", now)
        ids["private_meeting"] = await _meeting(store, private, f"{SECRET}13 call", now)
        ids["archived_meeting"] = await _meeting(store, archived, f"{SECRET}14 call", now)
        ids["public_meeting"] = await _meeting(store, hostile, f"{SCRIPT} {RLO}weekly", now,
                                               link="https://meet.example.org/hostile")
        ids["members_resource"] = await _resource(store, "https://example.org/zorblax-members",
                                                  f"{SECRET}15 members guide", "", (disinformation.id,),
                                                  ResourceVisibility.MEMBERS, now)
        ids["private_resource"] = await _resource(store, "https://example.org/zorblax-private",
                                                  f"{SECRET}16 private guide", f"{SECRET}17", (private.id,),
                                                  ResourceVisibility.PUBLIC, now)
        ids["members_topic_resource"] = await _resource(store, "https://example.org/zorblax-mt",
                                                        f"{SECRET}18 guide", "", (members.id,),
                                                        ResourceVisibility.PUBLIC, now)
        ids["hostile_resource"] = await _resource(store, "javascript:alert(1)", f"{SCRIPT} {RLO}Hostile guide",
                                                  f"{SCRIPT} summary", (hostile.id,), ResourceVisibility.PUBLIC,
                                                  now)
    return ids


# --- a real browser (Debian's chromium driven by Playwright) for every browser test ----------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
TIMEOUT_MS = 15_000
"""Every Playwright wait (navigation, click, expect) gives up after this; a healthy run needs well under 1 s."""


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (as root or with password-less sudo), or run "
                "`apt-get install -y chromium` as root. The browser tests never skip: a green run means they ran.")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    async with asyncio.timeout(60):
        playwright = await async_playwright().start()
    try:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                                                   timeout=TIMEOUT_MS)
        try:
            yield browser
        finally:
            async with asyncio.timeout(30):
                await browser.close()
    finally:
        async with asyncio.timeout(30):
            await playwright.stop()
