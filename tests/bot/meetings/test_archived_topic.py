"""A meeting on an archived topic cannot be changed: its notices would reach nobody, yet the reply would count them."""

from __future__ import annotations

from tests.support import Harness


async def test_cancel_and_reschedule_on_an_archived_topic_are_refused_and_change_nothing(h: Harness) -> None:
    topic = (await h.app.store.topics.get((await h.app.store.meetings.get(1)).topic_id))  # type: ignore[union-attr]
    assert topic is not None
    assert "archived" in await h.text("demo-admin", f"topic archive {topic.slug}")
    before = await h.app.store.meetings.get(1)
    for command in ("meeting cancel 1", "meeting reschedule 1 2026-12-09 10:00"):
        reply = await h.say("demo-admin", command)
        assert reply.message.is_error, command
        assert f"“{topic.slug}” is archived" in reply.message.plain_text()
        assert "topic unarchive" in reply.message.plain_text()  # its coordinators are told how to bring it back
    assert await h.app.store.meetings.get(1) == before
    assert "is active again" in await h.text("demo-admin", f"topic unarchive {topic.slug}")
    assert "cancelled" in await h.text("demo-admin", "meeting cancel 1")
