"""Token buckets that keep sends under each platform's rate limit ahead of time, so 429s stay rare, and the
worker's view of a platform's pace: how long a row would wait for its turn, so it can hand the row back rather
than hold it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

HAND_BACK_AHEAD = 60.0
"""How far ahead of a platform's pace rows handed back are spread, at most (seconds)."""


class Shares(Protocol):
    """Something that paces requests against a platform account's limit, and so takes this process's share of it
    when several processes send for the account (:class:`bot.delivery.sharing.BudgetShare`)."""

    def set_share(self, share: float) -> None:
        """Pace at ``share`` (0 < share <= 1) of the rate. Returns nothing; raises ValueError for another share."""
        ...


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up. ``acquire`` waits until a token is free.

    A token is reserved at once and waited for afterwards, so waiters are served in order and each knows its
    wait up front (which :meth:`acquire_within` needs). The monotonic clock and the sleep are injectable so
    tests and benchmarks can measure pacing exactly.
    """

    def __init__(self, rate: float, burst: float, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.share = 1.0
        """This process's part of the platform's budget (see :meth:`set_share`)."""
        self._tokens = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._updated = monotonic()

    @property
    def pace(self) -> float:
        """Tokens a second this process may take: the rate, times its share of the budget."""
        return self.rate * self.share

    @property
    def cap(self) -> float:
        """Tokens this process may save up: the burst, times its share (at least one, or nothing is ever sent)."""
        return max(1.0, self.burst * self.share)

    def set_share(self, share: float) -> None:
        """Several processes send to one platform account: each takes ``share`` of its budget (1 / the processes
        sending), so together they stay under the platform's limit instead of each spending all of it."""
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self._refill()
        self.share = share
        self._tokens = min(self._tokens, self.cap)

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.cap, self._tokens + (now - self._updated) * self.pace)
        self._updated = now

    def delay(self) -> float:
        """Seconds until a token would be free, without taking one."""
        self._refill()
        return max(0.0, (1 - self._tokens) / self.pace)

    async def acquire(self) -> None:
        await self.acquire_within(math.inf)

    async def acquire_within(self, seconds: float) -> bool:
        """Take a token if one is free within ``seconds`` (then wait for it); False, taking nothing, if not."""
        wait = self.delay()
        if wait > seconds:
            return False
        self._tokens -= 1
        if wait > 0:
            await self._sleep(wait)
        return True

    def penalise(self, seconds: float) -> None:
        """After a platform said "slow down" for ``seconds``, take the tokens that time would have given."""
        self._refill()
        self._tokens = min(self._tokens, 0.0) - seconds * self.pace

    def give_back(self) -> None:
        """Return a token whose request was never made (never beyond ``burst``)."""
        self._refill()
        self._tokens = min(self.cap, self._tokens + 1)

    def spare(self) -> bool:
        """Whether a full burst is saved up: nobody is using the budget, so background work may."""
        self._refill()
        return self._tokens >= self.cap - 1e-9


