"""One claimed row, from claim to recorded outcome — the code both the pipeline and ``run_due`` run per row.

The order matters: relevance first (an expired row is ``missed``, never sent late); then the route (so a DM's
platform is known); then that platform's circuit (a paused platform's rows are handed back, not held); then its
room and its pace (a row whose turn is far off waits in the database, not in memory); then one of its send
slots; then the send, and the outcome recorded with the platform it went through.

A rate limit comes in two sizes. Platform-wide (no ``route`` on the error): the platform's queue pauses and its
pace slows down. On one route (opening DMs, one channel): only the row that met it waits — the adapter refuses
that route by itself until the limit lifts, and every other row of the platform goes on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.delivery.accounts import Rerouted
from bot.delivery.circuit import RATE_LIMIT_DEFAULT_SECONDS, Circuits, Hold
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, UnknownKind
from bot.delivery.pacing import Pace
from bot.delivery.retry import EXPIRED, GiveUp, Later, Missed, RetryPolicy, Verdict, missed_reason, next_step
from bot.delivery.routes import Cancelled, HandBack, Route, Routes, Skip, Unreadable, Waiting
from bot.i18n import Msg, _, decode_text, encode_text
from bot.metrics import NO_METRICS, NO_PLATFORM, Metrics
from bot.ports import InFlightAware, Store

log = logging.getLogger(__name__)

MIN_HAND_BACK_SECONDS = 0.5
"""A row handed back is due again no sooner than this, so a busy platform never makes the claim loop spin."""


class Gate(Protocol):
    """What the loop running a row decides for it: whether it is stopping, how long a row may wait for its
    platform's token, and whether a platform has room for one more row in hand."""

    @property
    def stopping(self) -> bool: ...
    @property
    def patience(self) -> float: ...
    def enter(self, platform: str) -> bool:
        """Returns whether ``platform`` has room for one more row in hand (and takes the place when it has).
        Raises nothing."""
        ...

    def leave(self, platform: str) -> None:
        """Give back a place :meth:`enter` took. Returns nothing; raises nothing."""
        ...


