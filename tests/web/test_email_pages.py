"""The web side of followers by email over the real app (demo coalition, a real SQLite file) and the real site
(``build_site`` with its security middleware) on loopback: the subscribe form's one answer, the confirm link a
notice carries, the manage page, RFC 8058 one-click, cross-site refusals, translated errors that change nothing.

Mails are not sent here: the platform ``email`` is a recording adapter, so a notice queued by the core is read
as the worker hands it over, and its link is fetched from the site as a reader would.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import ClientResponse, ClientSession, ClientTimeout
from playwright.async_api import Browser, expect

from adapters.web.email import email_routes
from adapters.web.pages import LABELS, Pages, page_routes
from adapters.web.render import Renderer
from adapters.web.server import build_site, serving
from app.web import public_service, site_config
from bot.email.address import mask
from bot.email.model import EmailConfig
from bot.email.service import EmailFollowers
from bot.i18n import Msg, _
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from tests.support import FixedClock, Harness, RecordingAdapter, console_settings, harness
from tests.web.test_browser import TEST_LIMIT, Watch, _context

WAIT = 30.0
ADDRESS = "Reader@Example.org"
STORED = "reader@example.org"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
EXPIRED = _("This link has expired or was already used.")
BAD_ADDRESS = _("That is not an email address. Write it like name@example.org.")
_NONCE = re.compile(r'nonce="[^"]*"')


@dataclass
class Links:
    """The test's :class:`bot.email.links.EmailLinks`: absolute URLs on the served site, each one remembered."""

    base: str = ""
    built: list[str] = field(default_factory=list)

    def _url(self, path: str) -> str:
        self.built.append(self.base + path)
        return self.base + path

    def confirm_url(self, token: str) -> str:
        return self._url(f"email/confirm/{token}")

    def manage_url(self, key: str) -> str:
        return self._url(f"email/manage/{key}")

    def unsubscribe_url(self, key: str) -> str:
        return self._url(f"email/unsubscribe/{key}")


@dataclass
class EmailSite:
    h: Harness
    followers: EmailFollowers
    mail: RecordingAdapter
    session: ClientSession
    base: str

    async def get(self, path: str, **headers: str) -> tuple[ClientResponse, str]:
        async with asyncio.timeout(WAIT), self.session.get(self._url(path), headers=headers,
                                                           allow_redirects=False) as response:
            return response, (await response.read()).decode()

    async def post(self, path: str, data: dict[str, str], **headers: str) -> tuple[ClientResponse, str]:
        async with asyncio.timeout(WAIT), self.session.post(self._url(path), data=data, headers=headers,
                                                            allow_redirects=False) as response:
            return response, (await response.read()).decode()

    async def subscribe(self, address: str = ADDRESS, topic: str = "disinformation", *, query: str = "",
                        headers: dict[str, str] | None = None, **fields: str) -> tuple[ClientResponse, str]:
        form = {"address": address, "mode": "daily", "language": "en", "zone": "Africa/Nairobi", **fields}
        return await self.post(f"/topics/{topic}/subscribe{query}", form, **(headers or {}))

    async def mails(self) -> list[str]:
        """Deliver what is due; returns the plain text of each mail handed to the email platform since the
        last call."""
        await self.h.app.run_due()
        sent = [item.message.plain_text() for item in self.mail.sent]
        self.mail.sent.clear()
        return sent

    async def key(self, address: str = STORED) -> str:
        key = await self.h.app.store.email.key_of(address)
        assert key is not None, address
        return key

    async def followed(self, address: str = STORED) -> dict[str, DeliveryMode]:
        key = await self.h.app.store.email.key_of(address)
        view = None if key is None else await self.followers.manage(key)
        return {} if view is None else {topic.slug: topic.mode for topic in view.followed if topic.mode}

    def text(self, message: Msg, language: str = "en") -> str:
        return html.escape(self.h.app.services.translator.render(message, language), quote=False)

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path.lstrip("/")


