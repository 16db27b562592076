"""An email follower's data, downloaded from their manage page on the served site: the same JSON file ``mydata``
sends in chat, never cached, offered as an attachment; a wrong key gets the one expired page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.privacy.model import SCHEMA
from tests.support import FixedClock
from tests.web.test_email_pages import STORED, EmailSite, confirmed, email_site


@pytest.fixture
async def site(tmp_path: Path, clock: FixedClock) -> AsyncIterator[EmailSite]:
    async with email_site(tmp_path, clock, download=True) as running:
        yield running


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
