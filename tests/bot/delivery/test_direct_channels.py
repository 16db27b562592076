"""DirectChannels (issue 23): DM channels opened ahead of fan-outs, through the real app and SQLite, with a
recording adapter that opens DMs. The database is the only state that matters: a new opener resumes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery.direct_channels import DirectChannels
from bot.delivery.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from bot.messages import Message
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility
from tests.support import Harness, RecordingAdapter, console_settings, harness


@dataclass
class OpeningAdapter(RecordingAdapter):
    opened: list[str] = field(default_factory=list)
    open_failures: dict[str, DeliveryError] = field(default_factory=dict)

    async def open_direct(self, identity: Identity) -> str:
        failure = self.open_failures.get(identity.external_id)
        if failure is not None:
            raise failure
        self.opened.append(identity.external_id)
        return f"D-{identity.external_id}"


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(console_settings(tmp_path), adapter=OpeningAdapter()) as started:
        await started.app.store.topics.create("news", "News", "", Visibility.PUBLIC, Policy.OPEN, started.clock.now())
        yield started


async def follow(h: Harness, user: str, mode: DeliveryMode = DeliveryMode.IMMEDIATE) -> int:
    record = await h.app.store.people.ensure_identity(Identity("test", user), user, h.clock.now())
    topic = await h.app.store.topics.by_slug("news")
    assert topic is not None
    await h.app.store.subscriptions.put(record.person_id, topic.id, mode, h.clock.now())
    return record.person_id


def opener(h: Harness, ticks: Ticks | None = None) -> DirectChannels:
    adapter = h.adapter
    assert isinstance(adapter, OpeningAdapter)
    return DirectChannels(h.app.store, h.clock, {"test": adapter}, monotonic=ticks or Ticks())


async def test_a_subscription_through_the_command_is_opened_once_and_stored(h: Harness) -> None:
    assert h.app.direct_channels is not None
    await h.say("alice", "subscribe news", platform="test")
    assert await h.app.direct_channels.run_due() == 1
    adapter = h.adapter
    assert isinstance(adapter, OpeningAdapter) and adapter.opened == ["alice"]
    record = await h.app.store.people.identity(Identity("test", "alice"))
    assert record is not None and record.dm_channel_id == "D-alice"
    assert await h.app.direct_channels.run_due() == 0 and adapter.opened == ["alice"]


async def test_only_immediate_followers_without_a_channel_are_opened(h: Harness) -> None:
    await follow(h, "imm")
    await follow(h, "daily", DeliveryMode.DAILY)
    await follow(h, "known")
    await h.app.store.people.set_dm_channel(Identity("test", "known"), "D-known")
    assert await opener(h).run_due() == 1
    assert isinstance(h.adapter, OpeningAdapter) and h.adapter.opened == ["imm"]


async def test_closed_dms_are_recorded_and_other_refusals_wait_for_a_restart(h: Harness) -> None:
    adapter = h.adapter
    assert isinstance(adapter, OpeningAdapter)
    for user in ("closed", "gone", "fine"):
        await follow(h, user)
    adapter.open_failures["closed"] = PermanentDeliveryError("no DMs", dm_closed=True)
    adapter.open_failures["gone"] = PermanentDeliveryError("unknown user")
    first = opener(h)
    assert await first.run_due() == 1 and adapter.opened == ["fine"]
    closed = await h.app.store.people.identity(Identity("test", "closed"))
    assert closed is not None and closed.dm_closed_reason is not None and closed.dm_channel_id is None
    assert await first.run_due() == 0  # "gone" is not asked again by this opener …
    del adapter.open_failures["gone"]
    assert await opener(h).run_due() == 1 and adapter.opened == ["fine", "gone"]  # … a restarted one resumes


async def test_a_rate_limit_pauses_the_platform_until_it_lifts(h: Harness) -> None:
    adapter = h.adapter
    assert isinstance(adapter, OpeningAdapter)
    await follow(h, "a")
    await follow(h, "b")
    adapter.open_failures["a"] = TransientDeliveryError("slow down", 30.0, rate_limited=True, route="open")
    ticks = Ticks()
    paced = opener(h, ticks)
    assert await paced.run_due() == 0 and adapter.opened == []  # "b" waits too: the platform said slow down
    del adapter.open_failures["a"]
    ticks.now = 29.0
    assert await paced.run_due() == 0
    ticks.now = 30.0
    assert await paced.run_due() == 2 and adapter.opened == ["a", "b"]


async def test_it_never_takes_the_budget_while_a_delivery_is_due(h: Harness) -> None:
    person = await follow(h, "reader")
    await h.app.services.notifier.to_people([person], Message(body=("Later",)), key="later",
                                            not_before=h.clock.now() + timedelta(hours=1))
    await h.app.services.notifier.to_people([person], Message(body=("News",)), key="news")
    assert await opener(h).run_due() == 0  # "News" is due: the fan-out has the budget
    await h.app.store.outbox.claim_due(h.clock.now(), 10, "elsewhere")  # taken: nothing due now
    assert await opener(h).run_due() == 1  # only "Later" is pending, an hour ahead: time to open
