"""Several bot processes in Socket Mode (issue 22): Slack spreads envelopes over every open connection and
redelivers one not acknowledged in time, maybe on another connection. Each delivery is handled once.

Two "processes" in one test: each its own bolt app and Socket Mode connection, through the adapter's own
:func:`adapters.slack.app.running`, and its own database connection on the same storage target (the SQLite file,
or the PostgreSQL database of a PostgreSQL run). The real slack_bolt / slack_sdk against the loopback fake Slack,
which delivers an envelope on the first connection and its retry on the second — in a row, or both at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest

from adapters.slack.app import SlackRunner, running
from adapters.slack.seen import KEEP, OnceSocketModeHandler, SeenDeliveries, delivery_key
from adapters.slack.settings import SlackSettings
from app.assembly import App, build_app
from storage.database import Database
from storage.handled_events import HandledEvents
from storage.replays import SqliteReplays
from tests.adapters.slack.test_slack_adapter import ADMIN, everyone, install, slack_settings, text_of
from tests.fakes.slack_server import FakeSlack, JsonDict
from tests.postgres_server import storage_target
from tests.support import FixedClock


@asynccontextmanager
async def core(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[App]:
    """The bot without a Slack adapter of its own: the processes below bring theirs."""
    settings = slack_settings(tmp_path, fake)
    install(fake, settings)
    async with build_app(settings.model_copy(update={"slack": SlackSettings()}), clock=FixedClock()) as app:
        yield app


@asynccontextmanager
async def process(app: App, tmp_path: Path, fake: FakeSlack,
                  seen: SeenDeliveries | None = None) -> AsyncIterator[SlackRunner]:
    """One more bot process's Slack side: its own connection to the shared database, its own Socket Mode link;
    ``seen`` in place of the database's memory of deliveries, when given."""
    slack = slack_settings(tmp_path, fake).slack
    async with Database.open(storage_target(tmp_path)) as db, \
            running(slack, app.dispatcher, workspace_per_second=50.0, workspace_max_per_second=50.0,
                    language="en", replays=SqliteReplays(db), seen=seen or HandledEvents(db)) as runner:
        yield runner