class AdaptiveBucket(TokenBucket):
    """A :class:`TokenBucket` whose rate follows what the platform says: AIMD.

    Why: a platform's budget is not always published (Slack's workspace limit), or can be larger or smaller
    than documented (Discord grants big bots more, and a shared budget leaves less). So the rate starts at
    ``start`` and, on a platform-wide 429 (:meth:`penalise`, called by the worker, or :meth:`slow_down`, called
    by an adapter that sees the 429 itself), drops to ``decrease`` × rate (never below ``floor``); after
    ``clean_seconds`` without one it creeps up by ``max(1, 5 %)`` a step, at most to ``ceiling`` (``None``: no
    ceiling). Every change is logged.
    """

    def __init__(self, start: float, burst: float, *, floor: float, ceiling: float | None = None,
                 decrease: float = 0.5, clean_seconds: float = 60.0, name: str = "platform",
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if not 0 < floor <= start or (ceiling is not None and ceiling < start) or not 0 < decrease < 1:
            raise ValueError("need 0 < floor <= start <= ceiling and 0 < decrease < 1")
        super().__init__(start, burst, monotonic=monotonic, sleep=sleep)
        self.floor = floor
        self.ceiling = ceiling
        self.decrease = decrease
        self.clean_seconds = clean_seconds
        self.name = name
        self.start = start
        """Where the rate started: the setting a shared rate was learnt from (see :attr:`shared`)."""
        self.decreases = 0
        self.shared = False
        """Several processes send for the account: the rate is the one they learn together (see
        :class:`bot.delivery.sharing.BudgetShare`), so this bucket never raises it on its own."""
        self.slows = 0
        """Platform-wide 429s seen so far; those beyond :attr:`settled_slows` are not yet in the shared rate."""
        self.settled_slows = 0
        self._calm_since = monotonic()

    def _refill(self) -> None:
        super()._refill()
        if self.shared or (self.ceiling is not None and self.rate >= self.ceiling):
            return
        if self._updated - self._calm_since >= self.clean_seconds:
            self._set_rate(self.raised(self.rate), "a clean period")
            self._calm_since = self._updated

    def raised(self, rate: float) -> float:
        """``rate`` a step up after a clean period: ``max(1, 5 %)``, never above the ceiling."""
        step = max(1.0, rate * 0.05)
        return rate + step if self.ceiling is None else min(self.ceiling, rate + step)

    def lowered(self, rate: float) -> float:
        """``rate`` after a platform-wide 429: ``decrease`` × it, never below the floor."""
        return max(self.floor, rate * self.decrease)

    def _set_rate(self, rate: float, why: str) -> None:
        if rate != self.rate:
            log.info("%s pace %.2f/s → %.2f/s after %s", self.name, self.rate, rate, why)
            self.rate = rate

    def slow_down(self, seconds: float | None = None) -> None:
        """The platform answered a platform-wide 429: lower the rate, and take the tokens the wait would give.

        429s that arrive together (the requests already in flight) count once: a second decrease within a
        second of the last would halve the rate for the same overshoot."""
        super()._refill()
        now = self._updated
        self.slows += 1
        if self.decreases == 0 or now - self._calm_since >= 1.0:
            self.decreases += 1
            self._set_rate(self.lowered(self.rate), "a rate limit")
        self._calm_since = now
        if seconds is not None and seconds > 0:
            self._tokens = min(self._tokens, 0.0) - seconds * self.pace

    def penalise(self, seconds: float) -> None:
        """The worker's path for a platform-wide 429 (see :meth:`slow_down`)."""
        self.slow_down(seconds)

    def adopt(self, rate: float, *, slows: int) -> None:
        """Pace at ``rate``, the one every process sending for the account settled on (kept between the floor and
        the ceiling), which counted this bucket's first ``slows`` 429s (one that came while it was being settled
        counts next time)."""
        super()._refill()
        rate = max(self.floor, rate if self.ceiling is None else min(self.ceiling, rate))
        self._set_rate(rate, "the processes' shared budget")
        self._tokens = min(self._tokens, self.cap)
        self.settled_slows = max(self.settled_slows, slows)


class Pace:
    """One platform's pace as the worker applies it.

    ``bucket`` is ``None`` for a platform the worker does not pace; ``self_paced`` when the adapter takes its
    own tokens (one per request): the worker then only looks at the bucket. A row whose token is further away
    than ``patience`` is handed back for later (:meth:`later`), so it waits in the database, not in memory, and
    rows handed back are spread at the platform's rate instead of all returning at once.
    """

    def __init__(self, bucket: TokenBucket | None, *, self_paced: bool = False,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.bucket = bucket
        self.self_paced = self_paced
        self._monotonic = monotonic
        self._horizon = 0.0

    async def take(self, patience: float) -> bool:
        """Wait for this row's token if it comes within ``patience`` seconds; False: hand the row back."""
        if self.bucket is None:
            return True
        if self.self_paced:
            return self.bucket.delay() <= patience
        return await self.bucket.acquire_within(patience)

    def later(self, at_least: float = 1.0) -> float:
        """Seconds from now to hand a row back for: one token after the last row handed back, but never more
        than :data:`HAND_BACK_AHEAD` beyond the bucket's own wait (rows handed back may since have been
        cancelled; those beyond come back together and are spread again)."""
        now = self._monotonic()
        wait = max(at_least, self.bucket.delay() if self.bucket else 0.0)
        start = min(max(now + wait, self._horizon), now + wait + HAND_BACK_AHEAD)
        self._horizon = start + (1 / self.bucket.pace if self.bucket else 0.0)
        return start - now

    def penalise(self, seconds: float) -> None:
        if self.bucket is not None:
            self.bucket.penalise(seconds)

    def give_back(self) -> None:
        """A row that took its token did not post (a route of the platform was limited): the next row may use
        it. A self-paced adapter takes a token per request it makes, so there is nothing to return."""
        if self.bucket is not None and not self.self_paced:
            self.bucket.give_back()
