"""Wake-up timers for meetings, rebuilt from the database on every start.

APScheduler is used only as a timer: one ``DateTrigger`` job per meeting (fixed id ``meeting:<id>``,
``replace_existing=True``) at the meeting's next reminder or start, in a memory job store. The database is the
source of truth: a job that fires just runs "what is due now" and re-arms that meeting from the database.
``misfire_grace_time=None`` so a late wake-up (busy loop, overdue at start) still runs — APScheduler's default
of 1 s would drop it silently — and the app's housekeeping poll is the backstop if a timer is lost anyway.
Never CronTrigger/IntervalTrigger: both are wrong across daylight-saving changes (see ``bot.meetings.recurrence``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.meetings.recurrence import MAX_OFFSET
from bot.ports import Store

log = logging.getLogger(__name__)

RunDue = Callable[[], Awaitable[object]]


def next_wakes(rows: Iterable[tuple[int, tuple[int, ...], datetime]], now: datetime) -> dict[int, datetime]:
    """Each meeting's earliest reminder or start still ahead of ``now``."""
    wakes: dict[int, datetime] = {}
    for meeting_id, offsets, start in rows:
        for at in (start, *(start - timedelta(minutes=m) for m in offsets)):
            if at > now and (meeting_id not in wakes or at < wakes[meeting_id]):
                wakes[meeting_id] = at
    return wakes


class MeetingScheduler:
    """``async with MeetingScheduler(...)`` starts the timer and arms every meeting from the database."""

    def __init__(self, store: Store, clock: Clock, run_due: RunDue) -> None:
        self._store = store
        self._clock = clock
        self._run_due = run_due
        self._scheduler: AsyncIOScheduler | None = None
        self._armed: AbstractAsyncContextManager[MeetingScheduler] | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    def job_times(self) -> dict[str, datetime]:
        """Armed wake-ups by job id (tests and the benchmark)."""
        if self._scheduler is None:
            return {}
        return {job.id: job.trigger.run_date for job in self._scheduler.get_jobs()}

    @asynccontextmanager
    async def armed(self, *, paused: bool = False) -> AsyncIterator[MeetingScheduler]:
        """Start the timer and arm every meeting from the database; ``paused`` arms without firing (tests)."""
        scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"misfire_grace_time": None, "coalesce": True,
                                                                 "max_instances": 1})
        scheduler.start(paused=paused)
        self._scheduler = scheduler
        try:
            await self.rebuild()
            yield self
        finally:
            scheduler.shutdown(wait=False)
            self._scheduler = None

    async def __aenter__(self) -> MeetingScheduler:
        self._armed = self.armed()
        return await self._armed.__aenter__()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._armed is not None:
            await self._armed.__aexit__(exc_type, exc, tb)
            self._armed = None

    async def rebuild(self) -> int:
        """Arm a wake-up for every meeting with something ahead; returns how many were armed (none while the
        timer is not running: a process that takes the lead before it has started arms them when it starts)."""
        if self._scheduler is None:
            return 0
        now = self._clock.now()
        rows = await self._store.meetings.next_wakes(now, now + MAX_OFFSET + timedelta(days=1))
        wakes = next_wakes(rows, now)
        for meeting_id, at in wakes.items():
            self._arm(meeting_id, at)
        return len(wakes)

    async def rearm(self, meeting_id: int) -> None:
        """After a change to one meeting: arm its next wake-up, or remove it when nothing is ahead."""
        if self._scheduler is None:
            return
        now = self._clock.now()
        rows = await self._store.meetings.next_wakes(now, now + MAX_OFFSET + timedelta(days=1), meeting_id)
        at = next_wakes(rows, now).get(meeting_id)
        if at is None:
            if self._scheduler is not None and (job := self._scheduler.get_job(_job_id(meeting_id))) is not None:
                job.remove()
            return
        self._arm(meeting_id, at)

    def _arm(self, meeting_id: int, at: datetime) -> None:
        if self._scheduler is None:  # stopped while the meeting was being read: nothing to arm any more
            return
        self._scheduler.add_job(self._fire, DateTrigger(run_date=at, timezone=UTC), args=(meeting_id,),
                                id=_job_id(meeting_id), replace_existing=True, misfire_grace_time=None)

    async def _fire(self, meeting_id: int) -> None:
        try:
            await self._run_due()
        except Exception:  # the housekeeping poll will try again
            log.exception("meeting wake-up failed")
        await self.rearm(meeting_id)


def _job_id(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"
