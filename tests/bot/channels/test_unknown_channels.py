"""A platform that cannot tell whether a channel is public is treated as if it were: the change is refused
with a translated reason and nothing is bound or made private (issue 15, item 1 — the core side)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.channels.service import ChannelService
from bot.commands.context import IncomingCommand
from bot.errors import UserError
from bot.i18n import Text
from bot.model import Identity
from bot.ports import PlatformAdapter
from bot.topics.model import Visibility
from tests.support import FixedClock, Harness, RecordingAdapter, console_settings, harness


@dataclass
class CannotTell(RecordingAdapter):
    """A platform adapter whose channel check cannot answer for the channels listed in ``unknown``."""

    unknown: set[str] = field(default_factory=set)

    async def channel_is_public(self, channel_id: str) -> bool | None:
        return None if channel_id in self.unknown else await super().channel_is_public(channel_id)


@pytest.fixture
async def hc(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    async with harness(console_settings(tmp_path), clock, adapter=CannotTell()) as running:
        yield running


def adapter_of(h: Harness) -> CannotTell:
    assert isinstance(h.adapter, CannotTell)
    return h.adapter


async def test_a_members_topic_is_not_bound_to_a_channel_the_platform_cannot_vouch_for(hc: Harness) -> None:
    adapter_of(hc).unknown.add("mystery")
    reply = await hc.text("root", "setup topic-channel research #mystery", platform="test")
    assert "could not say whether #mystery can be read by everyone" in reply
    assert "nothing was changed" in reply
    research = await hc.app.store.topics.by_slug("research")
    assert research is not None and research.visibility is Visibility.MEMBERS
    assert await hc.app.store.channels.bound("topic", research.id) == []
    # A public topic needs no check: its announcements are public anyway.
    assert "now also go to #mystery" in await hc.text("root", "setup topic-channel disinformation #mystery",
                                                      platform="test")


async def test_the_refusal_is_translated(hc: Harness) -> None:
    adapter_of(hc).unknown.add("mystery")
    research = await hc.app.store.topics.by_slug("research")
    assert research is not None
    admin = await hc.app.services.people.caller_for(IncomingCommand(Identity("test", "root"), "root"))
    with pytest.raises(UserError) as refused:
        await hc.app.services.channels.bind_topic(admin, research, "test", "mystery")
    message = refused.value.message
    assert isinstance(message, Text)  # a catalogue entry, rendered in each reader's language
    assert "could not say" in hc.app.services.translator.render(message, "en")


async def test_a_topic_posting_to_an_unverifiable_channel_cannot_become_members_only(hc: Harness) -> None:
    assert "now also go to #mystery" in await hc.text("root", "setup topic-channel disinformation #mystery",
                                                      platform="test")
    adapter_of(hc).unknown.add("mystery")  # e.g. the bot lost access to the channel since
    refused = await hc.text("demo-admin", "topic edit disinformation visibility:members")
    assert "could not say whether #mystery can be read by everyone" in refused
    topic = await hc.app.store.topics.by_slug("disinformation")
    assert topic is not None and topic.visibility is Visibility.PUBLIC


async def test_a_binding_on_a_platform_that_is_not_running_blocks_making_the_topic_private(h: Harness) -> None:
    """Its channel may be public when that platform comes back; nothing can check it now."""
    topic = await h.app.store.topics.by_slug("disinformation")
    assert topic is not None
    await h.app.store.channels.bind("topic", topic.id, "slack", "CGONE", h.clock.now())
    refused = await h.text("demo-admin", "topic edit disinformation visibility:members")
    assert "#CGONE on slack cannot be checked because slack is not connected" in refused
    topic = await h.app.store.topics.by_slug("disinformation")
    assert topic is not None and topic.visibility is Visibility.PUBLIC


async def test_a_members_topic_cannot_be_bound_on_a_platform_without_a_running_adapter(h: Harness) -> None:
    def nothing(platform: str) -> PlatformAdapter | None:
        return None

    channels = ChannelService(h.app.store, h.clock, nothing)
    admin = await h.app.services.people.caller_for(IncomingCommand(Identity("console", "demo-admin"), "demo-admin"))
    research = await h.app.store.topics.by_slug("research")
    assert research is not None
    with pytest.raises(UserError):
        await channels.bind_topic(admin, research, "slack", "C1")
    assert await h.app.store.channels.bound("topic", research.id) == []


async def test_console_channels_need_no_check(h: Harness) -> None:
    """Only the operator reads the console: it has no public channels, so binding a members topic works."""
    assert "now also go to #wg" in await h.text("demo-admin", "setup topic-channel research #wg")
