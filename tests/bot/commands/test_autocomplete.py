"""Suggestions for partly typed arguments never name what the caller cannot see."""

from __future__ import annotations

from bot.commands.context import IncomingCommand
from bot.commands.spec import ArgKind
from bot.model import Identity
from tests.support import Harness


async def _suggest(h: Harness, user: str, kind: ArgKind, prefix: str = "") -> list[str]:
    caller = await h.app.services.people.caller_for(IncomingCommand(Identity("console", user), user))
    return [s.value for s in await h.app.dispatcher.autocomplete.suggest(caller, kind, prefix, limit=1000)]


async def test_meeting_suggestions_follow_topic_visibility(h: Harness) -> None:
    reply = await h.text("demo-admin", 'meeting create incident-response "Crisis call" tomorrow 10:00')
    assert "is scheduled" in reply
    assert "1" in await _suggest(h, "demo-outsider", ArgKind.MEETING)
    assert "2" not in await _suggest(h, "demo-outsider", ArgKind.MEETING)
    assert "2" in await _suggest(h, "demo-admin", ArgKind.MEETING)


async def test_resource_suggestions_follow_resource_visibility(h: Harness) -> None:
    outsider = set(await _suggest(h, "demo-outsider", ArgKind.RESOURCE))
    member = set(await _suggest(h, "demo-member", ArgKind.RESOURCE))
    assert outsider and outsider < member  # members see members-only resources too
    for resource_id in member - outsider:  # exactly the ones an outsider may not open
        reply = await h.say("demo-outsider", f"resource show {resource_id}")
        assert reply.message.is_error