class Attempts:
    def __init__(self, store: Store, clock: Clock, routes: Routes, circuits: Circuits, paces: Mapping[str, Pace],
                 policy: RetryPolicy, expired: Mapping[DeliveryKind, Msg], concurrency: int,
                 rng: random.Random, metrics: Metrics = NO_METRICS) -> None:
        self._store = store
        self._clock = clock
        self._routes = routes
        self._circuits = circuits
        self._paces = paces
        self._policy = policy
        self._expired = expired
        self._rng = rng
        self._metrics = metrics
        self._slots: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(concurrency))

    async def attempt(self, delivery: Delivery, gate: Gate) -> Delivery | None:
        """Handle one claimed row; ``None`` when it was given back unsent because the loop is stopping."""
        if delivery.expires_at is not None and delivery.expires_at <= self._clock.now():
            last = decode_text(delivery.reason) if delivery.reason else None
            await self._end(delivery, DeliveryStatus.MISSED, missed_reason(self._expired_reason(delivery), last))
            return delivery
        try:
            route = await self._routes.route(delivery)
        except Cancelled as cancelled:
            await self._end(delivery, DeliveryStatus.CANCELLED, cancelled.reason)
        except Skip as skip:
            await self._end(delivery, DeliveryStatus.SKIPPED, skip.reason)
        except Unreadable as unreadable:
            await self._end(delivery, DeliveryStatus.FAILED, unreadable.reason)
        except Waiting as waiting:
            await self._retry(delivery, None, waiting.reason)
        except HandBack as back:
            await self._hand_back(delivery, back.platform, (back.until - self._clock.now()).total_seconds())
        except Exception as error:  # a builder or a role look-up failed: the row must not be lost
            log.exception("delivery %d could not be prepared", delivery.id)
            await self._retry(delivery, None, _("unexpected error: {error}", error=type(error).__name__))
        else:
            return await self._go(delivery, route, gate)
        return delivery

    async def _go(self, delivery: Delivery, route: Route, gate: Gate) -> Delivery | None:
        platform = route.platform
        if gate.stopping:
            await self._store.outbox.release([delivery.id])
            return None
        admission = await self._circuits.admit(platform)
        if isinstance(admission, Hold):
            await self._hold(delivery, platform, admission)
            return delivery
        pace = self._paces.get(platform)
        entered = not admission.probe  # the probe never waits behind its platform's queue
        if entered and not gate.enter(platform):
            await self._hand_back(delivery, platform, pace.later() if pace else 1.0)
            return delivery
        try:
            if pace is not None and not await pace.take(gate.patience):
                await self._hand_back(delivery, platform, pace.later())
                return delivery
            async with self._slots[platform]:
                if gate.stopping:
                    await self._store.outbox.release([delivery.id])
                    return None
                if not admission.probe:  # it may have paused while this row waited for its turn
                    admission = await self._circuits.admit(platform)
                    if isinstance(admission, Hold):
                        await self._hold(delivery, platform, admission)
                        return delivery
                if delivery.expires_at is not None and delivery.expires_at <= self._clock.now():
                    # It expired while waiting for its pace or a slot: a reminder never goes out after the start.
                    last = decode_text(delivery.reason) if delivery.reason else None
                    await self._end(delivery, DeliveryStatus.MISSED,
                                    missed_reason(self._expired_reason(delivery), last), platform)
                    return delivery
                await self._send(delivery, route, probe=admission.probe)
                return delivery
        finally:
            if entered:
                gate.leave(platform)

    async def _send(self, delivery: Delivery, route: Route, *, probe: bool) -> None:
        platform = route.platform
        if delivery.uncertain and route.posts and isinstance(route.adapter, InFlightAware):
            route.adapter.expect_in_flight([delivery.dedupe_key])
        started = time.monotonic()
        try:
            sent = await route.send()
        except Rerouted as rerouted:
            # The platform answered (it is up); the row goes again now through the person's next account, at
            # that platform's pace: handed back, no attempt counted.
            await self._circuits.succeeded(platform)
            await self._store.outbox.defer(delivery.id, self._clock.now(), platform=platform,
                                           reason=encode_text(rerouted.reason))
        except PermanentDeliveryError as error:
            await self._end(delivery, DeliveryStatus.FAILED, error.reason, platform)
            await self._circuits.succeeded(platform)  # it answered: the platform is up
        except TransientDeliveryError as error:
            if error.rate_limited:
                self._metrics.rate_limited(platform)
            if error.rate_limited and error.route is not None:
                await self._wait_for_route(delivery, platform, error)
            elif error.rate_limited or error.retry_after is not None:
                until = await self._circuits.rate_limited(platform, error.retry_after, error.reason)
                pace = self._paces.get(platform)
                if pace is not None:
                    pace.penalise((until - self._clock.now()).total_seconds())
                await self._hold(delivery, platform, Hold(until, error.reason), uncertain=error.may_have_landed)
            else:
                await self._circuits.failed(platform, error.reason, probe=probe)
                await self._retry(delivery, platform, error.reason, uncertain=error.may_have_landed)
        except Exception as error:  # an adapter bug must not stop the worker or lose the row
            log.exception("delivery %d failed unexpectedly", delivery.id)
            await self._retry(delivery, platform, _("unexpected error: {error}", error=type(error).__name__),
                              uncertain=route.posts)
        else:
            self._metrics.send_latency(platform, time.monotonic() - started)
            await self._store.outbox.mark_sent(delivery.id, sent, self._clock.now())
            self._metrics.delivery_finished(platform, DeliveryStatus.SENT.value)
            await self._circuits.succeeded(platform)

    async def _retry(self, delivery: Delivery, platform: str | None, reason: Msg, *, uncertain: bool = False) -> None:
        """After a failed attempt: back off, within the deadline and the row's relevance."""
        now = self._clock.now()
        wanted = now + timedelta(seconds=self._policy.backoff(delivery.attempts, self._rng))
        await self._apply(delivery, platform, next_step(self._policy, delivery, now, wanted, reason,
                                                        self._expired_reason(delivery)),
                          lambda at: self._store.outbox.retry_later(delivery.id, at, encode_text(reason), since=now,
                                                                    platform=platform, uncertain=uncertain))

    async def _hold(self, delivery: Delivery, platform: str, hold: Hold, *, uncertain: bool = False) -> None:
        """The platform is paused: the row waits for it without counting an attempt (the deadline runs)."""
        now = self._clock.now()
        verdict = next_step(self._policy, delivery, now, max(hold.until, _soon(now)), hold.reason,
                            self._expired_reason(delivery))
        await self._apply(delivery, platform, verdict,
                          lambda at: self._store.outbox.defer(delivery.id, at, platform=platform,
                                                              reason=encode_text(hold.reason), since=now,
                                                              uncertain=uncertain))

    async def _wait_for_route(self, delivery: Delivery, platform: str, error: TransientDeliveryError) -> None:
        """One route of the platform asked to wait: this row waits until it lifts, and nothing else does.

        It is the platform telling us when, not a failure: no attempt counted, no circuit touched, the platform
        neither paused nor slowed down, and the retry deadline does not start (only relevance applies). The
        row's token goes back to its platform's pace: whether the adapter refused the route itself or the
        platform answered 429, the row did not post.
        """
        pace = self._paces.get(platform)
        if pace is not None:
            pace.give_back()
        now = self._clock.now()
        seconds = RATE_LIMIT_DEFAULT_SECONDS if error.retry_after is None else max(0.0, error.retry_after)
        wanted = max(now + timedelta(seconds=seconds), _soon(now))
        verdict = next_step(self._policy, delivery, now, wanted, error.reason, self._expired_reason(delivery),
                            streak=False)
        await self._apply(delivery, platform, verdict,
                          lambda at: self._store.outbox.defer(delivery.id, at, platform=platform,
                                                              reason=encode_text(error.reason),
                                                              uncertain=error.may_have_landed))

    async def _hand_back(self, delivery: Delivery, platform: str, seconds: float) -> None:
        """The platform is busy (normal pacing): the row comes back at its turn, nothing counted."""
        now = self._clock.now()
        wanted = max(now + timedelta(seconds=seconds), _soon(now))
        last = decode_text(delivery.reason) if delivery.reason else None
        verdict = next_step(self._policy, delivery, now, wanted, last, self._expired_reason(delivery),
                            streak=False)
        await self._apply(delivery, platform, verdict,
                          lambda at: self._store.outbox.defer(delivery.id, at, platform=platform))

    async def _apply(self, delivery: Delivery, platform: str | None, verdict: Verdict, later: _Later) -> None:
        match verdict:
            case Later(at):
                await later(at)
            case Missed(reason):
                await self._end(delivery, DeliveryStatus.MISSED, reason, platform)
            case GiveUp(reason):
                await self._end(delivery, DeliveryStatus.FAILED, reason, platform, retryable=True)

    async def _end(self, delivery: Delivery, status: DeliveryStatus, reason: Msg, platform: str | None = None, *,
                   retryable: bool = False) -> None:
        await self._store.outbox.mark_final(delivery.id, status, encode_text(reason), self._clock.now(),
                                            platform=platform, retryable=retryable)
        self._metrics.delivery_finished(platform or delivery.platform or NO_PLATFORM, status.value)

    def _expired_reason(self, delivery: Delivery) -> Msg:
        kind = delivery.kind
        return EXPIRED if isinstance(kind, UnknownKind) else self._expired.get(kind, EXPIRED)


class _Later(Protocol):
    def __call__(self, at: datetime, /) -> Awaitable[None]:
        """Hand the row back until ``at``. Returns an awaitable of nothing; raises nothing of its own (the
        store's errors go on)."""
        ...


def _soon(now: datetime) -> datetime:
    return now + timedelta(seconds=MIN_HAND_BACK_SECONDS)
