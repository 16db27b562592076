"""The delivery worker: claims due outbox rows, re-checks access, sends through the adapters, records the
outcome. Every row ends ``sent``, ``failed``, ``skipped``, ``cancelled`` or ``missed`` with a reason — never lost.

Why a database outbox rather than in-memory tasks: a crash or restart must neither lose nor repeat a
delivery. The stable ``dedupe_key`` is handed to the adapter so the platform side can recognise a retry
(Discord's nonce; Slack's metadata), and a row whose earlier attempt may have landed is marked *uncertain*, so
the adapter reads the conversation back before posting it again.

The parts: :mod:`~bot.delivery.routes` (what a row is and where it goes: through which of a person's accounts,
:mod:`~bot.delivery.accounts` and :mod:`~bot.delivery.copies`), :mod:`~bot.delivery.attempts` (one
row from claim to outcome), :mod:`~bot.delivery.retry` (deadline and relevance), :mod:`~bot.delivery.circuit`
(a circuit per platform), :mod:`~bot.delivery.pacing`, :mod:`~bot.delivery.lease` and
:mod:`~bot.delivery.pipeline` (the continuous loop :meth:`DeliveryWorker.run` runs).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from bot.clock import Clock
from bot.delivery.attempts import Attempts
from bot.delivery.circuit import Circuits
from bot.delivery.config import DeliveryConfig, Outlet
from bot.delivery.lease import Lease, LeaseConfig
from bot.delivery.model import Delivery, DeliveryKind
from bot.delivery.pacing import Pace
from bot.delivery.pipeline import Pipeline, give_back
from bot.delivery.routes import Builder, Routes
from bot.delivery.wakeup import Wakeup
from bot.i18n import Msg, Translator
from bot.messages import Message
from bot.metrics import NO_METRICS, Metrics
from bot.people.service import PeopleService
from bot.ports import Store

__all__ = ["AfterBatch", "Builder", "DeliveryConfig", "DeliveryWorker", "LeaseConfig", "Outlet", "OutletPaces"]

log = logging.getLogger(__name__)

REPORT_EDIT_SECONDS = 15.0
"""A live report edit gives up after this (logged; the next refresh brings the copy up to date): it runs beside
the claim loop, and a platform that hangs must not hold the reports of the others."""

AfterBatch = Callable[[Sequence[Delivery]], Awaitable[Sequence[Delivery]]]
"""Called with rows handled (a batch, or those completed since the last call); returns delivered messages to
rebuild and edit in place now (the live announcement report)."""


class OutletPaces:
    """How long sends take at each platform's pace: the estimate announcement previews and live reports show.

    It reads the very buckets the worker paces with (the outlets it is given), each time it is asked, so a rate
    that adapts to 429s is read as it is now; a platform connected later is found once it is in ``outlets``.
    """

    def __init__(self, outlets: Mapping[str, Outlet]) -> None:
        self._outlets = outlets

    def seconds_for(self, platform: str, messages: int) -> float | None:
        """Returns ``messages`` sends' seconds at ``platform``'s current rate (0 when it is not paced); ``None``
        when the platform is not connected. A split message costs more than one send: this is a floor."""
        outlet = self._outlets.get(platform)
        if outlet is None:
            return None
        bucket = outlet.bucket
        return 0.0 if bucket is None else max(0.0, messages - bucket.cap) / bucket.pace


class _Batch:
    """``run_due``'s gate: never stopping, waiting out pacing, no room limit (the batch is the limit)."""

    stopping = False
    patience = math.inf

    def enter(self, platform: str) -> bool:
        return True

    def leave(self, platform: str) -> None:
        return None


