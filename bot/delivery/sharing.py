"""Several bot processes sending for one coalition share each platform's budget instead of each spending all of it.

Why: Discord's global limit and Slack's per-workspace limits belong to the bot's account, not to a process. Two
processes each pacing at the full rate send twice what the platform allows, and both get 429s. Each process
counts the delivery workers whose lease is live (``worker_leases``, the rows every worker keeps fresh) and takes
that fraction of every bucket. A process that dies keeps its share counted until its lease lapses: the others
send a little slower for that time, never faster than allowed.

A budget that learns its rate from 429s (:class:`bot.delivery.pacing.AdaptiveBucket`: Slack's workspace budget,
Discord's global pace) learns it once for all the processes, in the database (:class:`SharedRates`): a 429 that
one process sees lowers every process's pace, the 429s of one overshoot (seen by several processes within
:data:`SAME_OVERSHOOT`) lower it once, and it rises a step only after a clean period in which no process saw one.
Learnt apart, each process would raise its own rate after its own clean period, and together they would overshoot
N times as often; and a process that joins starts from what the others learnt, not from the setting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.delivery.pacing import AdaptiveBucket, Shares
from bot.delivery.stores import LeaseStore

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
"""How often the workers are counted and the learnt rates read: a process that joins waits twice this before it
sends (see :meth:`run`), so the others have lowered their share by then."""
SAME_OVERSHOOT = timedelta(seconds=2)
"""429s seen within this of the last decrease, by any process, belong to the same overshoot (the requests every
process had in flight, and a process hears of another's decrease up to :data:`REFRESH_SECONDS` late)."""


@dataclass(frozen=True, slots=True)
class SharedRate:
    """One account's learnt rate, for all the processes together (requests a second)."""

    name: str
    rate: float
    start: float
    """The setting the rate was learnt from: a process with another setting starts learning afresh."""
    slowed_at: datetime | None
    """The last decrease (a platform-wide 429 some process saw)."""
    changed_at: datetime
    """The last change either way: the clean period before the next step up counts from here."""


class SharedRates(Protocol):
    """The learnt rates, in the database every process shares."""

    async def all(self) -> Mapping[str, SharedRate]:
        """Returns every account's learnt rate by name. Raises nothing of its own."""
        ...

    async def settle(self, name: str,
                     decide: Callable[[SharedRate | None], SharedRate | None]) -> SharedRate | None:
        """Read ``name``'s rate, ask ``decide`` and write what it returns (``None``: nothing to write), in one
        write transaction, so two processes deciding at once decide one after the other. Returns the rate now
        stored. Raises nothing of its own."""
        ...


def settle(stored: SharedRate | None, bucket: AdaptiveBucket, slowed: bool, now: datetime) -> SharedRate | None:
    """What the shared rate becomes when this process, whose bucket saw a 429 since it last settled (``slowed``) or
    not, looks at it at ``now``; ``None`` when it stays as it is.

    First seen, or learnt from another setting than this bucket's (the operator changed it): the bucket's own rate
    (the setting, or where a 429 just took it). A 429: one decrease from the stored rate, unless a process decreased
    it within :data:`SAME_OVERSHOOT` (the same overshoot; the clean period starts again). No 429: a step up once a
    clean period has passed since the last change by anyone."""
    if stored is None or stored.start != bucket.start:
        return SharedRate(bucket.name, bucket.rate, bucket.start, now if slowed else None, now)
    if slowed:
        if stored.slowed_at is not None and now - stored.slowed_at < SAME_OVERSHOOT:
            return SharedRate(stored.name, stored.rate, stored.start, stored.slowed_at, now)
        return SharedRate(stored.name, bucket.lowered(stored.rate), stored.start, now, now)
    raised = bucket.raised(stored.rate)
    if raised > stored.rate and now - stored.changed_at >= timedelta(seconds=bucket.clean_seconds):
        return SharedRate(stored.name, raised, stored.start, stored.slowed_at, now)
    return None


class BudgetShare:
    def __init__(self, leases: LeaseStore, clock: Clock, buckets: Callable[[], Iterable[Shares]],
                 *, rates: SharedRates | None = None, refresh_seconds: float = REFRESH_SECONDS) -> None:
        """``buckets``: every bucket (and adapter pacing of its own) that paces against a platform account's
        limits; ``rates``: where the learning budgets learn together (``None``: each learns on its own)."""
        self._leases = leases
        self._clock = clock
        self._buckets = buckets
        self._rates = rates
        self.refresh_seconds = refresh_seconds
        self.workers = 1

    async def refresh(self) -> int:
        """Count the live workers (this one included, at least one) and give every bucket its share; bring the
        learning budgets to the rate the processes learnt together."""
        workers = max(1, await self._leases.live(self._clock.now()))
        if workers != self.workers:
            log.info("delivery: %d workers share the platforms' budgets", workers)
        self.workers = workers
        buckets = list(self._buckets())
        for bucket in buckets:
            bucket.set_share(1 / workers)
        if self._rates is not None:
            await self._learn_together([b for b in buckets if isinstance(b, AdaptiveBucket)], self._rates)
        return workers

    async def _learn_together(self, buckets: list[AdaptiveBucket], rates: SharedRates) -> None:
        """One read for every budget; a write transaction only for a budget whose rate changes."""
        now = self._clock.now()  # before the read: a read queued behind a write must not age this process's 429s
        stored = await rates.all()
        for bucket in buckets:
            bucket.shared = True
            slows = bucket.slows
            slowed = slows > bucket.settled_slows
            current = stored.get(bucket.name)
            if current is not None and current.start != bucket.start:
                log.warning("delivery: the %s budget was learnt from a start of %g/s, this process's setting is %g/s: "
                            "learning afresh from the setting", bucket.name, current.start, bucket.start)
            if settle(current, bucket, slowed, now) is not None:
                current = await rates.settle(bucket.name, _decider(bucket, slowed, now))
            if current is not None:
                bucket.adopt(current.rate, slows=slows)

    async def run(self) -> None:
        """Refresh until cancelled; a failed count keeps the last share (the database will answer again)."""
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("delivery: counting the workers failed; keeping the last share")
            await asyncio.sleep(self.refresh_seconds)


def _decider(bucket: AdaptiveBucket, slowed: bool,
             now: datetime) -> Callable[[SharedRate | None], SharedRate | None]:
    """:func:`settle` for one bucket, to be run again on the row as the write transaction reads it."""
    return lambda stored: settle(stored, bucket, slowed, now)

