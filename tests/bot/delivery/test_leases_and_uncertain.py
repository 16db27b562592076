"""Leases: recovery re-queues only rows whose worker is gone, never a live worker's; a clean stop releases the
lease. Uncertain rows (an attempt that may have landed) are read back through the adapter they go through."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.delivery.model import DeliveryStatus, SentMessage
from bot.delivery.wakeup import Wakeup
from bot.delivery.worker import DeliveryConfig, DeliveryWorker, LeaseConfig, Outlet
from bot.messages import RenderedMessage
from bot.model import IdentityRecord
from storage.database import Database
from storage.store import SqliteStore
from tests.bot.delivery.fakes import FaultyAdapter, app_with, drain, notify, people_on
from tests.postgres_server import engine, storage_target
from tests.support import FixedClock


async def test_recovery_leaves_a_live_workers_rows_and_takes_back_a_dead_ones(tmp_path: Path) -> None:
    clock = FixedClock()
    adapter = FaultyAdapter(clock=clock)
    async with app_with(tmp_path, clock, adapter) as app:
        await notify(app, await people_on(app, "test", 3), "k")
        [lease] = await app.store.leases.all()
        assert lease.expires_at == clock.now() + timedelta(seconds=60)
        claimed = await app.store.outbox.claim_due(clock.now(), 10, lease.holder)  # the first worker is sending
        other = DeliveryWorker(app.store, clock, app.services.translator, app.services.people, [Outlet(adapter)],
                               {}, DeliveryConfig(), Wakeup(),
                               lease=LeaseConfig("second", pid=2, host="elsewhere", sole_instance=False))
        await other.start()
        assert {lease.holder for lease in await app.store.leases.all()} == {lease.holder, "second"}
        assert await other.recover() == 0  # the first worker's lease is live: hands off
        assert {row.status for row in await app.store.outbox.by_kind("notice")} == {DeliveryStatus.SENDING}
        clock.advance(seconds=61)  # the first worker stopped renewing (it hangs, or died)
        assert await other.recover() == len(claimed) == 3
        rows = await app.store.outbox.by_kind("notice")
        assert all(row.status is DeliveryStatus.PENDING and row.uncertain for row in rows)
        await other.close()
        assert [lease.holder for lease in await app.store.leases.all()] == [lease.holder]
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        assert await SqliteStore(db).leases.all() == []  # a clean stop released it


async def test_a_restart_takes_back_the_rows_of_the_process_before_it(tmp_path: Path) -> None:
    """One SQLite file is served by one process (the lock proves it): the last run's lease is stale at once. A
    PostgreSQL database is shared by several processes: a lease there is its holder's until it lapses."""
    clock = FixedClock()
    async with app_with(tmp_path, clock, FaultyAdapter(clock=clock)) as app:
        await notify(app, await people_on(app, "test", 2), "k")
        [lease] = await app.store.leases.all()
        await app.store.outbox.claim_due(clock.now(), 10, lease.holder)
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        await SqliteStore(db).leases.acquire(lease)  # as if the process had been killed: its lease stays behind
    adapter = FaultyAdapter(clock=clock)
    async with app_with(tmp_path, clock, adapter) as app:
        held = {held.holder for held in await app.store.leases.all()}
        if engine() == "postgresql":
            assert lease.holder in held
            await drain(app)
            assert adapter.sent == []  # the rows stay with their holder while its lease runs
            clock.advance(seconds=61)  # it is not renewed: the process is gone
            assert await app.worker.recover() == 2
        else:
            assert lease.holder not in held
        await drain(app)
        assert len(adapter.sent) == 2
        assert sorted(adapter.in_flight) == sorted(sent.key for sent in adapter.sent)  # read back before posting


async def test_an_attempt_that_may_have_landed_is_read_back_on_the_same_platform(tmp_path: Path) -> None:
    clock = FixedClock()
    alpha = FaultyAdapter(platform="alpha", clock=clock, down_until=clock.now() + timedelta(seconds=30),
                          landed=True)
    beta = FaultyAdapter(platform="beta", clock=clock)
    async with app_with(tmp_path, clock, alpha, beta) as app:
        [person] = await people_on(app, "alpha", 1)
        await notify(app, [person], "k")
        await drain(app)
        [row] = await app.store.outbox.by_kind("notice")
        assert row.status is DeliveryStatus.PENDING and row.uncertain and row.attempt_platform == "alpha"
        assert alpha.in_flight == []  # the first attempt had nothing to look for
        clock.advance(minutes=1)
        await drain(app)
        [row] = await app.store.outbox.by_kind("notice")
        assert alpha.in_flight == [row.dedupe_key] and beta.in_flight == []
        assert row.status is DeliveryStatus.SENT and not row.uncertain


async def test_the_pipeline_renews_its_lease_and_stops_gracefully(tmp_path: Path) -> None:
    """A graceful stop finishes the send in hand and gives back the rows not started, uncounted."""
    clock = FixedClock()
    gate = asyncio.Event()
    entered = asyncio.Event()

    class Gated(FaultyAdapter):
        async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                              delivery_key: str) -> SentMessage:
            entered.set()
            await gate.wait()
            return await super().send_direct(recipient, message, delivery_key=delivery_key)

    adapter = Gated(clock=clock)
    async with app_with(tmp_path, clock, adapter, concurrency=1) as app:
        await notify(app, await people_on(app, "test", 3), "k")
        clock.advance(seconds=100)  # the lease taken at start has lapsed: the loop renews it first
        running = asyncio.create_task(app.worker.run())
        async with asyncio.timeout(10):
            await entered.wait()
        [lease] = await app.store.leases.all()
        assert lease.expires_at == clock.now() + timedelta(seconds=60)
        app.worker.request_stop()
        gate.set()
        async with asyncio.timeout(10):
            await running
        rows = await app.store.outbox.by_kind("notice")
        assert sorted(row.status for row in rows) == [DeliveryStatus.PENDING, DeliveryStatus.PENDING,
                                                      DeliveryStatus.SENT]
        assert all(row.attempts == 0 for row in rows if row.status is DeliveryStatus.PENDING)
        assert len(adapter.sent) == 1


async def test_a_send_whose_outcome_could_not_be_recorded_is_read_back_before_it_goes_again(tmp_path: Path) -> None:
    """The post went out, then recording it failed (the database was locked): the row goes back *uncertain*,
    so the next attempt asks the adapter to look for it instead of posting blind."""
    clock = FixedClock()
    adapter = FaultyAdapter(clock=clock)
    async with app_with(tmp_path, clock, adapter) as app:
        await notify(app, await people_on(app, "test", 1), "k")
        outbox = app.store.outbox
        real = outbox.mark_sent
        failures = [sqlite3.OperationalError("database is locked")]

        async def flaky(*args: Any, **kwargs: Any) -> None:
            if failures:
                raise failures.pop()
            await real(*args, **kwargs)

        outbox.mark_sent = flaky  # type: ignore[method-assign]
        await app.worker.run_due()
        [row] = await outbox.by_kind("notice")
        assert (row.status, row.uncertain, len(adapter.sent)) == (DeliveryStatus.PENDING, True, 1)
        assert adapter.in_flight == []
        await drain(app)
        [row] = await outbox.by_kind("notice")
        assert row.status is DeliveryStatus.SENT
        assert adapter.in_flight == [row.dedupe_key]  # read back first: the recording adapter cannot, so 2 sends