@asynccontextmanager
async def email_site(tmp_path: Path, clock: FixedClock, *, download: bool = False,
                     link: bool = False) -> AsyncIterator[EmailSite]:
    """The pages and the email pages on loopback, over the real app with a recording email platform;
    ``download``: with the manage page's data download (``mydata``); ``link``: with its form for a link code."""
    mail = RecordingAdapter(platform="email")
    async with harness(console_settings(tmp_path), clock, adapter=mail) as h:
        services, links = h.app.services, Links()
        followers = EmailFollowers(h.app.store, clock, services.subscriptions, services.topics, services.notifier,
                                   links, EmailConfig(), people=services.people,
                                   languages=services.translator.languages)
        renderer = Renderer(services.translator, site_config(h.app.settings), LABELS)
        pages = Pages(public_service(services, h.app.store), renderer, email_enabled=True)
        routes = email_routes(followers, renderer, pages.topic,
                              my_data=services.privacy.export_of if download else None,
                              link=services.links.claim if link else None)
        app = build_site([page_routes(pages), routes], error_page=pages.error)
        async with serving(app, "127.0.0.1", 0) as address, \
                ClientSession(timeout=ClientTimeout(total=WAIT)) as session:
            links.base = address.url
            yield EmailSite(h, followers, mail, session, address.url)


@pytest.fixture
async def site(tmp_path: Path, clock: FixedClock) -> AsyncIterator[EmailSite]:
    async with email_site(tmp_path, clock) as running:
        yield running


def link_in(mail: str, kind: str) -> str:
    found = re.search(rf"https?://\S+/email/{kind}/[A-Za-z0-9_-]{{32}}", mail)
    assert found is not None, mail
    return found.group(0)


def normalised(body: str) -> str:
    return _NONCE.sub('nonce=""', body)


async def confirmed(site: EmailSite, address: str = ADDRESS, topic: str = "disinformation") -> None:
    response, _body = await site.subscribe(address, topic)
    assert response.status == 200
    (mail,) = await site.mails()
    response, body = await site.post(link_in(mail, "confirm"), {})
    assert response.status == 200, body


async def test_the_topic_page_offers_the_form_with_the_browser_zone_script(site: EmailSite) -> None:
    response, body = await site.get("/topics/disinformation")
    assert response.status == 200
    assert 'action="/topics/disinformation/subscribe"' in body and 'method="post"' in body
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[2].split("'")[0]
    script = body.split(f'<script nonce="{nonce}">')[1].split("</script>")[0]
    assert "resolvedOptions().timeZone" in script
    assert re.search(r'<input name="zone" value="UTC"[^>]*data-browser-zone', body)
    for mode in ("immediate", "daily", "weekly"):
        assert f'<option value="{mode}"' in body
    assert '<option value="channel"' not in body


async def test_pages_without_email_have_no_form(tmp_path: Path, clock: FixedClock) -> None:
    async with harness(console_settings(tmp_path), clock) as h:
        assert h.app.site is not None
        async with serving(h.app.site, "127.0.0.1", 0) as address, \
                ClientSession(timeout=ClientTimeout(total=WAIT)) as session, \
                session.get(address.url + "topics/disinformation") as response:
            body = await response.text()
    assert response.status == 200 and "<h1>" in body
    assert "/subscribe" not in body and "<form" not in body


async def test_subscribe_confirm_manage_and_one_click(site: EmailSite) -> None:
    response, body = await site.subscribe()
    assert response.status == 200, body
    assert html.escape(mask(STORED), quote=False) in body and STORED not in body
    assert response.headers["Cache-Control"] == "no-store"
    assert await site.followed() == {}, "nothing is followed before the link is confirmed"
    (mail,) = await site.mails()
    confirm = link_in(mail, "confirm")

    response, body = await site.get(confirm)  # what a mail scanner does: changes nothing
    assert response.status == 200
    assert "Countering disinformation" in body and html.escape(mask(STORED), quote=False) in body
    assert f'<form method="post" action="/email/confirm/{confirm.rsplit("/", 1)[1]}">' in body
    assert await site.followed() == {}

    response, body = await site.post(confirm, {})
    assert response.status == 200, body
    assert "You now follow" in body and "Countering disinformation" in body
    assert await site.followed() == {"disinformation": DeliveryMode.DAILY}
    key = await site.key()
    manage = f"/email/manage/{key}"
    assert f'<a href="{manage}">Change or stop what you receive</a>' in body  # the "done" page links there
    person = await site.h.app.store.people.profile_of(Identity("email", STORED))
    assert person is not None and person.person.language == "en" and person.person.timezone == "Africa/Nairobi"

    response, body = await site.post(confirm, {})  # single use
    assert response.status == 410 and site.text(EXPIRED) in body

    response, body = await site.get(manage)
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert html.escape(mask(STORED), quote=False) in body and STORED not in body
    assert re.search(r'<select name="topic:disinformation">.*?<option value="daily" selected>', body)
    assert '<select name="topic:elections">' in body  # a public topic to add
    assert "topic:cybersecurity" not in body and "Cybersecurity" not in body  # members only

    response, body = await site.get(f"/email/unsubscribe/{key}")  # the confirm page: changes nothing
    assert response.status == 200 and 'name="List-Unsubscribe" value="One-Click"' in body
    assert await site.followed() == {"disinformation": DeliveryMode.DAILY}

    # RFC 8058: the mail provider posts from its own servers, with whatever Origin.
    for _twice in range(2):
        response, body = await site.post(f"/email/unsubscribe/{key}", ONE_CLICK, Origin="https://mail.example",
                                         **{"Sec-Fetch-Site": "cross-site"})
        assert response.status == 200, body
        assert "You will get no more mail" in body
        assert await site.followed() == {}


