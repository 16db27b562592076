"""Each Discord interaction is handled once, however many gateway sessions receive it (issue 22).

During a takeover two sessions of one shard can both receive an ``INTERACTION_CREATE``, and a resumed session may
be sent one again. The real discord.py client, against the fake Discord, gets the same interaction (same id) more
than once — twice at the same moment and once more after the first was answered, on one client; once on each of two
clients (two "processes", each its own connection to the one database of this run) — and exactly one copy is
handled and answered: the others are claimed too late (``storage/handled_events.py``) and left unanswered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest

from adapters import discord as discord_adapter
from adapters.discord.client import DiscordRunner
from adapters.discord.once import CLAIM_SECONDS, KEEP, interaction_key
from adapters.discord.stores import SeenDeliveries
from adapters.discord.turns import SoleTurns
from app.assembly import App, build_app
from app.settings import Settings
from bot.topics.model import Visibility
from storage.action_tokens import SqliteActionTokens
from storage.database import Database, to_db_time
from storage.handled_events import HandledEvents
from storage.publishes import SqlitePublishes
from storage.send_attempts import SqliteSendAttempts
from tests.adapters.discord.test_discord_adapter import make_topics
from tests.adapters.discord.test_gateway_turns import settings_for
from tests.fakes.discord_gateway import InteractionHandle
from tests.fakes.discord_server import ALICE, BOB, FakeDiscord
from tests.postgres_server import storage_settings
from tests.support import FixedClock

WAIT = 5.0


class RecordingSeen:
    """The database's memory, keeping each claim's verdict so that a test can wait until every copy was claimed."""

    def __init__(self, inner: SeenDeliveries) -> None:
        self._inner = inner
        self.verdicts: dict[str, list[bool]] = {}
        self.prunes: list[datetime] = []
        self._claimed = asyncio.Condition()

    async def first_seen(self, key: str, now: datetime) -> bool:
        first = await self._inner.first_seen(key, now)
        async with self._claimed:
            self.verdicts.setdefault(key, []).append(first)
            self._claimed.notify_all()
        return first

    async def prune(self, before: datetime) -> int:
        self.prunes.append(before)
        return await self._inner.prune(before)

    async def claims(self, key: str, count: int) -> list[bool]:
        """The verdicts on ``key`` once ``count`` copies of it were claimed (by this process)."""
        async with asyncio.timeout(WAIT), self._claimed:
            await self._claimed.wait_for(lambda: len(self.verdicts.get(key, [])) >= count)
        return self.verdicts[key]


class BrokenSeen:
    """A memory whose database is down."""

    async def first_seen(self, key: str, now: datetime) -> bool:
        raise ConnectionError("the database is unreachable")

    async def prune(self, before: datetime) -> int:
        raise ConnectionError("the database is unreachable")


class StuckSeen:
    """A memory whose claim waits behind another process's long write."""

    async def first_seen(self, key: str, now: datetime) -> bool:
        await asyncio.sleep(30)
        return True

    async def prune(self, before: datetime) -> int:
        return 0


@pytest.fixture
async def app(tmp_path: Path, clock: FixedClock) -> AsyncIterator[App]:
    settings = Settings.model_validate({"storage": storage_settings(tmp_path, "bot.db")})
    async with build_app(settings, clock=clock) as started:
        yield started


@asynccontextmanager
async def process(app: App, fake: FakeDiscord, db: Database,
                  seen: SeenDeliveries | None) -> AsyncIterator[DiscordRunner]:
    """A bot process's Discord adapter on ``db``, claiming interactions in ``seen``; it holds the gateway whether
    or not another process does (:class:`SoleTurns`), as two processes briefly do during a takeover."""

    async def may_forward(platform: str, channel_id: str) -> bool:
        return False

    stores = discord_adapter.DiscordStores(
        people=app.store.people, action_tokens=SqliteActionTokens(db), send_attempts=SqliteSendAttempts(db),
        publishes=SqlitePublishes(db), may_forward=may_forward, seen=seen)
    async with discord_adapter.running(settings_for(fake), app.dispatcher, stores, app.services.translator,
                                       app.services.clock, language="en", turns=SoleTurns()) as runner:
        yield runner


