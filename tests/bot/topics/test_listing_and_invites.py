"""``topics`` says which topics need approval and what each button will do, and never cuts silently;
invitations reach the person every time and only when they would let them join (issue 15, item 11)."""

from __future__ import annotations

from bot.model import Identity
from tests.support import Harness


async def test_topics_says_which_topics_need_approval_and_the_button_asks(h: Harness) -> None:
    member = await h.text("demo-member", "topics")
    assert "• whrd-safety — Online harassment of women human-rights defenders (members only, needs approval)" \
        in member
    assert "[Ask to join whrd-safety] /subscribe whrd-safety" in member
    assert "[Subscribe to research] /subscribe research" in member
    # A coordinator of every topic joins directly: the button says so.
    assert "[Subscribe to whrd-safety] /subscribe whrd-safety" in await h.text("demo-admin", "topics")
    await h.say("demo-member", "subscribe whrd-safety")
    waiting = await h.text("demo-member", "topics")
    assert "(members only, needs approval) — your request is waiting for a coordinator" in waiting
    assert "Ask to join whrd-safety" not in waiting


async def test_topics_says_when_there_are_more_topics_than_buttons(h: Harness) -> None:
    for slug in ("alpha", "beta"):
        await h.say("demo-admin", f"topic create {slug} Topic {slug}")
    listing = await h.text("demo-admin", "topics")
    assert listing.count("[Subscribe to ") == 5
    assert "2 more topics have no button: type “subscribe <topic>” to follow them." in listing


async def test_inviting_again_after_leaving_reaches_the_person(h: Harness) -> None:
    assert "is invited" in await h.text("demo-admin", "topic invite incident-response demo-member")
    assert "already invited" in await h.text("demo-admin", "topic invite incident-response demo-member")
    await h.app.run_due()
    assert h.console_output().count("[DM → demo-member] == Invitation ==") == 1
    await h.say("demo-member", "subscribe incident-response")
    await h.say("demo-member", "unsubscribe incident-response")
    h.clock.advance(seconds=1)
    assert "is invited" in await h.text("demo-admin", "topic invite incident-response demo-member")
    await h.app.run_due()
    assert h.console_output().count("[DM → demo-member] == Invitation ==") == 2


async def test_an_invitation_that_could_not_be_used_is_refused(h: Harness) -> None:
    """An outsider invited to a members-only topic would click Join and be told there is no such topic."""
    reply = await h.say("demo-admin", "topic invite cybersecurity demo-outsider")
    assert reply.message.is_error
    assert "demo-outsider cannot see “cybersecurity” (members only)" in reply.message.plain_text()
    outsider = await h.app.store.people.identity(Identity("console", "demo-outsider"))
    topic = await h.app.store.topics.by_slug("cybersecurity")
    assert outsider is not None and topic is not None
    assert not await h.app.store.subscriptions.is_invited(outsider.person_id, topic.id)
