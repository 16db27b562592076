"""Issue 23, item 1: Discord at the global ceiling, and first fan-outs as fast as cached ones. The real discord.py
client, started by the composition root, against the loopback Discord that enforces the 50 requests/s global limit
and the per-route buckets; nothing of the SDK is mocked.

Speed is a benchmark's business (non-negotiable 6: `bench/fanout_platforms.py` measures the ratio to the limit and
the 429s, 10,000 recipients, in the same run); these tests check what must hold however loaded the machine is:
the pace the adapter is given, every copy delivered once, no DM opened during a fan-out, and a 429 slowing the
budget."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord.client import LATE_CREDIT, GlobalWindow, global_budget, pace_for
from app.assembly import App
from bot.commands.context import IncomingCommand
from bot.delivery.model import DeliveryKind, DeliveryStatus
from bot.delivery.pacing import AdaptiveBucket
from bot.messages import Message
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility
from tests.adapters.discord.test_discord_adapter import discord_app
from tests.fakes import discord_limits
from tests.fakes.discord_gateway import FakeUser
from tests.fakes.discord_server import ALICE, FakeDiscord
from tests.support import FixedClock

N = 300
OPEN_DM = "/users/@me/channels"
MESSAGES = "/channels/{channel_id}/messages"
USERS = [FakeUser(1_400_000_000_000_000_000 + i, f"reader{i}") for i in range(N)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(users=USERS, route_limits=discord_limits.ROUTE_LIMITS) as server:
        yield server


async def readers(app: App, fake: FakeDiscord, clock: FixedClock, *, cached: bool) -> list[int]:
    ids = []
    for user in USERS:
        identity = Identity("discord", str(user.id))
        record = await app.store.people.ensure_identity(identity, user.username, clock.now())
        if cached:
            await app.store.people.set_dm_channel(identity, str(fake.world.dm_channel_id(user.id)))
        ids.append(record.person_id)
    return ids


async def fan_out(app: App, fake: FakeDiscord, clock: FixedClock, ids: list[int], key: str, first: int) -> None:
    """Queue a DM to each of ``ids`` and send them all through the continuous pipeline, as the running bot does.

    On a starved machine the fake, which shares this event loop, can see requests bunched past Discord's limit and
    answer 429; the worker then schedules that row's retry on the bot's clock, which only this test moves — so
    while copies are missing the clock is moved past any backoff (at most 300 s); the worker polls again."""
    await app.services.notifier.to_people(ids, Message(body=("Fan-out",)), key=key)
    worker = asyncio.create_task(app.worker.run())

    def delivered() -> bool:
        return len(fake.requests_to("POST", MESSAGES)) >= first + len(ids)

    try:
        async with asyncio.timeout(120):
            while not delivered():
                fake.timeout = 10  # 300 posts at 0.96 × 50/s take about 6 s
                with contextlib.suppress(TimeoutError):
                    await fake.wait_for(delivered, what="every copy")
                if not delivered():
                    clock.advance(seconds=301)
    finally:
        app.worker.request_stop()
        async with asyncio.timeout(10):
            await worker


async def test_a_cached_fan_out_is_paced_at_the_ceiling_and_delivers_each_copy_once(
        fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> None:
    async with discord_app(fake, tmp_path, clock) as (app, runner):
        bucket = runner.outlet.bucket
        assert isinstance(bucket, AdaptiveBucket)
        assert bucket.rate == pytest.approx(pace_for(50))  # from the limit, not a guessed 40/s
        ids = await readers(app, fake, clock, cached=True)
        first = len(fake.requests_to("POST", MESSAGES))
        await fan_out(app, fake, clock, ids, "cached", first)
        assert all(len(fake.dm_messages_to(u.id)) == 1 for u in USERS)  # a 429 on a stalled loop is waited out
        assert fake.requests_to("POST", OPEN_DM) == []


async def test_a_subscribe_opens_the_dm_in_the_background_and_the_fan_out_opens_none(
        tmp_path: Path, clock: FixedClock) -> None:
    async with FakeDiscord() as fake, discord_app(fake, tmp_path, clock) as (app, _runner):
        assert app.direct_channels is not None
        await app.store.topics.create("climate", "Climate", "", Visibility.PUBLIC, Policy.OPEN, clock.now())
        opener = asyncio.create_task(app.direct_channels.run())
        try:
            alice = Identity("discord", str(ALICE.id))
            await app.dispatcher.handle(IncomingCommand(alice, "Alice", text="subscribe climate"))
            async with asyncio.timeout(10):
                await fake.wait_for(lambda: fake.requests_to("POST", OPEN_DM), what="the DM opened")
                for _ in range(1000):  # stored right after the request came back
                    record = await app.store.people.identity(alice)
                    if record is not None and record.dm_channel_id is not None:
                        break
                    await asyncio.sleep(0.01)
        finally:
            opener.cancel()
        assert record is not None and record.dm_channel_id == str(fake.dm_channel_id(ALICE.id))
        assert len(fake.requests_to("POST", OPEN_DM)) == 1
        await app.services.notifier.to_people([record.person_id], Message(body=("News",)), key="news")
        async with asyncio.timeout(10):
            while await app.worker.run_due():
                pass
        assert len(fake.dm_messages_to(ALICE.id)) == 1
        assert len(fake.requests_to("POST", OPEN_DM)) == 1  # none during the fan-out
        assert await app.direct_channels.run_due() == 0  # nothing left to open


async def test_the_first_fan_out_after_opening_ahead_opens_nothing_and_delivers_each_copy_once(
        fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> None:
    async with discord_app(fake, tmp_path, clock) as (app, _runner):
        assert app.direct_channels is not None
        topic = await app.store.topics.create("t", "T", "", Visibility.PUBLIC, Policy.OPEN, clock.now())
        ids = await readers(app, fake, clock, cached=False)
        for person_id in ids:
            await app.store.subscriptions.put(person_id, topic.id, DeliveryMode.IMMEDIATE, clock.now())
        async with asyncio.timeout(60):
            while await app.direct_channels.run_due():
                pass
        opened = len(fake.requests_to("POST", OPEN_DM))
        assert opened == N
        first = len(fake.requests_to("POST", MESSAGES))
        await fan_out(app, fake, clock, ids, "first", first)
        assert len(fake.requests_to("POST", OPEN_DM)) == opened  # none during the fan-out: it costs as cached
        assert all(len(fake.dm_messages_to(u.id)) == 1 for u in USERS)


async def test_a_global_429_slows_the_pace_down_and_it_recovers(
        tmp_path: Path, clock: FixedClock) -> None:
    async with FakeDiscord() as fake, discord_app(fake, tmp_path, clock) as (app, runner):
        bucket = runner.outlet.bucket
        assert isinstance(bucket, AdaptiveBucket)
        assert bucket.rate == pytest.approx(pace_for(50))
        record = await app.store.people.ensure_identity(Identity("discord", str(ALICE.id)), "Alice", clock.now())
        fake.queue_failure("POST", MESSAGES, retry_after=0.05, is_global=True)
        await app.services.notifier.to_people([record.person_id], Message(body=("Once",)), key="once")
        async with asyncio.timeout(10):
            while await app.worker.run_due():
                pass
        [row] = await app.store.outbox.by_kind(DeliveryKind.NOTICE)
        assert row.status is DeliveryStatus.SENT and len(fake.dm_messages_to(ALICE.id)) == 1  # waited out, sent
        assert fake.rate_limited_count == 1 and bucket.decreases == 1
        slowed = bucket.rate
        assert slowed < pace_for(50)
        bucket.clean_seconds = 0.05  # a clean minute, shortened
        async with asyncio.timeout(10):
            while bucket.rate < pace_for(50):
                await bucket.acquire()
                await asyncio.sleep(0.06)
        assert bucket.rate == pytest.approx(pace_for(50))  # back to the ceiling, never beyond
        assert bucket.decreases == 1


async def test_a_stale_dm_channel_is_reopened_once(tmp_path: Path, clock: FixedClock) -> None:
    async with FakeDiscord() as fake, discord_app(fake, tmp_path, clock) as (app, _runner):
        alice = Identity("discord", str(ALICE.id))
        record = await app.store.people.ensure_identity(alice, "Alice", clock.now())
        await app.store.people.set_dm_channel(alice, "999999999999999999")  # Discord no longer knows it
        await app.services.notifier.to_people([record.person_id], Message(body=("Hello",)), key="hello")
        async with asyncio.timeout(10):
            while await app.worker.run_due():
                pass
        [row] = await app.store.outbox.by_kind(DeliveryKind.NOTICE)
        assert row.status is DeliveryStatus.SENT and len(fake.dm_messages_to(ALICE.id)) == 1
        assert len(fake.requests_to("POST", OPEN_DM)) == 1
        stored = await app.store.people.identity(alice)
        assert stored is not None and stored.dm_channel_id == str(fake.dm_channel_id(ALICE.id))


def clocked_window() -> tuple[GlobalWindow, list[float], list[float]]:
    """A window for Discord's 50/s on a clock the test moves: (window, [now], the sleeps it asked for)."""
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    return GlobalWindow(50, monotonic=lambda: now[0], sleep=sleep), now, slept


