"""An email follower's data, downloaded from their manage page on the served site: the same JSON file ``mydata``
sends in chat, never cached, offered as an attachment; a wrong key gets the one expired page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, ClientTimeout

from adapters.web.email import email_routes
from adapters.web.pages import LABELS, Pages, page_routes
from adapters.web.render import Renderer
from adapters.web.server import build_site, serving
from app.web import public_service, site_config
from bot.email.model import EmailConfig
from bot.email.service import EmailFollowers
from bot.privacy.model import SCHEMA
from tests.support import FixedClock, RecordingAdapter, console_settings, harness
from tests.web.test_email_pages import STORED, WAIT, EmailSite, Links, confirmed


@pytest.fixture
async def site(tmp_path: Path, clock: FixedClock) -> AsyncIterator[EmailSite]:
    mail = RecordingAdapter(platform="email")
    async with harness(console_settings(tmp_path), clock, adapter=mail) as h:
        services, links = h.app.services, Links()
        followers = EmailFollowers(h.app.store, clock, services.subscriptions, services.topics, services.notifier,
                                   links, EmailConfig(), people=services.people,
                                   languages=services.translator.languages)
        renderer = Renderer(services.translator, site_config(h.app.settings), LABELS)
        pages = Pages(public_service(services, h.app.store), renderer, email_enabled=True)
        app = build_site([page_routes(pages), email_routes(followers, renderer, pages.topic,
                                                           my_data=services.privacy.export_of)],
                         error_page=pages.error)
        async with serving(app, "127.0.0.1", 0) as address, \
                ClientSession(timeout=ClientTimeout(total=WAIT)) as session:
            links.base = address.url
            yield EmailSite(h, followers, mail, session, address.url)


async def test_the_manage_page_links_the_download_and_it_serves_the_follower_data(site: EmailSite) -> None:
    await confirmed(site)
    manage = f"/email/manage/{await site.key()}"
    response, body = await site.get(manage)
    assert response.status == 200
    assert f'href="{manage}/mydata.json"' in body and "Download everything we hold about you (JSON)" in body

    response, body = await site.get(f"{manage}/mydata.json")
    assert response.status == 200, body
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == 'attachment; filename="mydata.json"'
    assert response.content_type == "application/json" and response.charset == "utf-8"
    document = json.loads(body)
    assert document["schema"] == SCHEMA
    assert [(i["platform"], i["external_id"]) for i in document["identities"]] == [("email", STORED)]
    assert [(s["topic"], s["mode"]) for s in document["subscriptions"]] == [("disinformation", "daily")]


async def test_an_unknown_key_gets_the_expired_page(site: EmailSite) -> None:
    response, body = await site.get(f"/email/manage/{'x' * 32}/mydata.json")
    assert response.status == 410
    assert "expired" in body and "schema" not in body
