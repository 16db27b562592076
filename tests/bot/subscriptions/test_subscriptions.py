"""Subscribing, leaving, approval requests, invitations and the bad-input answers around them."""

from __future__ import annotations

from bot.subscriptions.model import DeliveryMode
from tests.support import Harness


async def _mode(h: Harness, person: str, topic: str) -> DeliveryMode | None:
    record = await h.app.store.people.identity(__import__("bot.model").model.Identity("console", person))
    assert record is not None
    found = await h.app.store.topics.by_slug(topic)
    assert found is not None
    subscription = await h.app.store.subscriptions.get(record.person_id, found.id)
    return subscription.mode if subscription else None


async def test_subscribe_welcomes_and_twice_is_a_friendly_no_op(h: Harness) -> None:
    first = await h.text("demo-member", "subscribe disinformation mode:daily")
    assert "You now follow “disinformation”" in first and "daily digest" in first
    assert "/unsubscribe disinformation" in first
    again = await h.text("demo-member", "subscribe disinformation mode:daily")
    assert "already follow" in again and "Nothing changed" in again
    changed = await h.text("demo-member", "subscribe disinformation mode:weekly")
    assert "changed to weekly digest" in changed
    assert await _mode(h, "demo-member", "disinformation") is DeliveryMode.WEEKLY


async def test_unsubscribe_one_and_all(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation")
    await h.say("demo-member", "subscribe research")
    assert "no longer follow" in await h.text("demo-member", "unsubscribe disinformation")
    assert "do not follow" in await h.text("demo-member", "unsubscribe disinformation")
    assert "You left 2 topics." in await h.text("demo-member", "unsubscribe all")
    assert "follow no topics" in await h.text("demo-member", "mysubs")


async def test_unknown_topic_suggests_only_visible_ones(h: Harness) -> None:
    assert "Did you mean disinformation?" in await h.text("demo-outsider", "subscribe disinfromation")
    # "research" is members-only: an outsider gets no hint that it exists.
    outsider = await h.text("demo-outsider", "subscribe reserch")
    assert "research" not in outsider and "There is no topic “reserch”" in outsider
    assert "Did you mean research?" in await h.text("demo-member", "subscribe reserch")


async def test_hidden_topic_answers_like_a_missing_one(h: Harness) -> None:
    hidden = await h.text("demo-member", "subscribe incident-response")
    missing = await h.text("demo-member", "subscribe no-such-topic")
    assert hidden.replace("incident-response", "X") == missing.replace("no-such-topic", "X")
    assert "incident-response" not in await h.text("demo-member", "topics")
    assert await _mode(h, "demo-member", "incident-response") is None


async def test_invitation_opens_a_private_topic(h: Harness) -> None:
    reply = await h.text("demo-admin", "topic invite incident-response demo-member")
    assert "is invited" in reply
    await h.app.run_due()
    invitation = h.console_output()
    assert "[DM → demo-member]" in invitation and "/subscribe incident-response" in invitation
    assert "You now follow “incident-response”" in await h.text("demo-member", "subscribe incident-response")


async def test_approval_flow_notifies_coordinators_and_requester(h: Harness) -> None:
    await h.say("demo-admin", "role grant demo-coordinator coordinator whrd-safety")
    asked = await h.text("demo-member", "subscribe whrd-safety")
    assert "needs a coordinator's approval" in asked
    assert await _mode(h, "demo-member", "whrd-safety") is None
    assert "already waiting" in await h.text("demo-member", "subscribe whrd-safety")
    assert "waiting for approval" in await h.text("demo-member", "mysubs")
    await h.app.run_due()
    out = h.console_output()
    assert "[DM → demo-coordinator] == Subscription request ==" in out
    assert "[DM → demo-admin]" not in out  # the topic has a coordinator: admins are not disturbed
    listing = await h.text("demo-coordinator", "requests")
    assert "#1 demo-member → whrd-safety" in listing and "/approve 1" in listing
    assert "Approved" in await h.text("demo-coordinator", "approve 1")
    assert await _mode(h, "demo-member", "whrd-safety") is DeliveryMode.IMMEDIATE
    assert "already approved" in await h.text("demo-coordinator", "approve 1")
    await h.app.run_due()
    assert "[DM → demo-member] == Request approved ==" in h.console_output()


async def test_deny_with_reason_and_only_own_topics(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety")
    await h.app.run_due()
    # Nobody coordinates whrd-safety in the demo data, so the admins are asked.
    assert "[DM → demo-admin] == Subscription request ==" in h.console_output()
    refused = await h.text("demo-coordinator", "deny 1")
    assert "There is no request #1 for a topic you coordinate." in refused  # no hint about other topics
    assert "Denied" in await h.text("demo-admin", "deny 1 reason:“members of partner orgs only”")
    await h.app.run_due()
    assert "Reason: members of partner orgs only" in h.console_output()
    assert await _mode(h, "demo-member", "whrd-safety") is None
    assert "no request #99" in await h.text("demo-admin", "approve 99")
    assert "must be a number" in await h.text("demo-admin", "approve abc")


async def test_requests_expire_and_the_requester_is_told(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety")
    h.clock.advance(days=13)
    await h.app.run_due()
    assert "expired" not in h.console_output()
    h.clock.advance(days=2)
    await h.app.run_due()
    assert "[DM → demo-member] == Request expired ==" in h.console_output()
    assert "No requests are waiting" in await h.text("demo-admin", "requests")
    assert "needs a coordinator's approval" in await h.text("demo-member", "subscribe whrd-safety")


async def test_coordinator_joins_approval_topic_directly(h: Harness) -> None:
    assert "You now follow" in await h.text("demo-admin", "subscribe whrd-safety")


async def test_members_topic_needs_member_role(h: Harness) -> None:
    assert "There is no topic" in await h.text("demo-outsider", "subscribe cybersecurity")
    assert "You now follow" in await h.text("demo-member", "subscribe cybersecurity")