@asynccontextmanager
async def two_processes(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[App]:
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(core(tmp_path, fake))
        for _ in range(2):
            await stack.enter_async_context(process(app, tmp_path, fake))
        await fake.wait_for_connections(2)
        yield app


def create_topic(fake: FakeSlack, slug: str) -> JsonDict:
    payload = fake.slash_command_payload(command="/coalition", user_id=ADMIN, text=f"topic create {slug} {slug}")
    return fake.envelope("slash_commands", payload, accepts_response_payload=True)


async def answered_in_turn(fake: FakeSlack, connection: int) -> str:
    """Run a fresh command on ``connection`` and return its answer: by then a duplicate delivered there before
    it has had every chance to answer too."""
    assert await fake.deliver(create_topic(fake, "barrier"), connection=connection) == {}
    return text_of(await fake.next_response())


def answers(fake: FakeSlack) -> list[str]:
    return [text_of(body) for _, body in fake.responses]


@pytest.mark.parametrize("same_envelope_id", [True, False], ids=["same-envelope", "new-envelope"])
async def test_a_command_retried_on_another_process_is_acknowledged_there_and_not_run_again(
        tmp_path: Path, same_envelope_id: bool) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with two_processes(tmp_path, fake) as app:
            first = create_topic(fake, "climate")
            assert await fake.deliver(first, connection=0) == {}
            assert "Topic “climate” created" in text_of(await fake.next_response())

            retry = fake.retry_of(first, same_envelope_id=same_envelope_id)
            assert await fake.deliver(retry, connection=1) == {}  # acknowledged, so Slack stops retrying
            assert "Topic “barrier” created" in await answered_in_turn(fake, connection=1)
            assert len(answers(fake)) == 2  # the retry ran nothing: no "already exists" answer
            assert await app.store.topics.by_slug("climate") is not None


async def test_a_button_click_delivered_to_both_processes_at_once_runs_once(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with two_processes(tmp_path, fake) as app:
            assert await fake.deliver(create_topic(fake, "climate"), connection=0) == {}
            await fake.next_response()
            click = fake.envelope("interactive", fake.block_actions_payload(
                user_id="UMEM", action_id="coalition:0", value="subscribe climate"))
            async with asyncio.timeout(10):
                acks = await asyncio.gather(fake.deliver(click, connection=0),
                                            fake.deliver(fake.retry_of(click, same_envelope_id=False), connection=1))
            assert acks == [{}, {}]
            assert "You now follow “climate”" in text_of(await fake.next_response())
            for connection in (0, 1):
                await answered_in_turn(fake, connection)
            followed = [text for text in answers(fake) if "follow" in text]
            assert len(followed) == 1, followed  # a second run would answer "you already follow"
            topic = await app.store.topics.by_slug("climate")
            assert topic is not None


async def test_many_commands_each_delivered_to_both_at_once_each_run_once(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with two_processes(tmp_path, fake):
            envelopes = [create_topic(fake, f"topic{n}") for n in range(6)]
            async with asyncio.timeout(20):
                await asyncio.gather(*(fake.deliver(envelope, connection=0) for envelope in envelopes),
                                     *(fake.deliver(fake.retry_of(envelope, same_envelope_id=True), connection=1)
                                       for envelope in envelopes))
                for _ in envelopes:
                    await fake.next_response()
                for connection in (0, 1):
                    await answered_in_turn(fake, connection)
            created = [text for text in answers(fake) if "created" in text and "barrier" not in text]
            assert len(created) == len(envelopes), answers(fake)
            assert len(answers(fake)) == len(envelopes) + 2


def request(envelope_type: str, payload: JsonDict, *, envelope_id: str = "e1", retry: int = 0) -> SocketModeRequest:
    parsed = SocketModeRequest.from_dict({"type": envelope_type, "envelope_id": envelope_id, "payload": payload,
                                          "retry_attempt": retry, "retry_reason": "timeout" if retry else ""})
    assert parsed is not None
    return parsed


def test_the_key_is_what_stays_the_same_across_a_retry() -> None:
    event = {"type": "event_callback", "event_id": "Ev0A1", "event": {"type": "message"}}
    assert delivery_key(request("events_api", event)) == "event:Ev0A1"
    assert delivery_key(request("events_api", event, envelope_id="e2", retry=1)) == "event:Ev0A1"
    click = {"type": "block_actions", "trigger_id": "1.2.abc", "actions": []}
    assert delivery_key(request("interactive", click)) == "trigger:1.2.abc"
    assert delivery_key(request("interactive", click, envelope_id="e2", retry=2)) == "trigger:1.2.abc"
    assert delivery_key(request("slash_commands", {"command": "/x", "trigger_id": "9.9.z"})) == "trigger:9.9.z"
    # Neither an event id nor a trigger id: only the envelope id is left.
    assert delivery_key(request("interactive", {"type": "block_suggestion"}, envelope_id="e7")) == "envelope:e7"


@dataclass
class Recording:
    """A :class:`adapters.slack.seen.SeenDeliveries` that remembers in memory, records prunes and may fail."""

    fail: bool = False
    keys: set[str] = field(default_factory=set)
    prunes: list[datetime] = field(default_factory=list)

    async def first_seen(self, key: str, now: datetime) -> bool:
        if self.fail:
            raise RuntimeError("the database is gone")
        added = key not in self.keys
        self.keys.add(key)
        return added

    async def prune(self, before: datetime) -> int:
        self.prunes.append(before)
        return 0


async def test_the_memory_failing_still_answers_the_person(tmp_path: Path) -> None:
    """A command the person sees answered beats a Slack timeout: it runs, unchecked (see adapters.slack.seen)."""
    async with FakeSlack() as fake:
        everyone(fake)
        async with core(tmp_path, fake) as app, process(app, tmp_path, fake, seen=Recording(fail=True)) as runner:
            assert isinstance(runner.socket, OnceSocketModeHandler)
            assert await fake.deliver(create_topic(fake, "climate")) == {}
            assert "Topic “climate” created" in text_of(await fake.next_response())


async def test_old_keys_are_pruned_now_and_then_not_on_every_delivery(tmp_path: Path) -> None:
    seen = Recording()
    async with FakeSlack() as fake:
        everyone(fake)
        async with core(tmp_path, fake) as app, process(app, tmp_path, fake, seen=seen):
            before = datetime.now(UTC)
            for slug in ("one", "two", "three"):
                assert await fake.deliver(create_topic(fake, slug)) == {}
                await fake.next_response()
            after = datetime.now(UTC)
    assert len(seen.keys) == 3
    [cutoff] = seen.prunes  # at the first delivery, then not again within PRUNE_EVERY
    assert before - KEEP <= cutoff <= after - KEEP
    assert KEEP >= timedelta(minutes=10)  # Slack's last retry comes about five minutes after the first delivery
