"""``mysubs`` lists and counts what it shows, Undo restores what was undone, and requests can be withdrawn,
changed and are never approved into nothing (issue 15, item 11)."""

from __future__ import annotations

from bot.model import Identity, Role
from bot.subscriptions.model import DeliveryMode, RequestStatus
from tests.support import Harness


async def _mode(h: Harness, name: str, slug: str, platform: str = "console") -> DeliveryMode | None:
    record = await h.app.store.people.identity(Identity(platform, name))
    topic = await h.app.store.topics.by_slug(slug)
    assert record is not None and topic is not None
    found = await h.app.store.subscriptions.get(record.person_id, topic.id)
    return found.mode if found else None


async def _status(h: Harness, request_id: int) -> RequestStatus:
    request = await h.app.store.requests.get(request_id)
    assert request is not None
    return request.status


async def test_mysubs_shows_waiting_requests_without_any_subscription(h: Harness) -> None:
    await h.say("U1", "subscribe whrd-safety", platform="test", platform_role=Role.MEMBER)
    text = await h.text("U1", "mysubs", platform="test", platform_role=Role.MEMBER)
    assert "You follow no topics yet." in text
    assert "1 request is waiting for approval:" in text
    assert "• whrd-safety — immediate (direct message) (request #1)" in text


async def test_mysubs_counts_followed_topics_and_requests_separately(h: Harness) -> None:
    await h.say("demo-member", "subscribe research mode:weekly")
    await h.say("demo-member", "subscribe whrd-safety")
    lines = (await h.text("demo-member", "mysubs")).splitlines()
    assert lines[1:] == [
        "You follow 2 topics:",
        "• elections — daily digest",
        "• research — weekly digest",
        "1 request is waiting for approval:",
        "• whrd-safety — immediate (direct message) (request #1)",
    ]


async def test_mysubs_says_when_a_followed_topic_sends_nothing(h: Harness) -> None:
    await h.say("demo-admin", "topic archive elections")
    assert "• elections — daily digest — archived: nothing is sent to it" in await h.text("demo-member", "mysubs")
    await h.say("U2", "subscribe research", platform="test", platform_role=Role.MEMBER)
    lost = await h.text("U2", "mysubs", platform="test", platform_role=Role.OUTSIDER)
    assert "• research — immediate (direct message) — nothing reaches you: you can no longer see it" in lost


async def test_undo_after_unsubscribe_restores_the_delivery_mode(h: Harness) -> None:
    left = await h.text("demo-member", "unsubscribe elections")  # followed as a daily digest
    assert "[Undo] /subscribe elections mode:daily" in left
    assert "You now follow" in await h.text("demo-member", "subscribe elections mode:daily")
    assert await _mode(h, "demo-member", "elections") is DeliveryMode.DAILY


async def test_undo_is_offered_only_as_far_as_it_works(h: Harness) -> None:
    # Approval topic: the button says it asks again.
    await h.say("demo-member", "subscribe whrd-safety mode:weekly")
    await h.say("demo-admin", "approve 1")
    left = await h.text("demo-member", "unsubscribe whrd-safety")
    assert "needs a coordinator's approval" in left and "[Ask to rejoin] /subscribe whrd-safety mode:weekly" in left
    # Private topic: once out, they cannot see it, so no Undo that would answer "there is no topic".
    await h.say("demo-admin", "topic invite incident-response demo-member")
    await h.say("demo-member", "subscribe incident-response")
    left = await h.text("demo-member", "unsubscribe incident-response")
    assert "Undo" not in left and "invite you" in left
    assert "There is no topic" in await h.text("demo-member", "subscribe incident-response")
    # Archived topic: leaving works, and no Undo into a topic that sends nothing.
    await h.say("demo-admin", "topic archive elections")
    left = await h.text("demo-member", "unsubscribe elections")
    assert "You no longer follow “elections”." in left and "Undo" not in left and "is archived" in left


async def test_unsubscribe_withdraws_a_waiting_request(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety")
    assert "Your request #1 to join “whrd-safety” is withdrawn." in \
        await h.text("demo-member", "unsubscribe whrd-safety")
    assert "already withdrawn by the requester" in await h.text("demo-admin", "approve 1")
    assert await _mode(h, "demo-member", "whrd-safety") is None
    await h.say("demo-member", "subscribe whrd-safety")
    assert "1 waiting request was withdrawn." in await h.text("demo-member", "unsubscribe all")
    assert await _status(h, 2) is RequestStatus.WITHDRAWN


async def test_a_request_for_a_topic_that_became_hidden_can_still_be_withdrawn(h: Harness) -> None:
    await h.say("U3", "subscribe whrd-safety", platform="test", platform_role=Role.MEMBER)
    listing = await h.text("U3", "mysubs", platform="test", platform_role=Role.OUTSIDER)
    assert "(request #1) — cannot be approved: you can no longer see it" in listing
    assert "is withdrawn" in await h.text("U3", "unsubscribe whrd-safety", platform="test")


async def test_asking_again_with_another_mode_updates_the_waiting_request(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety")
    assert "now asks for weekly digest" in await h.text("demo-member", "subscribe whrd-safety mode:weekly")
    await h.say("demo-admin", "approve 1")
    assert await _mode(h, "demo-member", "whrd-safety") is DeliveryMode.WEEKLY


async def test_joining_directly_withdraws_the_waiting_request(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety")
    await h.say("demo-admin", "topic invite whrd-safety demo-member")
    assert "You now follow" in await h.text("demo-member", "subscribe whrd-safety mode:daily")
    assert "No requests are waiting" in await h.text("demo-admin", "requests")
    assert "already withdrawn" in await h.text("demo-admin", "approve 1")
    assert await _mode(h, "demo-member", "whrd-safety") is DeliveryMode.DAILY


async def test_approving_someone_who_can_no_longer_see_the_topic_is_refused(h: Harness) -> None:
    await h.say("U4", "subscribe whrd-safety", platform="test", platform_role=Role.MEMBER)
    await h.say("U4", "whoami", platform="test", platform_role=Role.OUTSIDER)  # the platform took the role away
    refused = await h.say("demo-admin", "approve 1")
    assert refused.message.is_error
    assert "U4 may no longer see “whrd-safety” (members only)" in refused.message.plain_text()
    assert await _mode(h, "U4", "whrd-safety", platform="test") is None
    assert await _status(h, 1) is RequestStatus.PENDING
    # Denying still works, and the answer reaches them although they can no longer see the topic.
    assert "Denied" in await h.text("demo-admin", "deny 1 reason:“members only now”")
    await h.app.run_due()
    answers = [m.plain_text() for m in h.adapter.dms_to("U4")]
    assert any("was declined" in a and "members only now" in a for a in answers), answers


async def test_ask_again_after_expiry_keeps_the_mode(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety mode:weekly")
    h.clock.advance(days=15)
    await h.app.run_due()
    assert "[Ask again] /subscribe whrd-safety mode:weekly" in h.console_output()