async def test_the_window_before_the_wire_spaces_a_bunch_evenly_and_keeps_two_under_the_limit() -> None:
    window, now, _slept = clocked_window()
    stamps = []
    for _ in range(60):  # a bunch released together by a busy event loop
        await window.admit()
        stamps.append(now[0])
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) == pytest.approx(1 / 49)  # never closer than 1/49 s on the wire
    assert max(sum(1 for s in stamps if start <= s < start + 1.0) for start in stamps) == 48
    # Spaced like this, a window of 1.04 s (Discord's second, arrivals shifted up to 40 ms) still holds 50 at most.
    assert max(sum(1 for s in stamps if start <= s < start + 1.04) for start in stamps) <= 50


async def test_the_window_lets_a_request_through_at_once_after_a_quiet_spell() -> None:
    window, now, slept = clocked_window()
    await window.admit()
    now[0] = 5.0
    await window.admit()
    assert slept == []


async def test_the_bucket_never_paces_faster_than_the_window_lets_through() -> None:
    for limit in (50, 100, 10):
        bucket, window = global_budget(limit), GlobalWindow(limit)
        assert bucket.ceiling is not None and bucket.ceiling <= window.most
    assert global_budget(50).ceiling == pytest.approx(48.0)  # 0.96 of Discord's 50/s: the window's most


