"""Channel bindings fail closed: a platform that cannot answer "is this channel public?" yet binds nothing."""

from __future__ import annotations

import pytest

from app.assembly import platform_lookup
from bot.channels.service import ChannelService, PlatformNotReady
from bot.commands.context import IncomingCommand
from bot.delivery.worker import Outlet
from bot.model import Identity
from bot.ports import PlatformAdapter
from bot.topics.model import Visibility
from tests.support import Harness, RecordingAdapter


def test_a_configured_platform_still_connecting_refuses_instead_of_answering_none() -> None:
    outlets: dict[str, Outlet] = {}
    lookup = platform_lookup(outlets, {"slack", "discord"})
    with pytest.raises(PlatformNotReady):
        lookup("slack")
    assert lookup("console") is None  # not configured at all: there is nothing to ask
    slack = RecordingAdapter(platform="slack")
    outlets["slack"] = Outlet(slack)
    assert lookup("slack") is slack
    with pytest.raises(PlatformNotReady):
        lookup("discord")


async def test_binding_while_the_platform_connects_changes_nothing_and_says_why(h: Harness) -> None:
    def connecting(platform: str) -> PlatformAdapter | None:
        raise PlatformNotReady(platform)

    channels = ChannelService(h.app.store, h.clock, connecting)
    admin = await h.app.services.people.caller_for(IncomingCommand(Identity("console", "demo-admin"), "demo-admin"))
    members_only = next(t for t in await h.app.store.topics.all() if t.visibility is Visibility.MEMBERS)
    translator = h.app.services.translator
    for bind in (lambda: channels.bind_topic(admin, members_only, "slack", "CPUBLIC"),
                 lambda: channels.bind_public(admin, "slack", "CPUBLIC")):
        with pytest.raises(PlatformNotReady) as refused:
            await bind()
        english = translator.render(refused.value.message, "en")
        assert "slack is still connecting" in english and "Nothing was changed" in english
        assert translator.render(refused.value.message, "fr") != english  # translated, not English fall-through
    assert await h.app.store.channels.bound("topic", members_only.id) == []
    assert await h.app.store.channels.bound("public", None) == []
