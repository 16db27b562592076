"""The manage page of an address linked to a chat account acts with the rights of the address alone (issue 21
follow-up): its key is in every mail the bot sends, and forwarded mails, shared inboxes and archives leak it. So the
page names and offers public topics only (mail carries nothing else), changes no other topic, counts the person's
chat-only topics without naming them, never hands out the person's data (``mydata`` in chat does), and removing
the address leaves the chat person and what they follow. Over the real app and site on loopback; the chat person
is a member on the console who follows a members topic and a private one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.web.email_link import MYDATA_IN_CHAT, OWN_CODES_ONLY
from bot.linking.service import CLAIM_WARNING
from bot.model import Identity, Role
from bot.subscriptions.model import DeliveryMode
from tests.support import FixedClock
from tests.web.test_email_pages import STORED, EmailSite, confirmed, email_site

USER = "mira"
CHAT = Identity("console", USER)
EMAIL = Identity("email", STORED)
CODE = re.compile(r"Your link code: ([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})$")
HIDDEN = ("research", "Research and reports", "incident-response", "Incident response", "cybersecurity",
          "Cybersecurity", "whrd-safety", "harassment of women")
"""Every members and private topic of the demo coalition, by slug and (part of) title."""


@pytest.fixture
async def site(tmp_path: Path, clock: FixedClock) -> AsyncIterator[EmailSite]:
    async with email_site(tmp_path, clock, link=True, download=True) as running:
        await confirmed(running)
        yield running


async def say(site: EmailSite, line: str) -> str:
    reply = await site.h.say(USER, line, platform="console", platform_role=Role.MEMBER)
    assert not reply.message.is_error, reply.message.plain_text()
    return reply.message.plain_text()


async def person(site: EmailSite, identity: Identity) -> int | None:
    record = await site.h.app.store.people.identity(identity)
    return None if record is None else record.person_id


async def follows(site: EmailSite, person_id: int) -> dict[str, DeliveryMode]:
    rows = await site.h.app.db.fetch_all("SELECT t.slug, s.mode FROM subscriptions s JOIN topics t ON t.id ="
                                         " s.topic_id WHERE s.person_id = ?", (person_id,))
    return {row["slug"]: DeliveryMode(row["mode"]) for row in rows}


async def link(site: EmailSite) -> tuple[str, int]:
    """The member follows research (members) and incident-response (private) in chat, then links the address
    from its manage page; returns the page's path and the joined person."""
    store, now = site.h.app.store, site.h.clock.now()
    await say(site, "subscribe research")
    chat = await person(site, CHAT)
    private = await store.topics.by_slug("incident-response")
    assert chat is not None and private is not None
    await store.subscriptions.put(chat, private.id, DeliveryMode.DAILY, now)
    found = CODE.match((await site.h.say(USER, "link", platform="console", platform_role=Role.MEMBER)).message.title
                       or "")
    assert found
    manage = f"/email/manage/{await site.key()}"
    response, body = await site.post(f"{manage}/link", {"code": found.group(1)})
    assert response.status == 200, body
    assert (await say(site, "link confirm")).startswith("Done:")
    assert await person(site, EMAIL) == chat
    assert set(await follows(site, chat)) == {"disinformation", "research", "incident-response"}
    return manage, chat


async def test_the_page_names_and_offers_public_topics_only_and_counts_the_rest(site: EmailSite) -> None:
    manage, _chat = await link(site)
    response, body = await site.get(manage)
    assert response.status == 200
    assert not [word for word in HIDDEN if word in body], "no members or private topic is named or offered"
    assert 'name="topic:disinformation"' in body and 'name="topic:elections"' in body
    assert "You also follow 2 topics in chat; manage them there." in body
    assert "Your subscriptions stay with your chat account" in body, "removing the address is said to keep them"
    view = await site.followers.manage(await site.key())
    assert view is not None
    assert [t.slug for t in view.followed] == ["disinformation"] and [t.slug for t in view.available] == ["elections"]


