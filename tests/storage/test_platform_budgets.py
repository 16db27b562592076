"""Learning budgets learn together (migration 0025, ``storage/platform_budgets.py``, ``bot/delivery/sharing.py``):
several processes on one database, each with its own bucket, pace at one rate they learn from the platform's 429s.
Each "process" here is its own connection, leases, budget store and bucket; the wall clock is shared and driven, the
buckets' monotonic clocks too, so nothing sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery.model import WorkerLease
from bot.delivery.pacing import AdaptiveBucket
from bot.delivery.sharing import SAME_OVERSHOOT, BudgetShare, SharedRate, settle
from storage.database import Database
from storage.leases import SqliteLeases
from storage.platform_budgets import PlatformBudgets
from tests.postgres_server import storage_target
from tests.support import FixedClock

CLEAN = 60.0


class Ticks:
    """A bucket's monotonic clock, moved with the shared wall clock."""

    def __init__(self, clock: FixedClock) -> None:
        self._clock = clock
        self._start = clock.now()

    def __call__(self) -> float:
        return (self._clock.now() - self._start).total_seconds()


@dataclass
class Process:
    db: Database
    bucket: AdaptiveBucket
    share: BudgetShare
    rates: PlatformBudgets


def workspace(clock: FixedClock, start: float = 40.0) -> AdaptiveBucket:
    """Slack's workspace budget as the adapter makes it (down to 0.7 on a 429, a step up a clean minute)."""
    return AdaptiveBucket(start, 1.0, floor=1.0, ceiling=100.0, decrease=0.7, clean_seconds=CLEAN,
                          name="Slack workspace", monotonic=Ticks(clock))


@asynccontextmanager
async def processes(tmp_path: Path, clock: FixedClock, count: int = 2,
                    start: float = 40.0, name: str = "p") -> AsyncIterator[list[Process]]:
    target = storage_target(tmp_path)
    async with AsyncExitStack() as stack:
        running: list[Process] = []
        for number in range(count):
            db = await stack.enter_async_context(Database.open(target))
            leases = SqliteLeases(db)
            now = clock.now()
            await leases.acquire(WorkerLease(f"{name}{number}", number, "h", now, now + timedelta(days=1)))
            bucket = workspace(clock, start)
            rates = PlatformBudgets(db)
            running.append(Process(db, bucket, BudgetShare(leases, clock, lambda b=bucket: [b], rates=rates),
                                   rates))
        yield running


async def refresh_all(running: list[Process]) -> None:
    for process in running:
        await process.share.refresh()


async def test_a_429_one_process_sees_slows_every_process(tmp_path: Path) -> None:
    clock = FixedClock()
    async with processes(tmp_path, clock) as (one, two):
        await refresh_all([one, two])
        assert one.bucket.rate == two.bucket.rate == 40.0
        assert one.bucket.pace == two.bucket.pace == 20.0  # each its half of the budget
        one.bucket.slow_down(1.0)
        clock.advance(seconds=0.5)
        await refresh_all([one, two])
        assert one.bucket.rate == two.bucket.rate == pytest.approx(28.0)  # once, for both
        stored = (await one.rates.all())["Slack workspace"]
        assert stored.rate == pytest.approx(28.0) and stored.slowed_at == clock.now()


async def test_the_429s_of_one_overshoot_seen_by_several_processes_lower_the_rate_once(tmp_path: Path) -> None:
    clock = FixedClock()
    async with processes(tmp_path, clock, count=3) as running:
        await refresh_all(running)
        for process in running:  # the requests every process had in flight when they overshot together
            process.bucket.slow_down()
        clock.advance(seconds=0.2)
        await asyncio.gather(*(p.share.refresh() for p in running))  # at once: one after the other in the database
        assert [p.bucket.rate for p in running] == pytest.approx([28.0] * 3)

        clock.advance(seconds=SAME_OVERSHOOT.total_seconds() + 1)
        running[1].bucket.slow_down()  # a new overshoot, later
        await running[1].share.refresh()
        await refresh_all(running)  # the others hear of it at their next refresh
        assert [p.bucket.rate for p in running] == pytest.approx([19.6] * 3)