def answers(fake: FakeDiscord, handle: InteractionHandle) -> int:
    """Every answer the bot tried to give ``handle``: its callbacks and follow-ups, accepted by the fake or not."""
    return len(fake.requests_to("POST", f"/interactions/{handle.id}/{handle.token}/callback")) + \
        len(fake.requests_to("POST", f"/webhooks/{fake.application_id}/{handle.token}"))


async def settle(fake: FakeDiscord) -> None:
    """Until the client has dealt with what was sent before: it answers a new command only after reading them."""
    later = await fake.send_slash_command("help", user_id=BOB.id)
    await later.callback()


async def a_command(app: App, fake: FakeDiscord) -> InteractionHandle:
    return await fake.send_slash_command("whoami", user_id=BOB.id)


async def an_autocomplete(app: App, fake: FakeDiscord) -> InteractionHandle:
    return await fake.send_autocomplete("subscribe", {"topic": "cl"}, focused="topic", user_id=BOB.id)


async def a_click(app: App, fake: FakeDiscord) -> InteractionHandle:
    await make_topics(app)
    listed = await fake.send_slash_command("topics", user_id=BOB.id)
    await listed.callback()
    assert listed.original is not None
    subscribe = next(c["custom_id"] for row in listed.original.components for c in row["components"]
                     if c["label"] == "Subscribe to climate")
    return await fake.send_component(subscribe, user_id=BOB.id, message=listed.original)


async def a_modal(app: App, fake: FakeDiscord) -> InteractionHandle:
    shown = await fake.send_slash_command("topic create", {"slug": "water", "visibility": "public"}, user_id=ALICE.id)
    body = await shown.callback()
    return await fake.send_modal_submit(body["data"]["custom_id"], {"title": "Clean water for all"})


@pytest.mark.parametrize("send", [a_command, a_click, a_modal], ids=["slash-command", "button", "modal"])
async def test_the_same_interaction_received_again_by_one_session_is_handled_once(
        app: App, fake: FakeDiscord, send: Callable[[App, FakeDiscord], Awaitable[InteractionHandle]]) -> None:
    seen = RecordingSeen(HandledEvents(app.db))
    # A modal is forgotten once submitted: a copy arriving after that reaches nothing to claim (nor to run).
    claimed = 2 if send is a_modal else 3
    async with process(app, fake, app.db, seen):
        handle = await send(app, fake)
        await fake.dispatch("INTERACTION_CREATE", handle.payload)  # a second copy while the first is handled
        first_answer = await handle.callback()
        await fake.dispatch("INTERACTION_CREATE", handle.payload)  # replayed after a resume

        key = interaction_key(handle.id)
        assert await seen.claims(key, claimed) == [True] + [False] * (claimed - 1)
        await settle(fake)
        assert seen.verdicts[key] == [True] + [False] * (claimed - 1)
        assert answers(fake, handle) == 1 and handle.callback_body == first_answer
    if send is a_modal:  # what the submission does was done once
        topic = await app.store.topics.by_slug("water")
        assert topic is not None and topic.title == "Clean water for all" and topic.visibility is Visibility.PUBLIC