async def test_an_address_alone_is_told_of_no_chat_topic(site: EmailSite) -> None:
    response, body = await site.get(f"/email/manage/{await site.key()}")
    assert response.status == 200 and "in chat; manage" not in body
    assert "Your address, its subscriptions and pending requests are deleted" in body


async def test_following_a_members_topic_through_the_page_is_refused_and_changes_nothing(site: EmailSite) -> None:
    manage, chat = await link(site)
    before = await follows(site, chat)
    response, body = await site.post(manage, {"topic:cybersecurity": "daily", "language": "en", "zone": "UTC"})
    assert response.status == 400
    assert "There is no topic “cybersecurity”" in body, "answered as for a topic that does not exist"
    response, body = await site.post(manage, {"topic:research": "stop", "topic:incident-response": "weekly"})
    assert response.status == 400 and "There is no topic “incident-response”" in body
    assert await follows(site, chat) == before

    key = await site.key()
    assert await site.followers.update(key, language=None, zone=None, resume=False,
                                       modes={"research": None, "incident-response": None})
    assert await follows(site, chat) == before, "leaving a chat-only topic through the key is a no-op"


async def test_one_click_unsubscribe_leaves_only_what_mail_carries(site: EmailSite) -> None:
    _manage, chat = await link(site)
    response, _body = await site.post(f"/email/unsubscribe/{await site.key()}", {"List-Unsubscribe": "One-Click"})
    assert response.status == 200
    assert set(await follows(site, chat)) == {"research", "incident-response"}


async def test_removing_a_linked_address_keeps_the_chat_person_and_what_they_follow(site: EmailSite) -> None:
    manage, chat = await link(site)
    before = await follows(site, chat)
    response, body = await site.post(manage, {"action": "remove", "confirm": "yes"})
    assert response.status == 200 and "Your address has been removed" in body
    assert await person(site, EMAIL) is None
    assert await person(site, CHAT) == chat and await site.h.app.store.people.get(chat) is not None
    assert await follows(site, chat) == before
    assert await site.h.app.db.fetch_all("SELECT * FROM email_signups") == []
    assert (await site.get(manage))[0].status == 410


async def test_the_download_of_a_linked_address_gives_no_file_but_says_to_use_mydata_in_chat(
        site: EmailSite) -> None:
    manage, _chat = await link(site)
    note = site.text(MYDATA_IN_CHAT)
    response, body = await site.get(manage)
    assert note in body and f'action="{manage}/mydata.json"' not in body
    response, body = await site.post(f"{manage}/mydata.json", {})
    assert response.status == 200 and response.content_type == "text/html"
    assert "Content-Disposition" not in response.headers
    assert note in body and "schema" not in body and "research" not in body


async def test_the_page_s_claim_answer_warns_in_words_true_for_the_page(site: EmailSite) -> None:
    found = CODE.match((await site.h.say(USER, "link", platform="console")).message.title or "")
    assert found
    response, body = await site.post(f"/email/manage/{await site.key()}/link", {"code": found.group(1)})
    assert response.status == 200
    assert site.text(OWN_CODES_ONLY) in body and site.text(CLAIM_WARNING) not in body


async def test_removing_the_address_withdraws_its_claim_as_the_page_s_warning_says(site: EmailSite) -> None:
    found = CODE.match((await site.h.say(USER, "link", platform="console")).message.title or "")
    assert found
    manage = f"/email/manage/{await site.key()}"
    assert (await site.post(f"{manage}/link", {"code": found.group(1)}))[0].status == 200
    response, _body = await site.post(manage, {"action": "remove", "confirm": "yes"})
    assert response.status == 200
    reply = await site.h.say(USER, "link confirm", platform="console")
    assert reply.message.plain_text() == "Nothing to confirm."
    assert await person(site, EMAIL) is None
