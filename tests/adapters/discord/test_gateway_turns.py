"""Several processes, one Discord bot: every process sends over REST, exactly one holds each shard's gateway, and
another takes it over when the holder goes (issue 22). Two adapters ("processes") in one test, each with its own
discord.py client and its own gateway turns over one shared store of turns: the database's advisory locks on a
PostgreSQL run (``storage.gateway_locks``), the in-memory :mod:`tests.fakes.discord_turns` on a SQLite run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters import discord as discord_adapter
from adapters.discord.client import DiscordRunner
from adapters.discord.gateway import home_shard
from adapters.discord.publish import PublishQueue
from adapters.discord.settings import DiscordSettings
from adapters.discord.turns import GatewayTurns, SoleTurns
from app.assembly import App, build_app
from app.settings import Settings
from bot.messages import Message
from bot.model import Identity, IdentityRecord, Role
from storage.action_tokens import SqliteActionTokens
from storage.publishes import SqlitePublishes
from storage.send_attempts import SqliteSendAttempts
from tests.adapters.discord.test_discord_adapter import person_of
from tests.fakes.discord_server import ALICE, ANNOUNCEMENTS, BOB, COORDINATOR_ROLE, GENERAL, FakeDiscord
from tests.fakes.discord_turns import LocalTurns, TurnTable
from tests.postgres_server import engine, storage_settings
from tests.support import FixedClock

HANDOVER_TIMEOUT = 10.0
RETRY_SECONDS = 0.2


# --- settings -----------------------------------------------------------------------------------------


def test_one_shard_unless_configured() -> None:
    assert DiscordSettings().shards == (1, (0,))
    assert DiscordSettings(shard_count=4).shards == (4, (0, 1, 2, 3))
    assert DiscordSettings(shard_count=4, shard_ids=[3, 1]).shards == (4, (3, 1))


@pytest.mark.parametrize(("fields", "says"), [
    ({"shard_count": 0}, "shard_count must be at least 1"),
    ({"shard_ids": [0]}, "shard_ids needs shard_count"),
    ({"shard_count": 2, "shard_ids": [0, 2]}, "shard_ids [2] are outside 0…1"),
    ({"shard_count": 2, "shard_ids": []}, "at least one shard"),
    ({"shard_count": 2, "shard_ids": [1, 1]}, "lists a shard twice"),
])
def test_shard_settings_that_cannot_work_are_refused(fields: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says.replace("[", r"\[").replace("]", r"\]")):
        DiscordSettings.model_validate(fields)


async def test_one_process_always_has_the_turn() -> None:
    turns = SoleTurns()
    assert await turns.try_turn(0)
    await asyncio.wait_for(turns.wait_turn(1), timeout=1)
    assert turns.held() == {0, 1}
    lost = asyncio.create_task(turns.wait_lost(0))
    await asyncio.sleep(0)
    assert not lost.done()  # never lost
    lost.cancel()


async def test_local_turns_go_to_the_next_process_waiting() -> None:
    table = TurnTable()
    first, second = LocalTurns(table, "a"), LocalTurns(table, "b")
    assert await first.try_turn(0) and not await second.try_turn(0)
    waiting = asyncio.create_task(second.wait_turn(0))
    lost = asyncio.create_task(first.wait_lost(0))
    await first.close()
    async with asyncio.timeout(1):
        await waiting
        await lost
    assert second.held() == {0} and first.held() == frozenset()


# --- two processes --------------------------------------------------------------------------------------


TurnsFactory = Callable[[str], AbstractAsyncContextManager[GatewayTurns]]


@asynccontextmanager
async def _local(table: TurnTable, name: str) -> AsyncIterator[GatewayTurns]:
    turns = LocalTurns(table, name)
    try:
        yield turns
    finally:
        await turns.close()


def turns_factory(app: App) -> TurnsFactory:
    """Each process's own turns over one shared store: the app's PostgreSQL database, or an in-memory table."""
    if engine() == "postgresql":
        from storage.gateway_locks import PostgresGatewayTurns

        url = str(app.settings.storage.target)
        return lambda name: PostgresGatewayTurns(url, retry_seconds=RETRY_SECONDS)
    table = TurnTable()
    return lambda name: _local(table, name)


def settings_for(fake: FakeDiscord) -> DiscordSettings:
    return DiscordSettings.model_validate({
        "token": fake.token, "guild_id": fake.guild_id, "api_base_url": fake.api_base, "gateway_url": fake.gateway_url,
        "member_role": "member", "coordinator_role": str(COORDINATOR_ROLE.id)})


@asynccontextmanager
async def process(app: App, fake: FakeDiscord, turns: GatewayTurns,
                  config: DiscordSettings | None = None) -> AsyncIterator[DiscordRunner]:
    """One more bot process's Discord adapter, on the app's database (its dispatcher shared: same code)."""

    async def may_forward(platform: str, channel_id: str) -> bool:
        return channel_id == str(ANNOUNCEMENTS.id)

    stores = discord_adapter.DiscordStores(
        people=app.store.people, action_tokens=SqliteActionTokens(app.db), send_attempts=SqliteSendAttempts(app.db),
        publishes=SqlitePublishes(app.db), may_forward=may_forward, forget_dm=app.store.direct_channels.forget)
    async with discord_adapter.running(config or settings_for(fake), app.dispatcher, stores, app.services.translator,
                                       app.services.clock, language="en", turns=turns) as runner:
        yield runner


@pytest.fixture
async def app(tmp_path: Path, clock: FixedClock) -> AsyncIterator[App]:
    settings = Settings.model_validate({"storage": storage_settings(tmp_path, "bot.db")})
    async with build_app(settings, clock=clock) as started:
        yield started


async def started(stack: AsyncExitStack, app: App, fake: FakeDiscord, make: TurnsFactory,
                  name: str) -> DiscordRunner:
    """A process: its turns first, so they are released after its gateway closed (as the composition root does)."""
    turns = await stack.enter_async_context(make(name))
    return await stack.enter_async_context(process(app, fake, turns))


async def help_once(fake: FakeDiscord) -> None:
    """A command goes to the gateway holder, and is answered exactly once."""
    handle = await fake.send_slash_command("help", user_id=BOB.id)
    await handle.callback()
    callbacks = fake.requests_to("POST", f"/interactions/{handle.id}/{handle.token}/callback")
    assert len(callbacks) == 1


async def test_one_process_holds_the_gateway_and_both_send_over_rest(app: App, fake: FakeDiscord) -> None:
    make = turns_factory(app)
    async with AsyncExitStack() as first_stack, AsyncExitStack() as second_stack:
        first = await started(first_stack, app, fake, make, "first")
        second = await started(second_stack, app, fake, make, "second")

        assert first.gateway_held() == {0} and second.gateway_held() == frozenset()
        assert len(fake.gateway.ready_sessions) == 1 and len(fake.gateway.identifies) == 1
        assert await first.ready() and await second.ready()  # the second sends; it need not listen
        assert second.client.get_guild(fake.guild_id) is None  # no gateway cache at all there
        await help_once(fake)

        await person_of(app, BOB.id, "bob")
        bob = await app.store.people.identity(Identity("discord", str(BOB.id)))
        assert isinstance(bob, IdentityRecord)
        text = Message(body=("Both send",)).render(app.services.translator, "en")
        await first.delivery.send_direct(bob, text, delivery_key="dm:first")
        await second.delivery.send_direct(bob, text, delivery_key="dm:second")
        assert len(fake.dm_messages_to(BOB.id)) == 2

        # A channel post, an edit and a delete from the process without a gateway.
        post = await second.delivery.send_channel(str(GENERAL.id), text, delivery_key="post:1")
        await second.delivery.edit(post, Message(body=("Edited",)).render(app.services.translator, "en"))
        [posted] = [fake.messages[int(m)] for m in post.message_ids]
        assert posted.channel_id == GENERAL.id and posted.embeds[0]["description"] == "Edited"
        await second.delivery.delete(post)
        assert posted.deleted

        # It asks Discord what the holder reads from its cache: an announcement channel's posts are published.
        news = await second.delivery.send_channel(str(ANNOUNCEMENTS.id), text, delivery_key="post:2")
        [crossposted] = [fake.messages[int(m)] for m in news.message_ids]
        await fake.wait_for(lambda: crossposted.crossposted, what="the announcement published")
        for runner in (first, second):
            assert await runner.delivery.current_role(str(ALICE.id)) is Role.COORDINATOR
            assert await runner.delivery.channel_is_public(str(GENERAL.id)) is True
        assert len(fake.gateway.identifies) == 1


async def test_the_other_process_takes_the_gateway_over_when_the_holder_stops(app: App, fake: FakeDiscord) -> None:
    make = turns_factory(app)
    async with AsyncExitStack() as second_stack:
        first_stack = AsyncExitStack()
        async with first_stack:
            await started(first_stack, app, fake, make, "first")
            second = await started(second_stack, app, fake, make, "second")
            [gateway] = second.gateways
            await help_once(fake)
            stopped_at = time.monotonic()
        # The holder is gone (gateway closed, then its turns released): the second connects by itself.
        assert fake.gateway.ready_sessions == []
        async with asyncio.timeout(HANDOVER_TIMEOUT):
            await fake.wait_for(lambda: fake.gateway.ready_sessions, what="the second process identified")
            identified = time.monotonic() - stopped_at
            await gateway.holding.wait()
        gap = time.monotonic() - stopped_at
        print(f"\nDiscord gateway handover ({engine()}): no session for {identified:.3f} s (interactions sent then "
              f"reach no process), {gap:.3f} s until the new holder's cache was ready")
        assert second.gateway_held() == {0} and len(fake.gateway.ready_sessions) == 1
        assert gap < 5.0
        await help_once(fake)
        assert len(fake.gateway.identifies) == 2


@pytest.mark.postgresql_only
async def test_a_holder_that_loses_its_database_connection_closes_its_gateway(app: App, fake: FakeDiscord) -> None:
    """Its lock went with the connection, so another process may connect: the holder must not stay connected."""
    import psycopg

    from storage.gateway_locks import PostgresGatewayTurns

    url = str(app.settings.storage.target)
    async with AsyncExitStack() as stack:
        first_turns = await stack.enter_async_context(PostgresGatewayTurns(url, retry_seconds=RETRY_SECONDS))
        first = await stack.enter_async_context(process(app, fake, first_turns))
        second = await started(stack, app, fake, lambda name: PostgresGatewayTurns(url, retry_seconds=RETRY_SECONDS),
                               "second")
        assert first.gateway_held() == {0}
        [lost], [taken] = first.gateways, second.gateways
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                                "AND classid = %s::oid AND objid = 0", (0x636F6133,))
        async with asyncio.timeout(HANDOVER_TIMEOUT):
            await taken.holding.wait()
        assert lost.lost_at is not None and not lost.live
        assert second.gateway_held() == {0} and first.gateway_held() == frozenset()
        assert len(fake.gateway.ready_sessions) == 1
        await help_once(fake)


# --- shards -----------------------------------------------------------------------------------------------


async def test_each_shard_is_answered_by_the_process_that_holds_it(app: App, fake: FakeDiscord) -> None:
    """Two shards split over two processes (``shard_ids``): the server's commands arrive on its home shard (1
    here), DMs on shard 0; each is answered once, by the process holding that shard."""
    assert home_shard(fake.guild_id, 2) == 1
    async with AsyncExitStack() as stack:
        runners = {}
        for shard in (0, 1):
            config = settings_for(fake).model_copy(update={"shard_count": 2, "shard_ids": [shard],
                                                          "global_sync": True})
            runners[shard] = await stack.enter_async_context(process(app, fake, SoleTurns(), config))
        assert [runner.gateway_held() for runner in runners.values()] == [{0}, {1}]
        assert [s.identify["shard"] for s in fake.gateway.ready_sessions] == [[0, 2], [1, 2]]
        assert runners[0].client.get_guild(fake.guild_id) is None  # shard 0 does not carry the server
        assert runners[1].client.get_guild(fake.guild_id) is not None

        in_server = await fake.send_slash_command("help", user_id=ALICE.id)
        in_dm = await fake.send_slash_command("help", user_id=ALICE.id, guild=False)
        for handle in (in_server, in_dm):
            await handle.callback()
            assert len(fake.requests_to("POST", f"/interactions/{handle.id}/{handle.token}/callback")) == 1
        # The DM's caller is still known as the coordinator: shard 0's process asked Discord for the server.
        assert fake.requests_to("GET", f"/guilds/{fake.guild_id}")
        assert await runners[0].delivery.current_role(str(ALICE.id)) is Role.COORDINATOR


async def test_only_the_process_holding_the_gateway_publishes_what_is_due(app: App, fake: FakeDiscord,
                                                                          clock: FixedClock) -> None:
    """A publish waiting for its retry is sent by one process's loop, not by every process's: two would publish
    the message twice and could together go over the channel's hourly limit."""
    make = turns_factory(app)
    async with AsyncExitStack() as stack:
        first = await started(stack, app, fake, make, "first")
        second = await started(stack, app, fake, make, "second")
        assert first.gateway_held() == {0} and second.gateway_held() == frozenset()
        text = Message(body=("News",)).render(app.services.translator, "en")
        news = await second.delivery.send_channel(str(ANNOUNCEMENTS.id), text, delivery_key="post:news")
        [posted] = [fake.messages[int(m)] for m in news.message_ids]
        await fake.wait_for(lambda: posted.crossposted, what="published at once by the process that queued it")

        store = SqlitePublishes(app.db)
        retry = await second.delivery.send_channel(str(GENERAL.id), text, delivery_key="post:retry")
        await store.add(str(GENERAL.id), retry.message_ids[0], clock.now())  # as if queued, then postponed
        crossposts = "/channels/{id}/messages/{id}/crosspost"
        before = len(fake.requests_to("POST", crossposts))
        loops = {name: PublishQueue(store, runner.client, clock, poll_seconds=0.05,
                                    active=lambda runner=runner: 0 in runner.gateway_held())
                 for name, runner in (("first", first), ("second", second))}
        idle = asyncio.create_task(loops["second"].run())
        try:
            await asyncio.sleep(0.5)  # ten rounds of the loop that does not hold the gateway
            assert len(fake.requests_to("POST", crossposts)) == before
            own = await second.delivery.send_channel(str(GENERAL.id), text, delivery_key="post:own")
            await loops["second"].enqueue(str(GENERAL.id), own.message_ids[0])  # one it queues itself goes at once
            await fake.wait_for(lambda: len(fake.requests_to("POST", crossposts)) == before + 1,
                                what="the publish it queued")
            await asyncio.sleep(0.3)
            [sent] = fake.requests_to("POST", crossposts)[before:]
            assert own.message_ids[0] in sent.path  # and only that one, not the retry
            before += 1
        finally:
            idle.cancel()
            await asyncio.wait([idle], timeout=5)
        active = asyncio.create_task(loops["first"].run())
        try:
            await fake.wait_for(lambda: len(fake.requests_to("POST", crossposts)) == before + 1,
                                what="the holder's loop sending the due publish")
        finally:
            active.cancel()
            await asyncio.wait([active], timeout=5)
