"""Token buckets that keep sends under each platform's rate limit ahead of time, so 429s stay rare."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up. ``acquire`` waits until a token is free.

    The monotonic clock and the sleep are injectable so tests and benchmarks can measure pacing exactly.
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
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> None:
        async with self._lock:
            self._refill()
            while self._tokens < 1:
                await self._sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1

    def penalise(self, seconds: float) -> None:
        """After a platform said "slow down" for ``seconds``, take the tokens that time would have given."""
        self._refill()
        self._tokens = min(self._tokens, 0.0) - seconds * self.rate
