"""Text the database cannot store (a lone UTF-16 surrogate, which Slack and Discord JSON can deliver) is
refused with a clear error before anything changes, for typed commands and for typed platform options alike."""

from __future__ import annotations

from bot.commands.context import IncomingCommand
from bot.model import Identity, Role
from tests.support import Harness

BROKEN = "Half an emoji \ud83d here"


async def _counts(h: Harness) -> tuple[int, int]:
    announcements = await h.app.store.db.fetch_all("SELECT COUNT(*) FROM announcements")
    topics = await h.app.store.db.fetch_all("SELECT COUNT(*) FROM topics")
    return announcements[0][0], topics[0][0]


async def test_lone_surrogate_in_typed_text_is_refused_clearly(h: Harness) -> None:
    before = await _counts(h)
    reply = await h.say("demo-coordinator", f"announce new disinformation {BROKEN}")
    assert reply.message.is_error
    text = reply.message.plain_text()
    assert "broken character" in text and "Something went wrong" not in text
    topic = await h.say("demo-admin", f"topic create broken-title {BROKEN}")
    assert "broken character" in topic.message.plain_text()
    assert await _counts(h) == before


async def test_lone_surrogate_in_platform_options_is_refused_clearly(h: Harness) -> None:
    before = await _counts(h)
    reply = await h.app.dispatcher.handle(IncomingCommand(
        identity=Identity("console", "demo-admin"), display_name="demo-admin", path=("topic", "create"),
        values={"slug": "broken-title", "title": BROKEN}, platform_role=Role.OUTSIDER))
    assert reply.message.is_error
    text = reply.message.plain_text()
    assert "broken character" in text and "Something went wrong" not in text
    assert await _counts(h) == before


async def test_lone_surrogate_in_a_command_word_is_not_echoed_back(h: Harness) -> None:
    reply = await h.say("demo-admin", "subscr\ud800be disinformation")
    text = reply.message.plain_text()
    assert "broken character" in text and "\ud800" not in text


async def test_lone_surrogate_in_a_platform_display_name_is_replaced_not_fatal(h: Harness) -> None:
    reply = await h.app.dispatcher.handle(IncomingCommand(
        identity=Identity("console", "U-half"), display_name="half\ud83dname", text="subscribe disinformation"))
    assert "You now follow “disinformation”" in reply.message.plain_text()
    assert await h.app.store.people.find_by_name("half\ufffdname")


async def test_a_nul_character_is_refused_on_every_engine_and_replaced_in_a_name(h: Harness) -> None:
    """PostgreSQL's text cannot hold NUL (JSON's "\\u0000"); SQLite could. Both engines answer alike."""
    before = await _counts(h)
    reply = await h.say("demo-coordinator", "announce new disinformation before\x00after")
    assert reply.message.is_error and "broken character" in reply.message.plain_text()
    assert await _counts(h) == before
    named = await h.app.dispatcher.handle(IncomingCommand(
        identity=Identity("console", "U-nul"), display_name="nul\x00name", text="subscribe disinformation"))
    assert "You now follow “disinformation”" in named.message.plain_text()
    assert await h.app.store.people.find_by_name("nul\ufffdname")
