"""``link <code>`` from the email manage page (issue 21 point 1): the code a chat account's ``link`` gave, typed
into the manage page's form, proposes joining the address's person into the chat person's, and the chat account
confirms in chat. The page answers what chat answers — the same refusal for a wrong and an expired code, the same
wrong-code limits (rows for ``email:<address>``) — in the page's language, never shows the code back, and is
refused from another site like the page's other forms. Over the real app and site on loopback."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from bot.linking.service import NOT_VALID
from bot.messages import STAMP_CLOSE, STAMP_OPEN
from bot.model import Identity
from storage.database import Database
from tests.bot.privacy.helpers import table_names
from tests.support import FixedClock
from tests.web.test_browser import TEST_LIMIT, Watch, _context
from tests.web.test_email_pages import STORED, EmailSite, confirmed, email_site, normalised

EMAIL = Identity("email", STORED)
CODE = re.compile(r"Your link code: ([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})$")
PROPOSED = ("The Console account that gave this code must confirm within 10 minutes: a message with a Confirm "
            "button went to it, showing what will be joined.")


@pytest.fixture
async def site(tmp_path: Path, clock: FixedClock) -> AsyncIterator[EmailSite]:
    async with email_site(tmp_path, clock, link=True) as running:
        await confirmed(running)
        yield running


async def chat_code(site: EmailSite, user: str = "ana") -> str:
    """``link`` typed by ``console:user``; returns the code as shown."""
    reply = await site.h.say(user, "link", platform="console")
    found = CODE.match(reply.message.title or "")
    assert found, reply.message.plain_text()
    return found.group(1)


async def person(site: EmailSite, identity: Identity) -> int:
    record = await site.h.app.store.people.identity(identity)
    assert record is not None, identity
    return record.person_id


async def snapshot(db: Database, skip: str) -> dict[str, list[tuple[Any, ...]]]:
    tables = await table_names(db)
    return {table: sorted((tuple(row) for row in await db.fetch_all(f'SELECT * FROM "{table}"')), key=repr)
            for table in tables if table != skip}


async def attempts(site: EmailSite) -> list[tuple[str, str]]:
    rows = await site.h.app.db.fetch_all("SELECT platform, external_id FROM link_attempts")
    return [(row["platform"], row["external_id"]) for row in rows]


async def test_the_page_explains_linking_and_offers_the_form(site: EmailSite) -> None:
    manage = f"/email/manage/{await site.key()}"
    response, body = await site.get(manage)
    assert response.status == 200
    assert f'<form method="post" action="{manage}/link">' in body
    assert "Link this address to your chat account" in body and "one copy of each message" in body
    assert "“settings platform”" in body


async def test_a_wrong_code_answers_as_an_expired_one_and_changes_nothing_but_the_attempt(site: EmailSite) -> None:
    manage = f"/email/manage/{await site.key()}"
    code = await chat_code(site)
    wrong = next(c for c in ("ABCD-EFGH", "HGFE-DCBA") if c != code)
    before = await snapshot(site.h.app.db, skip="link_attempts")

    response, answered_wrong = await site.post(f"{manage}/link", {"code": wrong})
    assert response.status == 400
    assert site.text(NOT_VALID) in answered_wrong and wrong not in answered_wrong
    assert await snapshot(site.h.app.db, skip="link_attempts") == before
    assert await attempts(site) == [("email", STORED)], "counted for the address, as chat counts an identity"

    site.h.clock.advance(minutes=10)
    response, answered_expired = await site.post(f"{manage}/link", {"code": code})
    assert response.status == 400 and code not in answered_expired
    assert normalised(answered_expired) == normalised(answered_wrong)
    assert await site.h.app.db.fetch_all("SELECT * FROM deliveries WHERE dedupe_key LIKE 'link:%'") == []


async def test_a_right_code_asks_the_chat_account_which_confirms_in_chat(site: EmailSite,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    key = await site.key()
    manage = f"/email/manage/{key}"
    code = await chat_code(site)
    chat, follower = await person(site, Identity("console", "ana")), await person(site, EMAIL)
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        response, body = await site.post(f"{manage}/link", {"code": code.lower()})
    assert response.status == 200, body
    assert PROPOSED in body
    assert code not in body and code.lower() not in body, "the page never shows the code back"
    assert f'<form method="post" action="{manage}">' in body, "the page's other forms still post to the page"
    lines = [record.getMessage() for record in caplog.records if record.name == "aiohttp.access"]
    assert any(line.startswith("POST /email/manage/{key}/link 200") for line in lines), lines
    assert not any(code in line or code.lower() in line or key in line for line in lines), lines

    (asked,) = await site.h.app.db.fetch_all("SELECT * FROM deliveries WHERE dedupe_key LIKE 'link:%:proposed:%'")
    assert (asked["person_id"], asked["platform"]) == (chat, "console"), "pinned to the chat account's platform"
    assert await person(site, EMAIL) == follower, "nothing is joined before the chat account confirms"

    done = await site.h.say("ana", "link confirm", platform="console")
    assert done.message.plain_text().startswith("Done: your accounts on Console and email are now one person")
    assert await person(site, EMAIL) == chat
    assert await site.h.app.store.people.get(follower) is None
    (mail,) = [m for m in await site.mails() if "are now one person" in m]
    assert "Subscriptions" in mail, "after the merge the address is told what was joined"
    response, _body = await site.get(manage)
    assert response.status == 200, "the manage link still works, now for the joined person"


async def test_an_empty_code_is_refused_and_not_counted(site: EmailSite) -> None:
    response, body = await site.post(f"/email/manage/{await site.key()}/link", {"code": "  "})
    assert response.status == 400 and "Enter the code that “link” gave you in chat." in body
    assert await attempts(site) == []


async def test_too_many_wrong_codes_are_refused_with_a_time_on_the_follower_s_clock(site: EmailSite) -> None:
    manage = f"/email/manage/{await site.key()}"
    for _ in range(5):
        await site.post(f"{manage}/link", {"code": "AAAA-AAAA"})
    code = await chat_code(site)
    response, body = await site.post(f"{manage}/link", {"code": code})
    assert response.status == 400
    assert "Too many wrong codes. You can try again at" in body and "(Africa/Nairobi)" in body, body
    assert STAMP_OPEN not in body and STAMP_CLOSE not in body and PROPOSED not in body
    assert await site.h.app.db.fetch_all("SELECT * FROM deliveries WHERE dedupe_key LIKE 'link:%'") == []


async def test_the_answer_is_in_the_page_s_language(site: EmailSite) -> None:
    response, body = await site.post(f"/email/manage/{await site.key()}/link?lang=fr", {"code": "AAAA-AAAA"})
    assert response.status == 400
    assert site.text(NOT_VALID, "fr") in body and site.text(NOT_VALID, "fr") != site.text(NOT_VALID)


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}])
async def test_another_site_cannot_post_a_code(site: EmailSite, headers: dict[str, str]) -> None:
    code = await chat_code(site)
    response, body = await site.post(f"/email/manage/{await site.key()}/link", {"code": code}, **headers)
    assert response.status == 403 and "This form can only be sent from this site" in body
    assert await attempts(site) == []
    (row,) = await site.h.app.db.fetch_all("SELECT state FROM link_codes")
    assert row["state"] == "issued"


async def test_a_get_goes_back_to_the_manage_page_and_an_unknown_key_is_expired(site: EmailSite) -> None:
    manage = f"/email/manage/{await site.key()}"
    response, _body = await site.get(f"{manage}/link?lang=fr")
    assert response.status == 303 and response.headers["Location"] == f"{manage}?lang=fr"
    response, _body = await site.post(f"/email/manage/{'x' * 32}/link", {"code": await chat_code(site)})
    assert response.status == 410
    assert await attempts(site) == []


async def test_a_follower_links_in_a_browser(browser: Browser, site: EmailSite) -> None:
    """The form passes the site's cross-site check as a browser sends it, and the answer shows on the page."""
    code = await chat_code(site)
    async with asyncio.timeout(TEST_LIMIT):
        context = await _context(browser)
        page = await context.new_page()
        watch = Watch(page, site.base.rstrip("/"))
        await page.goto(f"{site.base}email/manage/{await site.key()}")
        await page.get_by_label("Code from chat").fill(code)
        await page.get_by_role("button", name="Link", exact=True).click()
        await expect(page.get_by_role("status")).to_contain_text(PROPOSED)
        assert watch.problems == [], watch.problems
        await context.close()
    assert await site.h.app.db.fetch_all("SELECT * FROM deliveries WHERE dedupe_key LIKE 'link:%:proposed:%'")
