"""Operations endpoints against the real app: the console and a Discord connection (the real discord.py client
against the loopback fake), a real SQLite file, and the site served on loopback.

The worker and the dispatcher that report here are built from the running app's own services with a
:class:`PrometheusMetrics` handed to their constructors, as the composition root does."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientTimeout, web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from adapters.discord.client import DiscordRunner
from adapters.web.ops import Probe, always_ready, discord_gateway, ops_routes, slack_socket
from adapters.web.prometheus import PrometheusMetrics
from adapters.web.server import build_site
from app.assembly import App, build_app, delivery_config
from app.commands import autocomplete, bound_commands
from app.settings import Settings
from bot.commands.context import IncomingCommand
from bot.commands.dispatcher import Dispatcher, Reply
from bot.delivery.model import DeliveryKind, DeliveryStatus
from bot.delivery.wakeup import Wakeup
from bot.delivery.worker import DeliveryWorker, LeaseConfig, Outlet
from bot.metrics import HealthStore
from bot.model import Identity, Role
from storage.health import SqliteHealth
from tests.fakes.discord_server import ALICE, FakeDiscord
from tests.postgres_server import storage_settings
from tests.support import FixedClock

WAIT = 30.0
"""Every request and every delivery round is bounded by this."""
TOPIC_TITLE = "Quokka Privacy Circle"
ANNOUNCEMENT = "Zebrafinch briefing moved to the annex"
ALICE_NAME = "alice-wonderhue"
TYPED_BY_SOMEONE = "frobnicate-the-wibble"


@dataclass
class Ops:
    app: App
    runner: DiscordRunner
    metrics: PrometheusMetrics
    dispatcher: Dispatcher
    worker: DeliveryWorker
    client: TestClient[web.Request, web.Application]

    async def say(self, identity: Identity, text: str, *, role: Role = Role.OUTSIDER) -> Reply:
        return await self.dispatcher.handle(IncomingCommand(identity=identity, display_name=identity.external_id
                                                            if identity.platform == "console" else ALICE_NAME,
                                                            text=text, platform_role=role))

    async def deliver(self) -> None:
        async with asyncio.timeout(WAIT):
            while await self.worker.run_due():
                pass


def settings(fake: FakeDiscord, tmp_path: Path) -> Settings:
    return Settings(
        discord={"token": fake.token, "guild_id": fake.guild_id, "api_base_url": fake.api_base,
                 "gateway_url": fake.gateway_url},
        console={"enabled": True}, coalition={"admins": ["console:ops-admin"]},
        storage=storage_settings(tmp_path, "bot.db"))


TOKEN = "scrape-secret"


@asynccontextmanager
async def serving(app: App, platforms: Mapping[str, Probe], metrics: PrometheusMetrics,
                  health: HealthStore | None = None) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    site = build_site([ops_routes(health or SqliteHealth(app.db), platforms, metrics, metrics_token=TOKEN,
                                  check_seconds=1.0)])
    async with TestClient(TestServer(site, host="127.0.0.1"), timeout=ClientTimeout(total=WAIT),
                          headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def ops(fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Ops]:
    async with build_app(settings(fake, tmp_path), clock=clock, console_output=io.StringIO()) as app:
        [runner] = app.platform_runners
        assert isinstance(runner, DiscordRunner) and app.console is not None
        metrics = PrometheusMetrics()
        services = app.services
        dispatcher = Dispatcher(bound_commands(services), services.people, services.translator, services.clock,
                                autocomplete(services), metrics=metrics)
        announcements = services.announcements
        worker = DeliveryWorker(
            app.store, clock, services.translator, services.people, [runner.outlet, Outlet(app.console)],
            builders={DeliveryKind.ANNOUNCEMENT: announcements.build, DeliveryKind.REPORT: announcements.build},
            config=delivery_config(app.settings.delivery), wakeup=Wakeup(),
            after_batch=(announcements.after_batch,), lease=LeaseConfig(holder="ops-test"), metrics=metrics)
        await worker.start()
        try:
            async with serving(app, {"discord": discord_gateway(runner.client)}, metrics) as client:
                yield Ops(app, runner, metrics, dispatcher, worker, client)
        finally:
            await worker.close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and sorted labels (the parser refuses a malformed one)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


ADMIN = Identity("console", "ops-admin")
ALICE_ID = Identity("discord", str(ALICE.id))


async def test_healthz_answers_while_the_process_runs(ops: Ops) -> None:
    response = await ops.client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_is_ready_then_names_discord_once_its_gateway_is_down(ops: Ops, fake: FakeDiscord) -> None:
    response = await ops.client.get("/readyz")
    assert response.status == 200, await response.text()
    assert await response.json() == {"status": "ready"}

    await ops.runner.client.close()  # the gateway connection ends (build_app's exit closes it again: a no-op)

    response = await ops.client.get("/readyz")
    body = await response.text()
    assert response.status == 503
    assert await response.json() == {"status": "not ready", "not_ready": ["discord"]}
    assert fake.token not in body


class _Unanswering:
    """A database that does not answer (locked, gone): what ``/readyz`` and a scrape meet then."""

    async def ping(self) -> None:
        raise OSError("disk I/O error")

    async def open_deliveries(self) -> Mapping[str, int]:
        raise OSError("disk I/O error")


async def test_readyz_names_the_database_when_it_does_not_answer_and_metrics_drop_the_queue_depth(
        ops: Ops) -> None:
    async with serving(ops.app, {"discord": always_ready}, ops.metrics, _Unanswering()) as client:
        response = await client.get("/readyz")
        assert response.status == 503
        assert await response.json() == {"status": "not ready", "not_ready": ["database"]}
        assert "disk" not in await response.text()

        response = await client.get("/metrics")
        assert response.status == 200
        assert not [key for key in samples(await response.text()) if key[0] == "coalition_delivery_queue_depth"]


class _Socket:
    def __init__(self, connected: bool) -> None:
        self.connected = connected

    async def is_connected(self) -> bool:
        return self.connected


async def test_readyz_waits_for_every_configured_platform_and_a_probe_that_hangs_fails(ops: Ops) -> None:
    async def hangs() -> bool:
        await asyncio.Event().wait()
        return True

    async with serving(ops.app, {"slack": slack_socket(_Socket(False)), "discord": hangs,
                                 "console": always_ready}, ops.metrics) as client:
        response = await client.get("/readyz")
        assert response.status == 503
        assert await response.json() == {"status": "not ready", "not_ready": ["discord", "slack"]}
    async with serving(ops.app, {"slack": slack_socket(_Socket(True))}, ops.metrics) as client:
        assert (await client.get("/readyz")).status == 200


async def test_metrics_count_a_delivered_announcement_and_handled_commands_without_user_text(
        ops: Ops, fake: FakeDiscord) -> None:
    assert not (await ops.say(ADMIN, f"topic create quokka {TOPIC_TITLE}")).message.is_error
    await ops.say(ALICE_ID, "subscribe quokka", role=Role.MEMBER)
    preview = await ops.say(ADMIN, f"announce new quokka {ANNOUNCEMENT}")
    assert not preview.message.is_error, preview.message.plain_text()
    confirmed = await ops.say(ADMIN, "announce confirm 1")
    assert not confirmed.message.is_error, confirmed.message.plain_text()
    assert (await ops.say(ADMIN, f"{TYPED_BY_SOMEONE} {ANNOUNCEMENT}")).message.is_error
    assert (await ops.say(ALICE_ID, "announce new quokka sneaky")).message.is_error  # no coordinator role

    before = await ops.client.get("/metrics")
    assert samples(await before.text())[("coalition_delivery_queue_depth", (("status", "pending"),))] >= 1

    await ops.deliver()
    [dm] = fake.dm_messages_to(ALICE.id)
    assert "Zebrafinch" in dm.embeds[0]["description"]
    [row] = [r for r in await ops.app.store.outbox.of_announcement(1) if r.person_id is not None]
    assert row.status is DeliveryStatus.SENT

    response = await ops.client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    text = await response.text()
    got = samples(text)
    assert got[("coalition_deliveries_finished_total", (("platform", "discord"), ("status", "sent")))] >= 1
    assert got[("coalition_send_latency_seconds_count", (("platform", "discord"),))] >= 1
    assert got[("coalition_commands_handled_total", (("command", "announce confirm"), ("outcome", "ok")))] == 1
    assert got[("coalition_commands_handled_total", (("command", "topic create"), ("outcome", "ok")))] == 1
    assert got[("coalition_commands_handled_total", (("command", "announce new"), ("outcome", "user_error")))] == 1
    assert got[("coalition_commands_handled_total", (("command", "unknown"), ("outcome", "user_error")))] == 1
    assert got[("coalition_delivery_queue_depth", (("status", "pending"),))] == 0
    assert got[("coalition_delivery_queue_depth", (("status", "sending"),))] == 0

    person = await ops.app.store.people.identity(ALICE_ID)
    assert person is not None
    for secret in ("Quokka", "quokka", "Zebrafinch", "annex", ALICE_NAME, str(ALICE.id), "ops-admin",
                   TYPED_BY_SOMEONE, "sneaky", fake.token):
        assert secret not in text, secret
    label_values = {value for name, labels in got for _, value in labels}
    assert str(person.person_id) not in label_values


async def test_a_rate_limited_send_is_counted_for_its_platform(ops: Ops, fake: FakeDiscord) -> None:
    await ops.say(ADMIN, "topic create quokka Quokkas")
    await ops.say(ALICE_ID, "subscribe quokka", role=Role.MEMBER)
    await ops.say(ADMIN, "announce new quokka hello")
    await ops.say(ADMIN, "announce confirm 1")
    # Longer than discord.py waits out by itself: the adapter raises, and the worker sees the 429.
    fake.queue_failure("POST", "/channels/{channel_id}/messages", status=429, retry_after=120)
    async with asyncio.timeout(WAIT):
        await ops.worker.run_due()
    got = samples(await (await ops.client.get("/metrics")).text())
    assert got[("coalition_rate_limited_total", (("platform", "discord"),))] == 1


def test_two_apps_in_one_process_keep_their_own_registries() -> None:
    first, second = PrometheusMetrics(), PrometheusMetrics()
    first.command_handled("help", "ok")
    assert ('coalition_commands_handled_total{command="help",outcome="ok"} 1.0'
            in first.exposition().decode())
    assert "command=\"help\"" not in second.exposition().decode()


@pytest.mark.parametrize(("configured", "sent"), [(None, None), (None, "Bearer x"), ("right", None),
                                                  ("right", "Bearer wrong"), ("right", "right")])
async def test_metrics_are_not_public_without_the_scrape_token(ops: Ops, configured: str | None,
                                                              sent: str | None) -> None:
    """Counts of commands and deliveries tell anyone when members-only work happens: /metrics answers only a
    request with the configured token, and does not exist without one (the same 404 as any unknown page)."""
    site = build_site([ops_routes(SqliteHealth(ops.app.db), {}, ops.metrics, metrics_token=configured)])
    async with TestClient(TestServer(site, host="127.0.0.1"), timeout=ClientTimeout(total=WAIT)) as client:
        headers = {} if sent is None else {"Authorization": sent}
        response = await client.get("/metrics", headers=headers)
        assert response.status == 404
        assert "coalition_" not in await response.text()
        assert (await client.get("/metrics", headers={"Authorization": "Bearer right"})).status == \
            (200 if configured == "right" else 404)
