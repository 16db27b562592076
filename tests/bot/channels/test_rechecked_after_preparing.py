"""Defence in depth for channel bindings: a members-only topic is bound only to a channel that is still private
after the platform adapter changed its permissions, and only a channel carrying public posts alone may be
forwarded beyond the coalition's server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.channels.service import may_forward
from bot.i18n import Msg, _
from bot.topics.model import Topic
from tests.support import FixedClock, Harness, RecordingAdapter, console_settings, harness


@dataclass
class OpeningPreparer(RecordingAdapter):
    """A platform whose channel set-up opens the channel to everyone (``opens``) or leaves the bot unable to
    tell (``loses_sight``): the adapter bugs and concurrent admin edits the core must not trust blindly."""

    opens: set[str] = field(default_factory=set)
    loses_sight: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)

    async def channel_is_public(self, channel_id: str) -> bool | None:
        return None if channel_id in self.unknown else await super().channel_is_public(channel_id)

    async def prepare_public_channel(self, channel_id: str) -> Msg:
        return _("Make sure only the bot can post there.")

    async def prepare_topic_channel(self, channel_id: str) -> Msg:
        if channel_id in self.opens:
            self.public_channels.add(channel_id)
        if channel_id in self.loses_sight:
            self.unknown.add(channel_id)
        return _("Make sure only the bot can post there.")


@pytest.fixture
async def hp(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    async with harness(console_settings(tmp_path), clock, adapter=OpeningPreparer()) as running:
        yield running


def preparer(h: Harness) -> OpeningPreparer:
    assert isinstance(h.adapter, OpeningPreparer)
    return h.adapter


async def topic(h: Harness, slug: str) -> Topic:
    found = await h.app.store.topics.by_slug(slug)
    assert found is not None
    return found


@pytest.mark.parametrize("what", ["opens", "loses_sight"])
async def test_a_members_topic_is_not_bound_when_setting_the_channel_up_opened_it(hp: Harness, what: str) -> None:
    getattr(preparer(hp), what).add("wg")

    reply = await hp.text("root", "setup topic-channel research #wg", platform="test")

    assert "#wg may be readable by everyone now that the bot has set it up" in reply
    assert "was not bound" in reply
    assert await hp.app.store.channels.bound("topic", (await topic(hp, "research")).id) == []
    assert not [e for e in await hp.app.store.audit.recent() if e.action == "setup.topic-channel"]


async def test_a_public_topic_needs_no_second_look(hp: Harness) -> None:
    preparer(hp).opens.add("wg")
    assert "now also go to #wg" in await hp.text("root", "setup topic-channel disinformation #wg", platform="test")


async def test_a_channel_that_stays_private_is_bound(hp: Harness) -> None:
    assert "now also go to #wg" in await hp.text("root", "setup topic-channel research #wg", platform="test")
    [binding] = await hp.app.store.channels.bound("topic", (await topic(hp, "research")).id)
    assert binding.channel_id == "wg"


async def test_only_the_public_channel_carrying_public_posts_alone_may_be_forwarded(h: Harness) -> None:
    store, now = h.app.store, h.clock.now()
    assert not await may_forward(store, "discord", "news")  # not bound at all

    await store.channels.bind("public", None, "discord", "news", now)
    await store.channels.bind("topic", (await topic(h, "disinformation")).id, "discord", "news", now)
    assert await may_forward(store, "discord", "news")
    assert not await may_forward(store, "slack", "news")  # the same id on another platform is another channel
    assert not await may_forward(store, "discord", "other")

    await store.channels.bind("topic", (await topic(h, "research")).id, "discord", "news", now)
    assert not await may_forward(store, "discord", "news")
