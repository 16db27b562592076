"""The delivery worker's lease: the row in ``worker_leases`` that says "the rows I hold in ``sending`` are
being sent", renewed while the worker runs and released when it stops cleanly.

Why: recovery re-queues ``sending`` rows only when their holder's lease has lapsed, so one worker starting (or
looking around while it runs) never re-sends what another live worker is sending. The holder's identity (an id
unique to this run, the pid, the host) comes from the composition root; the core reads no process state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.delivery.model import WorkerLease
from bot.delivery.stores import LeaseStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LeaseConfig:
    """``holder`` must be unique per run (a restarted process in a container often gets the same pid).
    ``sole_instance``: the composition root holds a lock no second process can share (one SQLite file), so
    every other lease in the table belongs to a process that is gone and is dropped at start."""

    holder: str
    pid: int = 0
    host: str = ""
    seconds: float = 60.0
    sole_instance: bool = True


class Lease:
    def __init__(self, store: LeaseStore, clock: Clock, config: LeaseConfig) -> None:
        self._store = store
        self._clock = clock
        self._config = config

    @property
    def holder(self) -> str:
        return self._config.holder

    @property
    def renew_every(self) -> float:
        """Seconds between renewals: a third of the lease, so two can fail before it lapses."""
        return self._config.seconds / 3

    async def acquire(self) -> None:
        if self._config.sole_instance:
            dropped = await self._store.drop_others(self._config.holder)
            if dropped:
                log.info("delivery: dropped %d lease(s) of workers that are no longer running", dropped)
        now = self._clock.now()
        await self._store.acquire(WorkerLease(self._config.holder, self._config.pid, self._config.host, now,
                                              now + timedelta(seconds=self._config.seconds)))

    async def renew(self) -> None:
        expires = self._clock.now() + timedelta(seconds=self._config.seconds)
        if not await self._store.renew(self._config.holder, expires):
            log.warning("delivery: this worker's lease had been dropped; taking it again")
            await self.acquire()

    async def release(self) -> None:
        await self._store.release(self._config.holder)
