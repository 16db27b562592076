"""Scheduled work runs where this process leads: always alone (SQLite), only on the leader among several; meeting
timers follow a change made on any process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cluster import Alone, led
from app.meeting_timers import MeetingTimers
from bot.meetings.scheduler import MeetingScheduler
from tests.support import FixedClock, console_settings, harness


class _Follower(Alone):
    """A process that does not lead (another one holds the leader's lock)."""

    leader = False


async def test_scheduled_work_runs_alone_and_on_the_leader_only() -> None:
    runs: list[str] = []

    async def job() -> None:
        runs.append("ran")

    await led(Alone(), job)()
    await led(_Follower(), job)()
    assert runs == ["ran"]


def test_a_bucket_takes_its_share_of_the_budget_and_refuses_a_share_outside_0_to_1() -> None:
    from bot.delivery.pacing import TokenBucket

    bucket = TokenBucket(10.0, 10.0)
    bucket.set_share(0.25)
    assert bucket.pace == 2.5 and bucket.cap == 2.5
    bucket.set_share(0.01)
    assert bucket.cap == 1.0  # never below one token, or nothing would ever be sent
    for wrong in (0.0, 1.5):
        with pytest.raises(ValueError, match="share"):
            bucket.set_share(wrong)


class _Peers(Alone):
    """A cluster whose notices the test sends and reads: what it rang, and the listeners it was given."""

    def __init__(self) -> None:
        self.rung: list[int] = []
        self.on_meeting: Callable[[int], None] = lambda _id: None
        self.on_leadership: Callable[[bool], None] = lambda _leads: None

    def ring_meeting(self, meeting_id: int) -> None:
        self.rung.append(meeting_id)

    def listen_meetings(self, on_meeting: Callable[[int], None]) -> None:
        self.on_meeting = on_meeting

    def listen_leadership(self, on_leadership: Callable[[bool], None]) -> None:
        self.on_leadership = on_leadership


class _Timers:
    """Records what it re-arms; meeting 13 cannot be read."""

    def __init__(self) -> None:
        self.rearmed: list[int] = []
        self.rebuilds = 0

    async def rearm(self, meeting_id: int) -> None:
        await asyncio.sleep(0)
        if meeting_id == 13:
            raise RuntimeError("meeting 13 could not be read")
        self.rearmed.append(meeting_id)

    async def rebuild(self) -> int:
        await asyncio.sleep(0)
        self.rebuilds += 1
        return 0


async def _settled(timers: MeetingTimers) -> None:
    async with asyncio.timeout(5):
        while not timers.idle:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_a_change_is_rung_to_the_others_and_theirs_are_rearmed_here(caplog: pytest.LogCaptureFixture) -> None:
    peers, scheduler = _Peers(), _Timers()
    async with MeetingTimers(peers, scheduler) as timers:
        await timers.changed(4)
        assert peers.rung == [4] and scheduler.rearmed == [4]
        for meeting_id in (5, 13, 6, 5, 7):  # heard from the others, faster than they are read
            peers.on_meeting(meeting_id)
        await _settled(timers)
        assert sorted(scheduler.rearmed) == [4, 5, 6, 7]  # 5, heard twice before it was read, is read once
        assert peers.rung == [4]  # what was heard is not rung back
        assert any("meeting 13" in r.getMessage() for r in caplog.records)  # logged; the others still re-armed
        peers.on_leadership(False)
        peers.on_leadership(True)
        await _settled(timers)
        assert scheduler.rebuilds == 1  # on taking the lead only
    peers.on_meeting(8)  # after the end: nothing more starts
    await asyncio.sleep(0.05)
    assert 8 not in scheduler.rearmed


async def _armed_within(scheduler: MeetingScheduler, job: str, at: datetime | None, seconds: float = 3.0) -> None:
    async with asyncio.timeout(seconds):
        while scheduler.job_times().get(job) != at:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


@pytest.mark.postgresql_only
async def test_a_meeting_changed_on_a_process_that_does_not_lead_is_armed_on_the_leader_at_once(
        tmp_path: Path) -> None:
    """Two processes on one database (each its own app and connections); no housekeeping poll runs here, so only
    the notice can arm the leader's timer."""
    clock = FixedClock()
    settings = console_settings(tmp_path)
    async with harness(settings, clock) as leading, harness(settings, clock) as following, \
            contextlib.AsyncExitStack() as stack:
        leaders_timers = await stack.enter_async_context(leading.app.scheduler.armed(paused=True))
        await stack.enter_async_context(following.app.scheduler.armed(paused=True))
        running = [asyncio.create_task(leading.app.cluster.run())]
        try:
            async with asyncio.timeout(5):
                while not leading.app.cluster.leader:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            running.append(asyncio.create_task(following.app.cluster.run()))
            await asyncio.sleep(0.3)
            assert not following.app.cluster.leader
            assert "meeting:2" not in leaders_timers.job_times()

            reply = await following.text("demo-coordinator",
                                         "meeting create disinformation Wake 2026-11-30 10:00 remind:24h,1h")
            assert "#2" in reply, reply
            await _armed_within(leaders_timers, "meeting:2", datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
            await following.say("demo-coordinator", "meeting reschedule 2 2026-12-01 10:00")
            await _armed_within(leaders_timers, "meeting:2", datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
            await following.say("demo-coordinator", "meeting cancel 2")
            await _armed_within(leaders_timers, "meeting:2", None)
        finally:
            for task in running:
                task.cancel()
            await asyncio.wait(running)


@pytest.mark.postgresql_only
async def test_a_process_taking_the_lead_rebuilds_the_timers_it_missed(tmp_path: Path) -> None:
    """A change made while this process was not listening (its connection reconnecting): taking the lead arms it."""
    clock = FixedClock()
    settings = console_settings(tmp_path)
    async with harness(settings, clock) as other, harness(settings, clock) as taking:
        async with taking.app.scheduler.armed(paused=True) as timers:
            reply = await other.text("demo-coordinator",
                                     "meeting create disinformation Missed 2026-11-30 10:00 remind:24h,1h")
            assert "#2" in reply, reply
            await asyncio.sleep(0.3)
            assert "meeting:2" not in timers.job_times()  # nobody was listening: the notice is gone
            running = asyncio.create_task(taking.app.cluster.run())
            try:
                await _armed_within(timers, "meeting:2", datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
                assert taking.app.cluster.leader
            finally:
                running.cancel()
                await asyncio.wait([running])
