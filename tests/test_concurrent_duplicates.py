"""Concurrent duplicates of a state-changing command answer like the same commands sent one after the other:
one effect in the database, and every reply one the sequential case gives — never an internal error.

Why: chat platforms retry, people double-click buttons, and two coordinators answer the same request; the
bot runs all of them at once on one event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.commands.dispatcher import Reply
from bot.model import Identity
from tests.support import Harness

TIMES = 50
INTERNAL = "Something went wrong"


async def _all_at_once(h: Harness, calls: Sequence[tuple[str, str]]) -> list[str]:
    replies: list[Reply] = await asyncio.wait_for(
        asyncio.gather(*(h.say(user, text) for user, text in calls)), timeout=60)
    texts = [reply.message.plain_text() for reply in replies]
    assert not [t for t in texts if INTERNAL in t], texts
    return texts


async def _person(h: Harness, user: str) -> int:
    record = await h.app.store.people.identity(Identity("console", user))
    assert record is not None
    return record.person_id


async def _topic(h: Harness, slug: str) -> int:
    topic = await h.app.store.topics.by_slug(slug)
    assert topic is not None
    return topic.id


def _only(texts: list[str], first: str, repeat: str) -> None:
    """Exactly one reply is the first-time answer; all others the answer to a repeat."""
    assert sum(first in t for t in texts) == 1, texts
    assert all(first in t or repeat in t for t in texts), texts


async def test_concurrent_subscribe_to_an_open_topic_subscribes_once(h: Harness) -> None:
    texts = await _all_at_once(h, [("demo-member", "subscribe disinformation")] * TIMES)
    _only(texts, "You now follow “disinformation”", "already follow")
    rows = await h.app.store.db.fetch_all(
        "SELECT COUNT(*) FROM subscriptions WHERE person_id = ? AND topic_id = ?",
        (await _person(h, "demo-member"), await _topic(h, "disinformation")))
    assert rows[0][0] == 1


async def test_concurrent_subscribe_to_an_approval_topic_asks_once(h: Harness) -> None:
    await h.say("demo-admin", "role grant demo-coordinator coordinator whrd-safety")
    texts = await _all_at_once(h, [("demo-member", "subscribe whrd-safety")] * TIMES)
    _only(texts, "needs a coordinator's approval", "already waiting for a coordinator")
    member, topic = await _person(h, "demo-member"), await _topic(h, "whrd-safety")
    assert len(await h.app.store.requests.pending_of(member)) == 1
    assert await h.app.store.subscriptions.get(member, topic) is None


async def test_concurrent_topic_create_with_one_slug_creates_once(h: Harness) -> None:
    texts = await _all_at_once(h, [("demo-admin", "topic create racing Racing topic")] * TIMES)
    _only(texts, "Topic “racing” created", "The topic name “racing” is taken; choose another.")
    rows = await h.app.store.db.fetch_all("SELECT COUNT(*) FROM topics WHERE slug = 'racing'")
    assert rows[0][0] == 1


async def test_concurrent_approve_of_one_request_approves_once(h: Harness) -> None:
    await h.say("demo-admin", "role grant demo-coordinator coordinator whrd-safety")
    await h.say("demo-member", "subscribe whrd-safety")
    texts = await _all_at_once(h, [("demo-coordinator", "approve 1")] * TIMES)
    _only(texts, "Approved: demo-member now follows", "Request #1 was already approved.")
    audit = [e for e in await h.app.store.audit.recent() if e.action == "request.approve"]
    assert len(audit) == 1
    assert await h.app.store.subscriptions.get(await _person(h, "demo-member"),
                                               await _topic(h, "whrd-safety")) is not None


async def test_concurrent_rsvp_records_one_answer(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation")
    texts = await _all_at_once(h, [("demo-member", "rsvp 1 yes")] * TIMES)
    assert all("You answered yes" in t for t in texts), texts
    member = await _person(h, "demo-member")
    assert len([r for r in await h.app.store.meetings.rsvps(1) if r.person_id == member]) == 1


async def test_concurrent_rsvp_of_many_people_records_each(h: Harness) -> None:
    people = [f"racer-{n}" for n in range(TIMES)]
    await _all_at_once(h, [(p, "topics") for p in people])  # first contact creates them
    for person in people:
        await h.say("demo-admin", f"role grant {person} member")
    texts = await _all_at_once(h, [(p, "rsvp 1 maybe") for p in people])
    assert all("You answered maybe" in t for t in texts), texts
    assert len(await h.app.store.meetings.rsvps(1)) == TIMES


async def test_concurrent_announce_confirm_sends_once(h: Harness) -> None:
    await h.say("demo-coordinator", "announce new disinformation New report")
    texts = await _all_at_once(h, [("demo-coordinator", "announce confirm 1")] * TIMES)
    _only(texts, "on its way to", "Announcement #1 is already being sent.")
    assert "to 0 targets" not in "".join(texts)
    deliveries = await h.app.store.outbox.of_announcement(1)
    keys = [d.dedupe_key for d in deliveries]
    assert deliveries and len(keys) == len(set(keys))
    assert f"on its way to {len(deliveries)} target" in "".join(texts)


async def test_concurrent_topic_invite_invites_and_tells_once(h: Harness) -> None:
    texts = await _all_at_once(h, [("demo-admin", "topic invite incident-response demo-member")] * TIMES)
    _only(texts, "is invited to “incident-response” and has been told", "is already invited")
    member = await _person(h, "demo-member")
    assert len([d for d in await h.app.store.outbox.by_kind("notice") if d.person_id == member]) == 1


async def test_concurrent_resource_add_of_one_link_adds_once(h: Harness) -> None:
    texts = await _all_at_once(h, [("demo-admin", "resource add https://example.org/racing Racing")] * TIMES)
    _only(texts, "Added #", "That link is in the library already")
    rows = await h.app.store.db.fetch_all("SELECT COUNT(*) FROM resources WHERE url = 'https://example.org/racing'")
    assert rows[0][0] == 1


async def test_concurrent_role_grant_grants_once(h: Harness) -> None:
    await h.say("racer", "topics")
    texts = await _all_at_once(h, [("demo-admin", "role grant racer member")] * TIMES)
    _only(texts, "racer now has the member role", "racer already has the member role")
    audit = [e for e in await h.app.store.audit.recent() if e.action == "role.grant"]
    assert len(audit) == 1