def late_clocked_window(late: list[float]) -> tuple[GlobalWindow, list[float]]:
    """A window whose every sleep wakes ``late[0]`` seconds after it was due, as a busy event loop's does."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds + late[0]

    return GlobalWindow(50, monotonic=lambda: now[0], sleep=sleep), now


async def test_a_late_wake_up_does_not_stretch_every_gap_that_follows() -> None:
    """Spacing each request from the last one's late departure lost that lateness in every gap (issue 23's
    profile: 47.3 requests a second on the wire instead of 48). On a schedule it keeps 48."""
    window, now = late_clocked_window([0.0006])
    stamps = []
    for _ in range(48 * 10 + 1):
        await window.admit()
        stamps.append(now[0])
    assert (len(stamps) - 1) / (stamps[-1] - stamps[0]) >= 47.9  # spaced from each late departure: 47.6
    assert max(sum(1 for s in stamps if start <= s < start + 1.0) for start in stamps) == 48
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 1 / 49 - LATE_CREDIT - 1e-9
    assert max(sum(1 for s in stamps if start <= s < start + 1.04) for start in stamps) <= 50


async def test_a_stalled_loop_starts_the_spacing_afresh_instead_of_sending_a_bunch() -> None:
    late = [0.0]
    window, now = late_clocked_window(late)
    stamps = []
    for number in range(20):
        late[0] = 0.3 if number == 5 else 0.0  # this request's wake-up comes 300 ms late
        await window.admit()
        stamps.append(now[0])
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert max(gaps) == pytest.approx(0.3 + 1 / 49)
    assert min(gaps) == pytest.approx(1 / 49)  # the slots the stall took are not made up at once


async def test_waiters_go_on_the_wire_in_the_order_they_came() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)
        now[0] += seconds

    window = GlobalWindow(50, monotonic=lambda: now[0], sleep=sleep)
    order: list[int] = []

    async def request(number: int) -> None:
        await window.admit()
        order.append(number)

    async with asyncio.timeout(5):
        await asyncio.gather(*(request(number) for number in range(60)))
    assert order == list(range(60))
    assert now[0] == pytest.approx(1.0 + 11 / 49)  # 48 in the first second, then spaced


async def test_an_interaction_response_is_admitted_at_once_while_the_window_is_full() -> None:
    window, now, slept = clocked_window()
    for _ in range(window.most):  # a fan-out has filled this second
        await window.admit("/api/v10/channels/1/messages")
    filled, waits = now[0], len(slept)
    await window.admit("/api/v10/interactions/123/token/callback")  # Discord does not count it: no wait
    await window.admit("/api/v10/webhooks/456/token/messages/@original")
    assert len(slept) == waits and now[0] == filled
    await window.admit("/api/v10/channels/1/messages")  # the next DM still waits its turn
    assert now[0] == pytest.approx(1.0)


async def test_opening_dms_too_fast_pauses_the_opener_instead_of_failing_people(
        fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> None:
    async with discord_app(fake, tmp_path, clock) as (app, _runner):
        assert app.direct_channels is not None
        topic = await app.store.topics.create("t", "T", "", Visibility.PUBLIC, Policy.OPEN, clock.now())
        ids = await readers(app, fake, clock, cached=False)
        for person_id in ids[:2]:
            await app.store.subscriptions.put(person_id, topic.id, DeliveryMode.IMMEDIATE, clock.now())
        fake.queue_failure("POST", OPEN_DM, status=400, code=40003,
                           message="You are opening direct messages too fast.")
        async with asyncio.timeout(10):
            assert await app.direct_channels.run_due() == 0
            assert await app.direct_channels.run_due() == 0  # paused: nobody else is asked meanwhile
        assert len(fake.requests_to("POST", OPEN_DM)) == 1
        for user in USERS[:2]:
            record = await app.store.people.identity(Identity("discord", str(user.id)))
            assert record is not None and record.dm_closed_reason is None and record.dm_channel_id is None
