"""The continuous loop: the after-batch hook (the live announcement report) sees every row as rows complete,
while the loop runs, and is called by the clock (and when the loop runs dry), not once per row or per batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, SentMessage
from bot.delivery.wakeup import Wakeup
from bot.delivery.worker import DeliveryConfig, DeliveryWorker, LeaseConfig, Outlet
from bot.i18n import _
from bot.messages import Message, RenderedMessage
from bot.model import IdentityRecord
from tests.bot.delivery.fakes import FaultyAdapter, app_with, notify, people_on
from tests.support import FixedClock

ROWS = 120


async def test_the_hook_sees_each_row_once_while_the_pipeline_runs(tmp_path: Path) -> None:
    clock = FixedClock()
    adapter = FaultyAdapter(clock=clock)
    seen: list[list[int]] = []
    all_seen = asyncio.Event()

    async def hook(rows: Sequence[Delivery]) -> list[Delivery]:
        seen.append([row.id for row in rows])
        if sum(len(batch) for batch in seen) >= ROWS:
            all_seen.set()
        return []

    async with app_with(tmp_path, clock, adapter) as app:
        await notify(app, await people_on(app, "test", ROWS), "k")
        config = DeliveryConfig()
        wakeup = Wakeup()
        worker = DeliveryWorker(app.store, clock, app.services.translator, app.services.people, [Outlet(adapter)],
                                {}, config, wakeup, after_batch=(hook,),
                                lease=LeaseConfig("pipeline", sole_instance=False))
        await worker.start()
        running = asyncio.create_task(worker.run())
        try:
            async with asyncio.timeout(10):
                await all_seen.wait()
            assert not running.done()  # seen while running, not at the stop
        finally:
            worker.request_stop()
            async with asyncio.timeout(10):
                await running
        await worker.close()
        rows = await app.store.outbox.by_kind("notice")
        assert {row.status for row in rows} == {DeliveryStatus.SENT}
        ids = [row_id for batch in seen for row_id in batch]
        assert sorted(ids) == sorted(row.id for row in rows)  # each once
        assert len([batch for batch in seen if batch]) <= ROWS // config.batch_size + 2


async def test_a_hanging_report_edit_on_one_platform_holds_up_no_platform(tmp_path: Path) -> None:
    """The live report runs beside the claim loop: while alpha's edit of a report hangs (a connection timing out
    during its outage), beta's new rows are still claimed and sent."""
    clock = FixedClock()
    edit_started, edit_released = asyncio.Event(), asyncio.Event()

    class HangingEdits(FaultyAdapter):
        async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
            edit_started.set()
            await edit_released.wait()

    alpha = HangingEdits(platform="alpha", clock=clock)
    beta = FaultyAdapter(platform="beta", clock=clock, expected=2)
    async with app_with(tmp_path, clock, alpha, beta) as app:
        first, second = await people_on(app, "beta", 2)
        report = Delivery(id=999, dedupe_key="report", kind=DeliveryKind.REPORT, person_id=None, platform="alpha",
                          channel_id="C", topic_id=None, payload="{}", status=DeliveryStatus.SENT, attempts=1,
                          not_before=clock.now(), sent=SentMessage("alpha", "C", ("1",)), reason=None)
        hooked: list[int] = []

        async def hook(rows: Sequence[Delivery]) -> list[Delivery]:
            hooked.append(len(rows))
            return [report] if len(hooked) == 1 else []

        async def build(_delivery: Delivery) -> Message:
            return Message(body=(_("Welcome"),))

        wakeup = Wakeup()
        worker = DeliveryWorker(app.store, clock, app.services.translator, app.services.people,
                                [Outlet(alpha), Outlet(beta)], {DeliveryKind.REPORT: build}, DeliveryConfig(), wakeup,
                                after_batch=(hook,), lease=LeaseConfig("w", sole_instance=False))
        await worker.start()
        await notify(app, [first], "one")
        running = asyncio.create_task(worker.run())
        try:
            async with asyncio.timeout(5):
                await edit_started.wait()  # the report edit now hangs
            await notify(app, [second], "two")
            wakeup()  # this worker's own wake-up: the app's notifier rings the app's
            async with asyncio.timeout(5):
                await beta.delivered.wait()  # beta's second row went while alpha's edit still hangs
            assert not edit_released.is_set() and len(beta.sent) == 2
        finally:
            edit_released.set()
            worker.request_stop()
            async with asyncio.timeout(10):
                await running
        await worker.close()


async def test_the_hook_runs_by_the_clock_not_after_every_batch(tmp_path: Path) -> None:
    """Each run of the hook may edit a live report, a request out of the platform's limit: while rows keep
    completing it runs every ``report_every_seconds``, not after every ``batch_size`` rows (which cost Discord
    fan-outs 1 % of their budget in edits)."""
    clock = FixedClock()

    class Steady(FaultyAdapter):
        """Takes a moment per send, as a paced platform does, so the pipeline never runs dry mid-way."""

        async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                              delivery_key: str) -> SentMessage:
            await asyncio.sleep(0.002)
            return await super().send_direct(recipient, message, delivery_key=delivery_key)

    adapter = Steady(clock=clock)
    seen: list[int] = []
    all_seen = asyncio.Event()

    async def hook(rows: Sequence[Delivery]) -> list[Delivery]:
        seen.append(len(rows))
        if sum(seen) >= ROWS:
            all_seen.set()
        return []

    async with app_with(tmp_path, clock, adapter) as app:
        await notify(app, await people_on(app, "test", ROWS), "k")
        config = DeliveryConfig(batch_size=10, report_every_seconds=60.0)
        worker = DeliveryWorker(app.store, clock, app.services.translator, app.services.people, [Outlet(adapter)],
                                {}, config, Wakeup(), after_batch=(hook,),
                                lease=LeaseConfig("clocked", sole_instance=False))
        await worker.start()
        running = asyncio.create_task(worker.run())
        try:
            async with asyncio.timeout(10):
                await all_seen.wait()  # the last rows are handed over once the pipeline runs dry
        finally:
            worker.request_stop()
            async with asyncio.timeout(10):
                await running
        await worker.close()
    assert sum(seen) == ROWS
    assert len(seen) <= 3  # after every batch it was called 12 times