async def test_the_answer_is_the_same_for_new_following_and_rate_limited_addresses(site: EmailSite) -> None:
    _r, new = await site.subscribe()
    (mail,) = await site.mails()
    assert "/email/confirm/" in mail
    _r, limited = await site.subscribe()  # within ten minutes: nothing is sent
    assert await site.mails() == []
    await site.post(link_in(mail, "confirm"), {})
    site.h.clock.advance(minutes=11)
    _r, following = await site.subscribe()
    (again,) = await site.mails()
    assert "/email/manage/" in again and "/email/confirm/" not in again
    assert normalised(new) == normalised(limited) == normalised(following)


@pytest.mark.parametrize(("fields", "message"), [
    ({"address": "not an address"}, BAD_ADDRESS),
    ({"address": "a@b"}, BAD_ADDRESS),
    ({"mode": "channel"}, _("Choose how to receive it: immediately, a daily digest or a weekly digest.")),
    ({"mode": ""}, _("Choose how to receive it: immediately, a daily digest or a weekly digest.")),
    ({"zone": "Mars/Olympus"}, None),
    ({"language": "tlh"}, None),
])
async def test_bad_input_shows_the_form_again_and_changes_nothing(site: EmailSite, fields: dict[str, str],
                                                                  message: Msg | None) -> None:
    response, body = await site.subscribe(**fields)
    assert response.status == 400, body
    assert response.headers["Cache-Control"] == "no-store"
    assert 'role="alert"' in body and 'action="/topics/disinformation/subscribe"' in body
    if message is not None:
        assert site.text(message) in body
    if "address" in fields:
        assert f'value="{html.escape(fields["address"])}"' in body  # what was typed, to correct it
    assert await site.mails() == []
    assert await site.h.app.store.email.key_of(STORED) is None
    assert await site.h.app.store.people.identity(Identity("email", STORED)) is None


async def test_a_topic_that_is_not_public_answers_like_a_missing_one(site: EmailSite) -> None:
    _r, missing = await site.get("/topics/nothing-here")
    for topic in ("cybersecurity", "nothing-here"):
        response, body = await site.subscribe(topic=topic)
        assert response.status == 404
        assert normalised(body).replace(f"/topics/{topic}/subscribe", "") == \
            normalised(missing).replace("/topics/nothing-here", "")
    assert await site.mails() == []
    assert await site.h.app.store.people.identity(Identity("email", STORED)) is None


async def test_errors_are_translated(site: EmailSite) -> None:
    response, body = await site.subscribe("nope", query="?lang=fr")
    assert response.status == 400
    assert '<html lang="fr"' in body and site.text(BAD_ADDRESS, "fr") in body
    assert 'action="/topics/disinformation/subscribe?lang=fr"' in body
    response, body = await site.get("/email/confirm/" + "x" * 32, **{"Accept-Language": "fr"})
    assert response.status == 410 and '<html lang="fr"' in body and site.text(EXPIRED, "fr") in body


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null", "Sec-Fetch-Site": "cross-site"}])
async def test_cross_site_posts_are_refused(site: EmailSite, headers: dict[str, str]) -> None:
    await confirmed(site)
    key = await site.key()
    for path, form in (("/topics/elections/subscribe", {"address": "other@example.org", "mode": "daily"}),
                       (f"/email/manage/{key}", {"topic:disinformation": "stop"}),
                       (f"/email/manage/{key}", {"action": "remove", "confirm": "yes"}),
                       (f"/email/unsubscribe/{key}", {})):
        response, body = await site.post(path, form, **headers)
        assert response.status == 403, (path, body)
        assert "This form can only be sent from this site" in body
    assert await site.mails() == []
    assert await site.followed() == {"disinformation": DeliveryMode.DAILY}


