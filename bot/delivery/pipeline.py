"""The worker's continuous loop: keep claiming due rows while there is room, send each as soon as its platform
allows, and never let one platform hold up another.

Why not batches: a batch waits for its slowest row, so a Slack rate limit of 40 s used to delay the Discord
copies claimed with it by 40 s. Here every row runs on its own; room is counted per platform once a row's
platform is known (a DM's only after its recipient's identity is picked), a platform's rows beyond its room or
far from their turn go back to the database, and a paused platform's rows are handed back, not held. The
after-batch hook (the live announcement report) runs for rows as they complete, every
``report_every_seconds``, and whenever the pipeline runs dry — by the clock, not every batch: each run may edit a
report, a request that comes out of the platform's limit like a message does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from bot.clock import Clock
from bot.delivery.attempts import Attempts
from bot.delivery.config import DeliveryConfig
from bot.delivery.lease import Lease
from bot.delivery.model import Delivery
from bot.delivery.routes import Routes
from bot.delivery.wakeup import Wakeup
from bot.ports import Store

log = logging.getLogger(__name__)

TOPICS_EVERY_SECONDS = 2.0
"""How long the loop trusts the topics it read (a topic's access changed mid fan-out applies within this)."""
HELD_MOST = 20
"""Batches of finished rows held for the hook at most, whatever the clock says (an unpaced platform's thousands a
second stay a few megabytes)."""


class Flow:
    """The pipeline's :class:`~bot.delivery.attempts.Gate`: room per platform, and whether it is stopping."""

    def __init__(self, per_platform: int, patience: float) -> None:
        self.stopping = False
        self.patience = patience
        self._per_platform = per_platform
        self._in_hand: Counter[str] = Counter()

    def enter(self, platform: str) -> bool:
        if self._in_hand[platform] >= self._per_platform:
            return False
        self._in_hand[platform] += 1
        return True

    def leave(self, platform: str) -> None:
        self._in_hand[platform] -= 1


async def give_back(store: Store, delivery: Delivery) -> None:
    """A row whose attempt raised before its outcome was recorded (the database was locked, a bug) goes back
    to the queue *uncertain*: the send may have reached the platform, so the next attempt reads it back."""
    log.exception("delivery %d could not be recorded; it goes back to the queue", delivery.id)
    with contextlib.suppress(Exception):
        await store.outbox.release([delivery.id], uncertain=True)


class Pipeline:
    def __init__(self, store: Store, clock: Clock, attempts: Attempts, routes: Routes, lease: Lease,
                 wake: Wakeup, config: DeliveryConfig, platforms: int,
                 after: Callable[[Sequence[Delivery]], Awaitable[None]],
                 recover: Callable[[], Awaitable[int]]) -> None:
        self._store = store
        self._clock = clock
        self._attempts = attempts
        self._routes = routes
        self._lease = lease
        self._wake = wake
        self._config = config
        self._capacity = config.batch_size * max(1, platforms)
        self._after = after
        self._recover = recover
        self._flow = Flow(config.batch_size, config.patience_seconds)
        self._done: list[Delivery] = []
        self._done_since: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._flushing: asyncio.Task[None] | None = None

    def request_stop(self) -> None:
        self._flow.stopping = True
        self._wake()

    async def run(self) -> None:
        """Until :meth:`request_stop`: rows not started then go back unsent, rows in hand finish."""
        self._flow.stopping = False
        loop = asyncio.get_running_loop()
        tasks = self._tasks
        next_upkeep = loop.time()
        topics_read = loop.time()
        try:
            while not self._flow.stopping:
                try:
                    if loop.time() >= next_upkeep:
                        await self._lease.renew()
                        await self._recover()
                        next_upkeep = loop.time() + self._lease.renew_every
                    self._wake.clear()  # before reading: a row queued or finished from here on wakes the wait
                    free = self._capacity - len(tasks)
                    claimed: list[Delivery] = []
                    if free > 0:
                        if loop.time() - topics_read >= TOPICS_EVERY_SECONDS:
                            self._routes.forget_topics()
                            topics_read = loop.time()
                        claimed = await self._store.outbox.claim_due(self._clock.now(), free, self._lease.holder)
                        for delivery in claimed:
                            task = asyncio.create_task(self._one(delivery))
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)
                    if self._done and (len(self._done) >= HELD_MOST * self._config.batch_size or not tasks
                                       or self._report_due(loop.time()) <= 0):
                        self._start_flush()
                    if claimed and len(claimed) == free:
                        continue  # more may be due
                    timeout = min(self._config.poll_seconds, next_upkeep - loop.time())
                    if free > len(claimed):
                        next_due = await self._store.outbox.next_due()
                        if next_due is not None:
                            timeout = min(timeout, (next_due - self._clock.now()).total_seconds())
                    if self._done and self._flushing is None:
                        timeout = min(timeout, self._report_due(loop.time()))
                    if self._flow.stopping:
                        break
                    await self._wake.wait(max(0.0, timeout))
                except Exception:  # a database hiccup must not end deliveries for good
                    log.exception("delivery loop failed; trying again")
                    self._wake.clear()
                    await self._wake.wait(self._config.poll_seconds)
        finally:
            self._flow.stopping = True
            if tasks:
                await asyncio.gather(*list(tasks), return_exceptions=True)
            if self._flushing is not None:
                await asyncio.gather(self._flushing, return_exceptions=True)
            if self._done:
                await self._flush()

    def _report_due(self, now: float) -> float:
        since = self._done_since if self._done_since is not None else now
        return since + self._config.report_every_seconds - now

    async def _one(self, delivery: Delivery) -> None:
        try:
            handled = await self._attempts.attempt(delivery, self._flow)
        except Exception:  # the outcome could not be recorded: give the row back rather than strand it
            await give_back(self._store, delivery)
            handled = None
        if handled is not None:
            if not self._done:
                self._done_since = asyncio.get_running_loop().time()
            self._done.append(handled)
        current = asyncio.current_task()
        if current is not None:
            self._tasks.discard(current)  # now, so the loop this wakes sees the room it frees
        self._wake()

    def _start_flush(self) -> None:
        """Run the after-batch hook beside the claim loop, one at a time: a slow report edit on one platform
        must not stop the claiming of every platform's rows. Rows finished meanwhile wait for the next run."""
        if self._flushing is not None:
            return
        task = asyncio.create_task(self._flush())
        self._flushing = task

        def finished(_task: asyncio.Task[None]) -> None:
            self._flushing = None
            self._wake()  # rows may have finished while it ran

        task.add_done_callback(finished)

    async def _flush(self) -> None:
        done, self._done, self._done_since = self._done, [], None
        try:
            await self._after(done)
        except Exception:  # a progress report must never stop deliveries
            log.exception("after-batch hook failed")
