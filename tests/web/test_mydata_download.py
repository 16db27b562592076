"""An email follower's data, downloaded from their manage page on the served site: the same JSON file ``mydata``
sends in chat, never cached, offered as an attachment. The page's button POSTs (a link would hand the file to
whatever fetches it: a mail scanner, a prefetching browser), refused from another site like the page's other forms;
a GET goes back to the manage page; a wrong key gets the one expired page."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from bot.privacy.model import SCHEMA
from tests.support import FixedClock
from tests.web.test_browser import TEST_LIMIT, Watch, _context
from tests.web.test_email_pages import STORED, EmailSite, confirmed, email_site

DOWNLOAD = "Download everything we hold about you (JSON)"


@pytest.fixture
async def site(tmp_path: Path, clock: FixedClock) -> AsyncIterator[EmailSite]:
    async with email_site(tmp_path, clock, download=True) as running:
        yield running


def _check(document: dict[str, object], key: str) -> None:
    assert document["schema"] == SCHEMA
    identities = document["identities"]
    assert isinstance(identities, list)
    assert [(i["platform"], i["external_id"]) for i in identities] == [("email", STORED)]
    subscriptions = document["subscriptions"]
    assert isinstance(subscriptions, list)
    assert [(s["topic"], s["mode"]) for s in subscriptions] == [("disinformation", "daily")]
    signups = document["email_signups"]
    assert isinstance(signups, list)
    assert [(s["address"], s["topic"], s["state"]) for s in signups] == [(STORED, "disinformation", "confirmed")]
    keys = document["email_manage_keys"]
    assert isinstance(keys, list) and [k["address"] for k in keys] == [STORED]
    assert key not in json.dumps(document), "the file says a manage key exists, never the key"


async def test_the_manage_page_s_button_posts_and_the_answer_is_the_follower_s_data(site: EmailSite) -> None:
    await confirmed(site)
    key = await site.key()
    manage = f"/email/manage/{key}"
    response, body = await site.get(manage)
    assert response.status == 200
    assert f'<form method="post" action="{manage}/mydata.json">' in body and DOWNLOAD in body
    assert f'href="{manage}/mydata.json"' not in body, "no link: a link is followed by anything that reads the page"

    response, body = await site.post(f"{manage}/mydata.json", {})
    assert response.status == 200, body
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == 'attachment; filename="mydata.json"'
    assert response.content_type == "application/json" and response.charset == "utf-8"
    _check(json.loads(body), key)


async def test_a_get_goes_back_to_the_manage_page_and_serves_no_data(site: EmailSite) -> None:
    await confirmed(site)
    manage = f"/email/manage/{await site.key()}"
    response, body = await site.get(f"{manage}/mydata.json?lang=fr")
    assert response.status == 303 and response.headers["Location"] == f"{manage}?lang=fr"
    assert "schema" not in body
    response, _body = await site.get(f"{manage}/mydata.json?lang=//evil")
    assert response.headers["Location"] == manage


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}])
async def test_another_site_cannot_post_for_the_file(site: EmailSite, headers: dict[str, str]) -> None:
    await confirmed(site)
    response, body = await site.post(f"/email/manage/{await site.key()}/mydata.json", {}, **headers)
    assert response.status == 403
    assert "This form can only be sent from this site" in body and "schema" not in body


async def test_an_unknown_key_gets_the_expired_page(site: EmailSite) -> None:
    response, body = await site.post(f"/email/manage/{'x' * 32}/mydata.json", {})
    assert response.status == 410
    assert "expired" in body and "schema" not in body


async def test_a_follower_clicks_the_button_in_a_browser_and_gets_the_file(browser: Browser, site: EmailSite) -> None:
    """The form passes the site's own cross-site check as a browser sends it, and the answer is a download."""
    await confirmed(site)
    key = await site.key()
    async with asyncio.timeout(TEST_LIMIT):
        context = await _context(browser)
        page = await context.new_page()
        watch = Watch(page, site.base.rstrip("/"))
        await page.goto(f"{site.base}email/manage/{key}")
        async with page.expect_download() as started:
            await page.get_by_role("button", name=DOWNLOAD).click()
        download = await started.value
        assert download.suggested_filename == "mydata.json"
        saved = await download.path()
        _check(json.loads(await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")), key)
        assert watch.problems == [], watch.problems
        await context.close()