async def test_this_sites_own_forms_are_accepted(site: EmailSite) -> None:
    """Browsers send ``Origin: null`` for this site's forms (its pages say ``Referrer-Policy: no-referrer``)."""
    own = site.base.rstrip("/")
    for headers in ({"Origin": own, "Sec-Fetch-Site": "same-origin"}, {"Origin": "null"}, {}):
        site.h.clock.advance(minutes=11)
        response, body = await site.subscribe(headers=headers)
        assert response.status == 200, (headers, body)
        assert len(await site.mails()) == 1


async def test_unknown_expired_and_used_links_read_the_same(site: EmailSite) -> None:
    await site.subscribe()
    (first,) = await site.mails()
    site.h.clock.advance(hours=49)
    await site.subscribe()
    (second,) = await site.mails()
    await site.post(link_in(second, "confirm"), {})
    answers = set()
    for link in (link_in(first, "confirm"), link_in(second, "confirm"), "/email/confirm/" + "A" * 32):
        for method in ("get", "post"):
            response, body = await (site.get(link) if method == "get" else site.post(link, {}))
            assert response.status == 410, (link, method)
            answers.add(normalised(body))
    response, body = await site.get("/email/manage/" + "A" * 32)
    assert response.status == 410
    answers.add(normalised(body))
    response, body = await site.post("/email/unsubscribe/" + "A" * 32, ONE_CLICK)
    assert response.status == 410
    answers.add(normalised(body))
    assert len(answers) == 1 and site.text(EXPIRED) in answers.pop()
    response, _body = await site.get("/email/confirm/short")
    assert response.status == 404


async def test_manage_changes_modes_topics_language_and_zone(site: EmailSite) -> None:
    await confirmed(site)
    manage = f"/email/manage/{await site.key()}"
    form = {"language": "fr", "zone": "Europe/Paris", "topic:disinformation": "weekly", "topic:elections": "immediate"}
    response, body = await site.post(manage, form)
    assert response.status == 200, body
    assert "Your changes are saved." in body
    assert await site.followed() == {"disinformation": DeliveryMode.WEEKLY, "elections": DeliveryMode.IMMEDIATE}
    person = await site.h.app.store.people.profile_of(Identity("email", STORED))
    assert person is not None and person.person.language == "fr" and person.person.timezone == "Europe/Paris"
    response, body = await site.post(manage, {"topic:disinformation": "stop", "topic:elections": "immediate"})
    assert response.status == 200
    assert await site.followed() == {"elections": DeliveryMode.IMMEDIATE}


@pytest.mark.parametrize("form", [{"zone": "Mars/Olympus", "topic:disinformation": "stop"},
                                  {"language": "tlh", "topic:elections": "daily"},
                                  {"topic:disinformation": "channel"},
                                  {"topic:cybersecurity": "daily", "topic:disinformation": "weekly"},
                                  {"action": "remove"}])
async def test_manage_errors_change_nothing(site: EmailSite, form: dict[str, str]) -> None:
    await confirmed(site)
    key = await site.key()
    response, body = await site.post(f"/email/manage/{key}", form)
    assert response.status == 400, body
    assert 'role="alert"' in body and "Cybersecurity" not in body
    assert await site.followed() == {"disinformation": DeliveryMode.DAILY}
    person = await site.h.app.store.people.profile_of(Identity("email", STORED))
    assert person is not None and person.person.language == "en" and person.person.timezone == "Africa/Nairobi"
    assert await site.key() == key


