"""Rate limits on one route of a platform — opening DMs, one channel — kept by the adapter that hit them.

Why here and not in the worker: only the adapter knows which route a delivery takes (a DM whose channel is
already known never opens one), so only it can refuse a call to a limited route while letting the rest of the
platform through. Why refuse locally instead of asking again: every request to a route that said 429 is wasted
and, on Discord, counts towards the ban of bots that make 10,000 invalid requests in 10 minutes. A refusal is a
:class:`~bot.delivery.errors.TransientDeliveryError` with the route and the time left, which the worker turns into a
wait for that row alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.delivery.circuit import RATE_LIMIT_DEFAULT_SECONDS
from bot.delivery.errors import TransientDeliveryError
from bot.i18n import Msg

log = logging.getLogger(__name__)


class RouteLimits:
    """One platform's limited routes, each until a deadline on ``monotonic`` (injectable for tests).

    ``reason`` is what a refusal says (the platform's "rate limited"). A 429 that did not say how long is taken
    for :data:`~bot.delivery.circuit.RATE_LIMIT_DEFAULT_SECONDS`, as the worker does for a whole platform.
    """

    def __init__(self, platform: str, reason: Msg, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._platform = platform
        self._reason = reason
        self._monotonic = monotonic
        self._until: dict[str, float] = {}

    def remaining(self, route: str) -> float | None:
        """Seconds until ``route`` may be called again; ``None`` when it is not limited."""
        until = self._until.get(route)
        if until is None:
            return None
        left = until - self._monotonic()
        if left <= 0:
            del self._until[route]
            return None
        return left

    def check(self, route: str) -> None:
        """Raise the route's rate limit, with the time left, while it lasts — before any request is made."""
        left = self.remaining(route)
        if left is not None:
            raise TransientDeliveryError(self._reason, left, rate_limited=True, route=route)

    def note(self, error: TransientDeliveryError) -> None:
        """Remember a route-scoped rate limit the platform answered, so the next call to it is refused here."""
        if not error.rate_limited or error.route is None:
            return
        seconds = RATE_LIMIT_DEFAULT_SECONDS if error.retry_after is None else error.retry_after
        if seconds <= 0:  # "Retry-After: 0" asks for no wait
            return
        now = self._monotonic()
        self._until = {route: until for route, until in self._until.items() if until > now}
        self._until[error.route] = max(self._until.get(error.route, now), now + seconds)
        log.info("delivery: %s rate-limited %s; calls to it wait %.0f s, the rest of %s goes on", self._platform,
                 error.route, seconds, self._platform)
