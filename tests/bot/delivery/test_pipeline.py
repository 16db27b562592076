"""The continuous loop: the after-batch hook (the live announcement report) sees every row as rows complete,
while the loop runs, and is called about once per batch as before, not once per row."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from bot.delivery.model import Delivery, DeliveryStatus
from bot.delivery.wakeup import Wakeup
from bot.delivery.worker import DeliveryConfig, DeliveryWorker, LeaseConfig, Outlet
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
