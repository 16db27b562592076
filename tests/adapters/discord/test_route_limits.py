"""Discord limits per route (issue 16, item 3). discord.py waits out the global limit and short per-route waits
itself; what reaches the bot (``discord.RateLimited``) is a long limit on one route — opening DMs, or one
channel. Only that route waits: DMs already open and other channels go on, and the route is not asked again
until the limit lifts (repeated 429s count towards Discord's ban of 10,000 invalid requests in 10 minutes). The
real discord.py client, through the real delivery worker, against the fake Discord with faults armed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from adapters.discord.client import DiscordRunner
from app.assembly import App, build_app
from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, NewDelivery
from bot.delivery.payloads import NoticePayload
from bot.messages import Message
from bot.model import Identity
from tests.adapters.discord.test_discord_adapter import discord_settings, person_of
from tests.fakes.discord_server import ALICE, BOB, GENERAL, OWNER, FakeDiscord
from tests.fakes.faults import RATE_LIMITED, Fault
from tests.support import FixedClock, english

OPEN_DM = "POST /users/@me/channels"
POST_MESSAGE = "POST /channels/{channel_id}/messages"
TEXT = "Meeting moved to Thursday"


@asynccontextmanager
async def one_at_a_time(fake: FakeDiscord, tmp_path: Path,
                        clock: FixedClock) -> AsyncIterator[tuple[App, DiscordRunner]]:
    """One send at a time, so request counts are exact: with concurrent sends, requests already in flight when
    the first 429 comes back get their own answer; none starts once the route is limited."""
    settings = discord_settings(fake, tmp_path)
    settings.delivery.concurrency = 1
    async with build_app(settings, clock=clock) as app:
        [runner] = app.platform_runners
        assert isinstance(runner, DiscordRunner)
        yield app, runner


async def dm_already_open(app: App, fake: FakeDiscord, user_id: int) -> int:
    person = await person_of(app, user_id, str(user_id))
    await app.store.people.set_dm_channel(Identity("discord", str(user_id)), str(fake.world.dm_channel_id(user_id)))
    return person


async def post_in(app: App, channel_id: int, key: str) -> None:
    now = app.services.clock.now()
    await app.store.outbox.enqueue([NewDelivery(
        dedupe_key=key, kind=DeliveryKind.MEETING_NOTICE, not_before=now, platform="discord",
        channel_id=str(channel_id), payload=NoticePayload(Message(body=(TEXT,))))], now)


async def drain(app: App) -> None:
    async with asyncio.timeout(10):  # a guard only: nothing here waits for a limit to lift
        while await app.worker.run_due():
            pass


def held_for_the_route(row: Delivery, start: datetime, seconds: float) -> bool:
    """Waiting for the route's limit (time left by the adapter's monotonic clock), with no attempt counted and
    no retry deadline started."""
    return (row.status is DeliveryStatus.PENDING and row.attempts == 0 and row.retrying_since is None
            and english(row.reason) == "Discord: rate limited."
            and start + timedelta(seconds=seconds - 1) <= row.not_before <= start + timedelta(seconds=seconds))


async def test_a_dm_open_limit_holds_only_the_dms_still_to_open(tmp_path: Path, clock: FixedClock) -> None:
    start = clock.now()
    async with FakeDiscord() as fake, one_at_a_time(fake, tmp_path, clock) as (app, runner):
        alice = await dm_already_open(app, fake, ALICE.id)
        bob, owner = await person_of(app, BOB.id, "bob"), await person_of(app, OWNER.id, "owner")
        fake.faults.add(Fault(OPEN_DM, RATE_LIMITED, times=None, retry_after=60))
        await app.services.notifier.to_people([alice, bob, owner], Message(body=(TEXT,)), key="moved")
        await post_in(app, GENERAL.id, "topic")
        await drain(app)

        rows = {row.person_id: row for row in await app.store.outbox.by_kind("notice")}
        assert rows[alice].status is DeliveryStatus.SENT and len(fake.dm_messages_to(ALICE.id)) == 1
        [post] = await app.store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)
        assert post.status is DeliveryStatus.SENT and len(fake.messages_in(GENERAL.id)) == 1
        assert held_for_the_route(rows[bob], start, 60) and held_for_the_route(rows[owner], start, 60)
        assert len(fake.requests_to("POST", "/users/@me/channels")) == 1  # the other was refused here
        assert fake.invalid_request_count == 1
        assert await app.store.circuits.get("discord") is None  # Discord itself is not paused
        bucket = runner.outlet.bucket
        assert bucket is not None and bucket.delay() < 1  # nor slowed down


async def test_one_channels_limit_holds_only_that_channel(tmp_path: Path, clock: FixedClock) -> None:
    start = clock.now()
    async with FakeDiscord() as fake, one_at_a_time(fake, tmp_path, clock) as (app, _):
        alice = await dm_already_open(app, fake, ALICE.id)
        bob = await person_of(app, BOB.id, "bob")
        fake.faults.add(Fault(POST_MESSAGE, RATE_LIMITED, times=None, retry_after=90,
                              where=lambda p: p.get("channel_id") == str(GENERAL.id)))
        await post_in(app, GENERAL.id, "first")
        await post_in(app, GENERAL.id, "second")
        await app.services.notifier.to_people([alice, bob], Message(body=(TEXT,)), key="moved")
        await drain(app)

        assert {row.status for row in await app.store.outbox.by_kind("notice")} == {DeliveryStatus.SENT}
        assert [len(fake.dm_messages_to(u.id)) for u in (ALICE, BOB)] == [1, 1]
        posts = await app.store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)
        assert len(posts) == 2 and all(held_for_the_route(row, start, 90) for row in posts)
        assert len(fake.requests_to("POST", f"/channels/{GENERAL.id}/messages")) == 1
        assert fake.invalid_request_count == 1 and fake.messages_in(GENERAL.id) == []
        assert await app.store.circuits.get("discord") is None
