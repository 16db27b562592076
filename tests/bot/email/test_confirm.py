"""The confirmation link: single use, expiring, safe to press twice at once, and it subscribes through the real
subscription service, so posts then reach the address like any follower's."""

from __future__ import annotations

import asyncio

from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from tests.bot.email.support import count, followers, mails, person_of, topic
from tests.support import Harness

ADDRESS = "ann@example.org"


async def _token(h: Harness, slug: str = "disinformation", mode: DeliveryMode = DeliveryMode.IMMEDIATE,
                 address: str = ADDRESS) -> str:
    await followers(h).request(address, slug, mode, "fr", "Africa/Nairobi", "client")
    return (await mails(h))[-1].confirm_token()


async def test_confirm_subscribes_once_and_the_link_is_spent(h: Harness) -> None:
    service = followers(h)
    token = await _token(h)
    assert await service.key_for(ADDRESS) is None  # a confirmation mail offers nothing to unsubscribe from
    confirmed = await service.confirm(token)
    key = await service.key_for(ADDRESS)
    assert key is not None and await service.manage(key) is not None
    assert await service.language_of(ADDRESS) == "fr" and await service.language_of("x@example.org") is None
    assert confirmed is not None and confirmed.topic_slug == "disinformation" and not confirmed.awaiting_approval
    person_id = await person_of(h, ADDRESS)
    assert person_id is not None
    subscription = await h.app.store.subscriptions.get(person_id, (await topic(h, "disinformation")).id)
    assert subscription is not None and subscription.mode is DeliveryMode.IMMEDIATE
    person = await h.app.store.people.get(person_id)
    assert person is not None and (person.language, person.timezone) == ("fr", "Africa/Nairobi")
    assert await service.confirm(token) is None
    assert await service.confirmation(token) is None
    assert await service.confirm("x" * 32) is None and await service.confirm("../etc") is None


async def test_the_link_expires_after_48_hours(h: Harness) -> None:
    service = followers(h)
    first = await _token(h)
    h.clock.advance(minutes=11)
    second = await _token(h, "elections")
    h.clock.advance(hours=48, minutes=-11, seconds=-1)  # one second before the first expires
    assert await service.confirmation(first) is not None
    assert await service.confirm(first) is not None
    h.clock.advance(minutes=11, seconds=1)  # the second expires now
    assert await service.confirmation(second) is None
    assert await service.confirm(second) is None
    person_id = await person_of(h, ADDRESS)
    assert person_id is not None
    assert await h.app.store.subscriptions.get(person_id, (await topic(h, "elections")).id) is None


async def test_two_confirms_at_once_make_one_subscription(h: Harness) -> None:
    service = followers(h)
    token = await _token(h)
    results = await asyncio.wait_for(asyncio.gather(*(service.confirm(token) for _ in range(4))), timeout=10)
    assert sum(result is not None for result in results) == 1
    assert await count(h, "subscriptions WHERE person_id = (SELECT person_id FROM identities"
                          " WHERE platform = 'email')") == 1


async def test_a_post_to_the_topic_then_reaches_the_address(h: Harness) -> None:
    service = followers(h)
    await service.confirm(await _token(h))
    before = len(h.adapter.sent)
    await h.say("demo-coordinator", "announce new disinformation Fact-check out now")
    assert "on its way" in await h.text("demo-coordinator", "announce confirm 1")
    person_id = await person_of(h, ADDRESS)
    rows = await h.app.store.db.fetch_all(
        "SELECT kind FROM deliveries WHERE person_id = ? AND announcement_id = 1", (person_id,))
    assert [row["kind"] for row in rows] == ["announcement"]
    sent = await mails(h)
    assert len(sent) == before + 1 and sent[-1].to == ADDRESS and "Fact-check out now" in sent[-1].text
    assert sent[-1].language == "fr"


async def test_an_approval_topic_gets_a_request(h: Harness) -> None:
    await h.say("demo-admin", "topic edit elections policy:approval")
    service = followers(h)
    confirmed = await service.confirm(await _token(h, "elections"))
    assert confirmed is not None and confirmed.awaiting_approval
    person_id = await person_of(h, ADDRESS)
    assert person_id is not None
    assert await h.app.store.requests.pending_for(person_id, (await topic(h, "elections")).id) is not None


async def test_a_topic_hidden_since_the_request_is_not_followed(h: Harness) -> None:
    service = followers(h)
    token = await _token(h)
    await h.say("demo-admin", "topic edit disinformation visibility:members")
    assert await service.confirm(token) is None
    person_id = await person_of(h, ADDRESS)
    assert person_id is not None and await h.app.store.subscriptions.of_person(person_id) == []


async def test_prune_forgets_unconfirmed_addresses_and_keeps_followers(h: Harness) -> None:
    service = followers(h)
    await service.confirm(await _token(h))
    await _token(h, address="bob@example.org")
    assert await person_of(h, "bob@example.org") is not None
    h.clock.advance(hours=47)
    assert await service.prune(h.clock.now()) == 0
    assert await person_of(h, "bob@example.org") is not None
    h.clock.advance(hours=1)
    assert await service.prune(h.clock.now()) == 2
    assert await person_of(h, "bob@example.org") is None
    assert await h.app.store.people.find_by_name("bob@example.org") == []
    assert await count(h, "email_keys WHERE address = 'bob@example.org'") == 0
    # A follower who confirmed stays, even after leaving everything: their manage link keeps working.
    ann = await person_of(h, ADDRESS)
    assert ann is not None
    key = await h.app.store.email.key_of(ADDRESS)
    assert key is not None and await service.unsubscribe_all(key)
    h.clock.advance(days=3)
    await service.prune(h.clock.now())
    assert await h.app.store.people.identity(Identity("email", ADDRESS)) is not None
    assert await service.manage(key) is not None
    assert await count(h, "email_requests") == 0  # stamps older than a day are gone
