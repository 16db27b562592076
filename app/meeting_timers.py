"""Meeting timers kept in step across every process on one database.

Each process arms one timer per meeting (:class:`bot.meetings.scheduler.MeetingScheduler`), but only the leader's
fire does anything (:func:`app.cluster.led`). A meeting changed on a process that does not lead must therefore
reach the leader's timers at once, not at its next housekeeping poll a minute later, or a reminder due within
that minute goes out late. So a change re-arms here and is rung to the others
(:meth:`app.cluster.Cluster.ring_meeting`, sent once the change has committed); a change heard from another
process re-arms here. And a process that takes the lead rebuilds every timer from the database: a notice missed
while its listening connection was reconnecting costs nothing.

Heard changes and rebuilds are gathered and worked through by one task at a time, kept referenced, its failures
logged: a burst of changes elsewhere reads each meeting once, and starts no flood of tasks.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Protocol

from app.cluster import Alone, Cluster

log = logging.getLogger(__name__)


class Timers(Protocol):
    """What of :class:`bot.meetings.scheduler.MeetingScheduler` this needs."""

    async def rearm(self, meeting_id: int) -> None: ...

    async def rebuild(self) -> int: ...


class MeetingTimers:
    """``async with MeetingTimers(cluster, scheduler) as timers``: give ``timers.changed`` to the meeting
    service; on leaving, what is still to re-arm is dropped (the timers stop with the process)."""

    def __init__(self, cluster: Alone | Cluster, scheduler: Timers) -> None:
        self._cluster = cluster
        self._scheduler = scheduler
        self._heard: set[int] = set()
        self._rebuild = False
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._arming = asyncio.Lock()
        """One re-arm or rebuild at a time: each reads the meetings and then arms, so a rebuild that read before a
        change and armed after it would put back the older time."""
        cluster.listen_meetings(self._on_meeting)
        cluster.listen_leadership(self._on_leadership)

    async def changed(self, meeting_id: int) -> None:
        """After this process changed meeting ``meeting_id`` (committed): tell the others, and re-arm it here."""
        self._cluster.ring_meeting(meeting_id)  # first: a failure to re-arm here must not keep it from the leader
        async with self._arming:
            await self._scheduler.rearm(meeting_id)

    @property
    def idle(self) -> bool:
        """Nothing heard is still waiting to be re-armed (tests)."""
        return self._task is None or self._task.done()

    def _on_meeting(self, meeting_id: int) -> None:
        self._heard.add(meeting_id)
        self._start()

    def _on_leadership(self, leads: bool) -> None:
        if leads:
            self._rebuild = True
            self._start()

    def _start(self) -> None:
        if self._closed or not self.idle:
            return  # a running task takes what was just added before it ends
        self._task = asyncio.get_running_loop().create_task(self._work())
        self._task.add_done_callback(_report)

    async def _work(self) -> None:
        while self._rebuild or self._heard:
            if self._rebuild:
                self._rebuild = False
                try:
                    async with self._arming:
                        armed = await self._scheduler.rebuild()
                    log.info("meeting timers rebuilt on taking the lead: %d armed", armed)
                except Exception:  # the housekeeping poll is the backstop
                    log.exception("meeting timers could not be rebuilt on taking the lead")
                continue
            meeting_id = self._heard.pop()  # taken before reading: a change heard meanwhile comes round again
            try:
                async with self._arming:
                    await self._scheduler.rearm(meeting_id)
            except Exception:
                log.exception("meeting %d, changed by another process, could not be re-armed", meeting_id)

    async def __aenter__(self) -> MeetingTimers:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])  # its end, not its CancelledError (that is not this task's)


def _report(task: asyncio.Task[None]) -> None:
    """Log what escaped the task (its own work logs each failure; this is for the unforeseen)."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("meeting timers stopped re-arming", exc_info=error)
