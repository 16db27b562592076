"""DirectChannels (issue 23): DM channels opened ahead of fan-outs, through the real app and SQLite, with a
recording adapter that opens DMs. The database is the only state that matters: a new opener resumes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery import direct_channels
from bot.delivery.direct_channels import RETRY_FAILED_SECONDS, DirectChannels
from bot.delivery.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from bot.delivery.model import SentMessage
from bot.delivery.pacing import TokenBucket
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
    claimed = await h.app.store.outbox.claim_due(h.clock.now(), 10, "elsewhere")
    assert [row.dedupe_key for row in claimed] == [f"news:person:{person}"]
    assert await opener(h).run_due() == 0  # "News" is being sent: still the fan-out's budget
    await h.app.store.outbox.mark_sent(claimed[0].id, SentMessage("test", "D-reader", ("1",)), h.clock.now())
    assert await opener(h).run_due() == 1  # only "Later" is pending, an hour ahead: time to open


async def test_a_row_handed_back_for_soon_still_holds_the_budget(h: Harness) -> None:
    person = await follow(h, "reader")
    await h.app.services.notifier.to_people([person], Message(body=("Soon",)), key="soon",
                                            not_before=h.clock.now() + timedelta(seconds=30))
    assert await opener(h).run_due() == 0
    h.clock.advance(minutes=5)
    claimed = await h.app.store.outbox.claim_due(h.clock.now(), 10, "elsewhere")
    await h.app.store.outbox.mark_sent(claimed[0].id, SentMessage("test", "D-reader", ("1",)), h.clock.now())
    assert await opener(h).run_due() == 1


async def test_a_delivery_due_on_another_platform_does_not_hold_this_one(h: Harness) -> None:
    await follow(h, "reader")
    elsewhere = await h.app.store.people.ensure_identity(Identity("other", "bob"), "bob", h.clock.now())
    await h.app.services.notifier.to_people([elsewhere.person_id], Message(body=("News",)), key="news")
    assert await opener(h).run_due() == 1  # bob's DM goes out on "other": "test" is idle


async def test_it_waits_for_the_platform_budget_to_have_a_token_spare(h: Harness) -> None:
    await follow(h, "reader")
    ticks = Ticks()
    bucket = TokenBucket(1.0, 1.0, monotonic=ticks)
    bucket.penalise(10.0)  # someone else's requests hold the budget for ten seconds
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        ticks.now += seconds

    adapter = h.adapter
    assert isinstance(adapter, OpeningAdapter)
    paced = DirectChannels(h.app.store, h.clock, {"test": adapter}, budgets={"test": bucket}, monotonic=ticks,
                           sleep=sleep)
    assert await paced.run_due() == 0 and adapter.opened == [] and slept == []
    ticks.now = 10.5  # a token is near: it waits that long, no longer, and opens
    assert await paced.run_due() == 1 and adapter.opened == ["reader"]
    assert len(slept) == 1 and slept[0] <= 1.0


async def test_only_subscribers_of_live_topics_on_their_dm_platform_are_opened(h: Harness) -> None:
    await follow(h, "live")
    archived = await follow(h, "archived-only")
    await h.app.db.execute("DELETE FROM subscriptions WHERE person_id = ?", (archived,))
    await h.app.store.topics.create("old", "Old", "", Visibility.PUBLIC, Policy.OPEN, h.clock.now())
    old = await h.app.store.topics.by_slug("old")
    assert old is not None
    await h.app.store.subscriptions.put(archived, old.id, DeliveryMode.IMMEDIATE, h.clock.now())
    await h.app.db.execute("UPDATE topics SET archived = 1 WHERE id = ?", (old.id,))
    elsewhere = await follow(h, "prefers-other")
    await h.app.store.people.ensure_identity(Identity("other", "po"), "po", h.clock.now())
    await h.app.db.execute("UPDATE identities SET person_id = ? WHERE platform = 'other'", (elsewhere,))
    await h.app.db.execute("UPDATE people SET preferred_platform = 'other' WHERE id = ?", (elsewhere,))
    assert await opener(h).run_due() == 1
    assert isinstance(h.adapter, OpeningAdapter) and h.adapter.opened == ["live"]


async def test_pages_follow_one_another_past_those_that_failed(h: Harness) -> None:
    adapter = h.adapter
    assert isinstance(adapter, OpeningAdapter)
    users = [f"u{n}" for n in range(7)]
    for user in users:
        await follow(h, user)
    adapter.open_failures["u0"] = PermanentDeliveryError("unknown user")
    adapter.open_failures["u1"] = PermanentDeliveryError("unknown user")
    paged = DirectChannels(h.app.store, h.clock, {"test": adapter}, batch=2, monotonic=Ticks())
    assert await paged.run_due() == 5 and adapter.opened == users[2:]
    assert await paged.run_due() == 0 and adapter.opened == users[2:]  # the failed are not asked again


async def test_closed_dms_reopened_by_talking_are_asked_again_at_most_once_a_day(h: Harness) -> None:
    adapter = h.adapter
    assert isinstance(adapter, OpeningAdapter)
    await h.say("closed", "subscribe news", platform="test")
    adapter.open_failures["closed"] = PermanentDeliveryError("no DMs", dm_closed=True)
    ticks = Ticks()
    paced = opener(h, ticks)
    assert await paced.run_due() == 0
    del adapter.open_failures["closed"]
    await h.say("closed", "help", platform="test")  # talking to the bot reopens their DMs for sending …
    record = await h.app.store.people.identity(Identity("test", "closed"))
    assert record is not None and record.dm_closed_reason is None
    ticks.now = 3600.0
    assert await paced.run_due() == 0 and adapter.opened == []  # … but the opener waits a day from its failure
    ticks.now = RETRY_FAILED_SECONDS
    assert await paced.run_due() == 1 and adapter.opened == ["closed"]


async def test_who_failed_is_remembered_for_a_bounded_number(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = h.adapter
    assert isinstance(adapter, OpeningAdapter)
    monkeypatch.setattr(direct_channels, "FAILED_CAP", 2)
    for user in ("a", "b", "c"):
        await follow(h, user)
        adapter.open_failures[user] = PermanentDeliveryError("unknown user")
    paced = opener(h)
    assert await paced.run_due() == 0
    del adapter.open_failures["a"]
    assert await paced.run_due() == 1 and adapter.opened == ["a"]  # the oldest failure was forgotten
