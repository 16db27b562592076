"""Several bot processes sending for one coalition share each platform's budget instead of each spending all of it.

Why: Discord's global limit and Slack's per-workspace limits belong to the bot's account, not to a process. Two
processes each pacing at the full rate send twice what the platform allows, and both get 429s. Each process
counts the delivery workers whose lease is live (``worker_leases``, the rows every worker keeps fresh) and takes
that fraction of every bucket. A process that dies keeps its share counted until its lease lapses: the others
send a little slower for that time, never faster than allowed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from bot.clock import Clock
from bot.delivery.pacing import TokenBucket
from bot.delivery.stores import LeaseStore

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
"""How often the workers are counted: a process that joins waits twice this before it sends (see :meth:`run`),
so the others have lowered their share by then."""


class BudgetShare:
    def __init__(self, leases: LeaseStore, clock: Clock, buckets: Callable[[], Iterable[TokenBucket]],
                 *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._leases = leases
        self._clock = clock
        self._buckets = buckets
        self.refresh_seconds = refresh_seconds
        self.workers = 1

    async def refresh(self) -> int:
        """Count the live workers (this one included, at least one) and give every bucket its share."""
        workers = max(1, await self._leases.live(self._clock.now()))
        if workers != self.workers:
            log.info("delivery: %d workers share the platforms' budgets", workers)
        self.workers = workers
        for bucket in self._buckets():
            bucket.set_share(1 / workers)
        return workers

    async def run(self) -> None:
        """Refresh until cancelled; a failed count keeps the last share (the database will answer again)."""
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("delivery: counting the workers failed; keeping the last share")
            await asyncio.sleep(self.refresh_seconds)