class DeliveryWorker:
    """Built last by the composition root, with everything it sends through and every message builder.

    ``expired`` names, per row kind, why a row that expired is no longer worth sending (a reminder: its meeting
    started). ``lease`` identifies this worker run (the root knows the process; the core does not).
    """

    def __init__(self, store: Store, clock: Clock, translator: Translator, people: PeopleService,
                 outlets: Iterable[Outlet], builders: Mapping[DeliveryKind, Builder], config: DeliveryConfig,
                 wakeup: Wakeup, after_batch: Sequence[AfterBatch] = (), rng: random.Random | None = None,
                 lease: LeaseConfig | None = None, expired: Mapping[DeliveryKind, Msg] | None = None,
                 metrics: Metrics = NO_METRICS) -> None:
        self._store = store
        self._clock = clock
        outlets = list(outlets)
        self._adapters = {o.adapter.platform: o.adapter for o in outlets}
        self._paces = {o.adapter.platform: Pace(o.bucket, self_paced=o.self_paced) for o in outlets}
        self._builders = dict(builders)
        self._after_batch = tuple(after_batch)
        self._config = config
        self._wake = wakeup
        self._routes = Routes(store, clock, translator, people, self._adapters, self._builders)
        self._circuits = Circuits(store.circuits, clock, config.circuit(), self._resume)
        self._attempts = Attempts(store, clock, self._routes, self._circuits, self._paces, config.retry_policy(),
                                  dict(expired or {}), config.concurrency, rng or random.Random(), metrics)
        self._lease = Lease(store.leases, clock, lease or LeaseConfig(holder="delivery-worker"))
        self._pipeline = Pipeline(store, clock, self._attempts, self._routes, self._lease, wakeup, config,
                                  len(outlets), self._after, self.recover)

    async def start(self) -> None:
        """Take this run's lease, read the circuits as the last run left them, and re-queue orphaned rows."""
        await self._lease.acquire()
        await self._circuits.load()
        await self.recover()

    async def close(self) -> None:
        """Release the lease (a clean stop): nothing of this run is in flight any more."""
        await self._lease.release()

    async def recover(self) -> int:
        """Return rows left ``sending`` by a worker whose lease lapsed (a crash) to the queue, as uncertain: the
        adapter reads the conversation back before posting them again. A live worker's rows are not touched."""
        count = await self._store.outbox.recover_orphans(self._clock.now())
        if count:
            log.warning("%d deliveries were in flight when a worker stopped; they will be retried", count)
        return count

    def request_stop(self) -> None:
        """Ask :meth:`run` to return after the deliveries in hand, so nothing is left half-sent."""
        self._pipeline.request_stop()

    async def run(self) -> None:
        """Send due rows continuously until :meth:`request_stop` (see :mod:`bot.delivery.pipeline`)."""
        await self._pipeline.run()

    async def run_due(self) -> int:
        """Claim and send one batch of due rows; returns how many were handled. The tests' entry point."""
        claimed = await self._store.outbox.claim_due(self._clock.now(), self._config.batch_size, self._lease.holder)
        self._routes.forget_topics()
        gate = _Batch()

        async def one(delivery: Delivery) -> Delivery | None:
            # One row's failure must not cancel its siblings mid-send (a TaskGroup would).
            try:
                return await self._attempts.attempt(delivery, gate)
            except Exception:
                await give_back(self._store, delivery)
                return None

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(delivery)) for delivery in claimed]
        handled = [delivery for task in tasks if (delivery := task.result()) is not None]
        await self._after(handled)
        return len(handled)

    async def drain(self) -> None:
        """Send everything due now (used when the console reaches end of input)."""
        while await self.run_due():
            pass

    async def refresh(self, deliveries: Iterable[Delivery]) -> None:
        """Rebuild delivered messages from their source and edit them in place now (live reports)."""
        for delivery in deliveries:
            builder = self._routes.builder(delivery.kind)
            message = await builder(delivery) if builder else None
            if message is not None:
                await self.edit_sent(delivery, message)

    async def edit_sent(self, delivery: Delivery, message: Message) -> None:
        """Edit a delivered message in place now (live progress reports); failures are logged, not raised. A
        paused platform is left alone: the next refresh brings the copy up to date."""
        sent = delivery.sent
        adapter = self._adapters.get(sent.platform) if sent else None
        if adapter is None or sent is None or self._circuits.held(sent.platform):
            return
        try:
            async with asyncio.timeout(REPORT_EDIT_SECONDS):
                pace = self._paces[sent.platform]
                if pace.bucket is not None and not pace.self_paced:
                    await pace.bucket.acquire()  # a report edit is a request like any other
                await adapter.edit(sent, await self._routes.render_for(delivery, message))
        except Exception:
            log.warning("could not update delivery %d in place", delivery.id)

    async def _after(self, handled: Sequence[Delivery]) -> None:
        for hook in self._after_batch:
            try:
                await self.refresh(await hook(handled))
            except Exception:  # a progress report must never stop deliveries
                log.exception("after-batch hook failed")

    async def _resume(self, platform: str) -> None:
        """A platform's circuit closed: what it held back goes now."""
        count = await self._store.outbox.bring_forward(platform, self._clock.now())
        if count:
            log.info("delivery: %d deliveries held back for %s are due again", count, platform)
        self._wake()