async def test_an_autocomplete_is_answered_without_a_claim(app: App, fake: FakeDiscord) -> None:
    """Suggestions change nothing and come at every keystroke: no write for them (a copy answered twice is
    harmless, Discord keeps the first answer)."""
    seen = RecordingSeen(HandledEvents(app.db))
    async with process(app, fake, app.db, seen):
        handle = await an_autocomplete(app, fake)
        body = await handle.callback()
        assert body["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT: answered
        assert seen.verdicts == {}


async def test_two_sessions_receiving_one_interaction_handle_it_once(app: App, fake: FakeDiscord) -> None:
    """Two processes, each with its own gateway session on the shard and its own connection to the database: the
    fake sends the interaction to both, and only the one whose claim wins answers."""
    async with AsyncExitStack() as stack:
        other_db = await stack.enter_async_context(Database.open(app.settings.storage.target))
        seen = [RecordingSeen(HandledEvents(db)) for db in (app.db, other_db)]
        first = await stack.enter_async_context(process(app, fake, app.db, seen[0]))
        second = await stack.enter_async_context(process(app, fake, other_db, seen[1]))
        assert first.gateway_held() == second.gateway_held() == {0}
        assert len(fake.gateway.ready_sessions) == 2

        for _ in range(5):  # each time, either process may win
            handle = await fake.send_slash_command("whoami", user_id=BOB.id)
            await handle.callback()
            key = interaction_key(handle.id)
            assert sorted(await seen[0].claims(key, 1) + await seen[1].claims(key, 1)) == [False, True]
        await settle(fake)
        await settle(fake)
        handles = [h for h in fake.interactions.values() if h.payload["data"]["name"] == "whoami"]
        assert len(handles) == 5 and all(answers(fake, h) == 1 for h in handles)


async def pruned(stored: HandledEvents, left: int) -> None:
    """Until the prune that runs beside the handling has left ``left`` keys."""
    async with asyncio.timeout(WAIT):
        while await stored.count() != left:  # noqa: ASYNC110 (the count is in the database: nothing to wait on)
            await asyncio.sleep(0.01)


async def test_old_interactions_are_forgotten_as_new_ones_come_in(
        app: App, fake: FakeDiscord, clock: FixedClock) -> None:
    """Retention: the keys older than an hour go, whichever platform's, at most every ten minutes."""
    stored = HandledEvents(app.db)
    seen = RecordingSeen(stored)
    await app.db.execute("INSERT INTO handled_events (delivery_key, seen_at) VALUES (?, ?), (?, ?)",
                         (interaction_key(1), to_db_time(clock.now() - 2 * KEEP),
                          "event:Ev1", to_db_time(clock.now() - 2 * KEEP)))
    async with process(app, fake, app.db, seen):
        await (await fake.send_slash_command("help", user_id=BOB.id)).callback()
        await pruned(stored, 1)  # beside the handling: only the new key is left
        assert seen.prunes == [clock.now() - KEEP]
        clock.advance(minutes=5)
        await (await fake.send_slash_command("help", user_id=BOB.id)).callback()
        assert len(seen.prunes) == 1
        clock.advance(minutes=6)
        await (await fake.send_slash_command("help", user_id=BOB.id)).callback()
        async with asyncio.timeout(WAIT):
            while len(seen.prunes) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await pruned(stored, 3)  # none is an hour old
        assert seen.prunes[-1] == clock.now() - KEEP and len(seen.prunes) == 2
    assert await stored.first_seen(interaction_key(1), clock.now())  # forgotten, so new again


async def test_an_interaction_is_still_answered_when_the_memory_is_unreachable(app: App, fake: FakeDiscord) -> None:
    async with process(app, fake, app.db, BrokenSeen()):
        handle = await fake.send_slash_command("whoami", user_id=BOB.id)
        assert (await handle.callback())["type"] == 4


async def test_an_interaction_is_answered_in_time_when_the_claim_waits_too_long(app: App, fake: FakeDiscord) -> None:
    """Discord wants an answer within 3 seconds: a claim stuck behind the write lock is given up on, and the
    interaction handled, as when the database is unreachable."""
    async with process(app, fake, app.db, StuckSeen()):
        started = time.monotonic()
        handle = await fake.send_slash_command("whoami", user_id=BOB.id)
        assert (await handle.callback())["type"] == 4
        assert time.monotonic() - started < CLAIM_SECONDS + 1.5


async def test_without_a_memory_every_copy_is_handled(app: App, fake: FakeDiscord) -> None:
    """What the claim prevents (one process alone may run without it): the second copy is handled too, and its
    answer refused by Discord."""
    async with process(app, fake, app.db, None):
        handle = await fake.send_slash_command("whoami", user_id=BOB.id)
        await handle.callback()
        await fake.dispatch("INTERACTION_CREATE", handle.payload)
        await fake.wait_for(lambda: answers(fake, handle) >= 2, what="the second copy answered")
    assert await HandledEvents(app.db).count() == 0
