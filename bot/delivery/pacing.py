"""Token buckets that keep sends under each platform's rate limit ahead of time, so 429s stay rare, and the
worker's view of a platform's pace: how long a row would wait for its turn, so it can hand the row back rather
than hold it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

HAND_BACK_AHEAD = 60.0
"""How far ahead of a platform's pace rows handed back are spread, at most (seconds)."""


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
        self._tokens = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._updated = monotonic()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def delay(self) -> float:
        """Seconds until a token would be free, without taking one."""
        self._refill()
        return max(0.0, (1 - self._tokens) / self.rate)

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
        self._tokens = min(self._tokens, 0.0) - seconds * self.rate

    def give_back(self) -> None:
        """Return a token whose request was never made (never beyond ``burst``)."""
        self._refill()
        self._tokens = min(self.burst, self._tokens + 1)


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
        self._horizon = start + (1 / self.bucket.rate if self.bucket else 0.0)
        return start - now

    def penalise(self, seconds: float) -> None:
        if self.bucket is not None:
            self.bucket.penalise(seconds)

    def give_back(self) -> None:
        """A row that took its token did not post (a route of the platform was limited): the next row may use
        it. A self-paced adapter takes a token per request it makes, so there is nothing to return."""
        if self.bucket is not None and not self.self_paced:
            self.bucket.give_back()