async def test_the_rate_rises_one_step_a_clean_period_for_all_processes_together(tmp_path: Path) -> None:
    clock = FixedClock()
    async with processes(tmp_path, clock) as (one, two):
        await refresh_all([one, two])
        writes = one.db.writes + two.db.writes
        for _ in range(int(CLEAN) - 1):
            clock.advance(seconds=1)
            await refresh_all([one, two])
            one.bucket.delay()  # a bucket that is used: on its own it would creep up after its clean minute
        assert one.bucket.rate == two.bucket.rate == 40.0
        assert one.db.writes + two.db.writes == writes  # a rate that stays is read, never written
        clock.advance(seconds=1)
        second = two.db.writes
        await refresh_all([one, two])
        await refresh_all([one, two])
        assert one.bucket.rate == two.bucket.rate == 42.0  # one step, not one per process
        stored = (await two.rates.all())["Slack workspace"]
        assert stored.rate == 42.0 and stored.changed_at == clock.now()
        assert two.db.writes == second  # the first to look took the step; the other only read it


async def learn_one_429(process: Process) -> None:
    """The process's first look stores its setting (40/s); a 429 then takes the shared rate to 28/s."""
    await process.share.refresh()
    process.bucket.slow_down()
    await process.share.refresh()
    assert process.bucket.rate == pytest.approx(28.0)


async def test_a_process_that_joins_paces_at_what_the_others_learnt(tmp_path: Path) -> None:
    clock = FixedClock()
    async with processes(tmp_path, clock, count=1) as (one,):
        await learn_one_429(one)
        async with processes(tmp_path, clock, count=1, start=40.0, name="late") as (late,):
            assert late.bucket.rate == 40.0  # its setting, until it has read the shared rate
            await late.share.refresh()
            assert late.bucket.rate == pytest.approx(28.0)
            assert late.share.workers == 2 and late.bucket.pace == pytest.approx(14.0)


async def test_a_process_started_with_another_setting_learns_afresh_from_it(tmp_path: Path) -> None:
    """The operator changed ``slack_workspace_per_second``: what was learnt from the old setting gives way."""
    clock = FixedClock()
    async with processes(tmp_path, clock, count=1) as (one,):
        await learn_one_429(one)
        async with processes(tmp_path, clock, count=1, start=30.0, name="restarted") as (restarted,):
            await restarted.share.refresh()
            assert restarted.bucket.rate == 30.0
            stored = (await restarted.rates.all())["Slack workspace"]
            assert (stored.rate, stored.start) == (30.0, 30.0)


async def test_a_429_that_comes_while_the_rate_is_being_settled_counts_next_time(tmp_path: Path) -> None:
    clock = FixedClock()
    async with processes(tmp_path, clock, count=1) as (one,):
        await one.share.refresh()
        one.bucket.slow_down()
        slows = one.bucket.slows
        one.bucket.slow_down()  # after the refresh read the count, before it adopted the settled rate
        clock.advance(seconds=SAME_OVERSHOOT.total_seconds() + 1)
        one.bucket.adopt(40.0 * 0.7, slows=slows)
        assert one.bucket.slows > one.bucket.settled_slows
        await one.share.refresh()
        assert one.bucket.rate == pytest.approx(40.0 * 0.7)  # the 429 left over is counted now: the stored 40 lowered
        assert one.bucket.slows == one.bucket.settled_slows


def test_settling_keeps_between_the_floor_and_the_ceiling() -> None:
    clock = FixedClock()
    bucket = AdaptiveBucket(5.0, 1.0, floor=4.0, ceiling=6.0, decrease=0.5, clean_seconds=CLEAN, name="b",
                            monotonic=Ticks(clock))
    now = clock.now()
    low = SharedRate("b", 5.0, 5.0, None, now - timedelta(hours=1))
    assert settle(low, bucket, True, now) == SharedRate("b", 4.0, 5.0, now, now)
    high = SharedRate("b", 6.0, 5.0, None, now - timedelta(hours=1))
    assert settle(high, bucket, False, now) is None  # at the ceiling: nothing to write
    bucket.adopt(9.0, slows=0)
    assert bucket.rate == 6.0