async def test_a_paused_address_is_shown_and_resumed(site: EmailSite) -> None:
    await confirmed(site)
    manage = f"/email/manage/{await site.key()}"
    health = site.h.app.store.email_health
    _r, body = await site.get(manage)
    assert 'name="resume"' not in body
    for _refusal in range(EmailConfig().pause_after):
        await health.refused(STORED, site.h.clock.now(), EmailConfig().pause_after)
    assert await health.is_paused(STORED)
    _r, body = await site.get(manage)
    assert "Mail to this address is paused" in body and 'name="resume" value="yes"' in body
    response, body = await site.post(manage, {"topic:disinformation": "daily"})  # unticked: stays paused
    assert response.status == 200 and await health.is_paused(STORED)
    response, body = await site.post(manage, {"topic:disinformation": "daily", "resume": "yes"})
    assert response.status == 200 and not await health.is_paused(STORED)
    assert 'name="resume"' not in body


async def test_remove_my_address(site: EmailSite) -> None:
    await confirmed(site)
    key = await site.key()
    response, body = await site.post(f"/email/manage/{key}", {"action": "remove", "confirm": "yes"})
    assert response.status == 200, body
    assert "Your address has been removed" in body
    assert await site.h.app.store.people.identity(Identity("email", STORED)) is None
    for path in (f"/email/manage/{key}", f"/email/unsubscribe/{key}"):
        response, body = await site.get(path)
        assert response.status == 410 and site.text(EXPIRED) in body


async def test_a_get_on_the_form_address_goes_back_to_the_topic(site: EmailSite) -> None:
    response, _body = await site.get("/topics/disinformation/subscribe?lang=fr")
    assert response.status == 303 and response.headers["Location"] == "/topics/disinformation?lang=fr"
    response, _body = await site.get("/topics/disinformation/subscribe?lang=//evil")
    assert response.headers["Location"] == "/topics/disinformation"


async def test_a_reader_subscribes_confirms_and_unsubscribes_in_a_browser(browser: Browser,
                                                                          site: EmailSite) -> None:
    """The site's own forms pass the cross-site check as a browser sends them (``Origin: null`` under the pages'
    ``no-referrer`` policy), the CSP lets them submit, and the zone comes from the browser."""
    async with asyncio.timeout(TEST_LIMIT):
        context = await _context(browser, zone="Asia/Tokyo")
        page = await context.new_page()
        watch = Watch(page, site.base.rstrip("/"))
        origins: list[str | None] = []
        page.on("request", lambda r: origins.append(r.headers.get("origin")) if r.method == "POST" else None)

        await page.goto(site.base + "topics/disinformation")
        await expect(page.locator("input[name=zone]")).to_have_value("Asia/Tokyo")
        await page.fill("input[name=address]", ADDRESS)
        await page.select_option("select[name=mode]", "weekly")
        await page.click("form[action$='/subscribe'] button")
        await expect(page.locator("h1")).to_have_text("Check your inbox")

        (mail,) = await site.mails()
        await page.goto(link_in(mail, "confirm"))
        await page.click("main form button")
        await expect(page.locator("h1")).to_have_text("Subscription confirmed")
        assert await site.followed() == {"disinformation": DeliveryMode.WEEKLY}
        person = await site.h.app.store.people.profile_of(Identity("email", STORED))
        assert person is not None and person.person.timezone == "Asia/Tokyo"

        await page.goto(f"{site.base}email/unsubscribe/{await site.key()}")
        await page.click("main form button")
        await expect(page.locator("h1")).to_have_text("Unsubscribed")
        assert await site.followed() == {}
        assert len(origins) == 3, origins
        assert watch.problems == [], watch.problems
        await context.close()


def test_an_ipv6_client_is_its_64_for_the_limits() -> None:
    from adapters.web.email import client_key

    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7" == client_key("192.0.2.7")
    assert client_key(None) == "unknown"


async def test_links_secrets_never_reach_the_access_log(site: EmailSite, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        await confirmed(site)
        key = await site.key()
        await site.get(f"/email/manage/{key}")
        await site.get(f"/email/unsubscribe/{key}")
    lines = [record.getMessage() for record in caplog.records if record.name == "aiohttp.access"]
    assert any(line.startswith("GET /email/manage/{key} 200") for line in lines), lines
    assert any("/email/confirm/{token}" in line for line in lines), lines
    assert not any(key in line or STORED in line or "disinformation" in line for line in lines), lines
