"""What the core reports for operators to watch: deliveries finished, send latency, rate limits, commands handled.

Why a port: the core must not know how numbers are collected (Prometheus, a log, nothing), and a process that
exports nothing must pay nothing, so the composition root hands an implementation to the constructors of the
delivery worker and the dispatcher, and everything defaults to :data:`NO_METRICS`. Queue depth is not reported
here: it is read from the store when metrics are scraped (the store already counts rows by status), so it can
never drift from the database.

Labels are chosen from closed sets only (a platform name, a delivery status, a declared command's path, an
outcome): never a topic title, a person's id or any text someone typed, since a metrics endpoint is read by
monitoring systems that are not allowed to see members-only content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

__all__ = ["INTERNAL_ERROR", "NO_METRICS", "NO_PLATFORM", "OK", "USER_ERROR", "HealthStore", "Metrics", "NoMetrics"]

OK: Final = "ok"
"""A command's outcome: it ran and answered."""
USER_ERROR: Final = "user_error"
"""A command's outcome: refused with a translated error (bad input, no permission, unknown command)."""
INTERNAL_ERROR: Final = "internal_error"
"""A command's outcome: a bug; the person was told something went wrong."""
NO_PLATFORM: Final = "none"
"""The platform label of a row that ended before any platform was chosen for it (cancelled, skipped)."""


class Metrics(Protocol):
    """Counters and a histogram the core reports to. A failing exporter must never stop a delivery or a command:
    implementations swallow their own errors."""

    def delivery_finished(self, platform: str, status: str, count: int = 1) -> None:
        """``count`` rows reached a final status (``sent``, ``failed``, ``skipped``, ``cancelled``, ``missed``)
        through ``platform`` (:data:`NO_PLATFORM` when none was chosen): one by the worker, many at once when an
        announcement is cancelled or digests are missed. Returns nothing; raises nothing."""
        ...

    def send_latency(self, platform: str, seconds: float) -> None:
        """A send to ``platform`` succeeded after ``seconds`` on the wire (pacing waits excluded). Returns nothing;
        raises nothing."""
        ...

    def rate_limited(self, platform: str) -> None:
        """``platform`` asked to slow down (an HTTP 429), or the adapter held a send back while a route's limit
        ran. Returns nothing; raises nothing."""
        ...

    def command_handled(self, command: str, outcome: str) -> None:
        """The dispatcher answered ``command`` (a declared command's path, words joined by spaces, or
        ``unknown``) with ``outcome``: :data:`OK`, :data:`USER_ERROR` or :data:`INTERNAL_ERROR`. Returns nothing;
        raises nothing."""
        ...


class NoMetrics:
    """The default: reports go nowhere, at the cost of a method call."""

    def delivery_finished(self, platform: str, status: str, count: int = 1) -> None:
        return None

    def send_latency(self, platform: str, seconds: float) -> None:
        return None

    def rate_limited(self, platform: str) -> None:
        return None

    def command_handled(self, command: str, outcome: str) -> None:
        return None


NO_METRICS: Final[Metrics] = NoMetrics()


class HealthStore(Protocol):
    """What operations read from the database when asked (``/readyz``, a metrics scrape), never on a hot path."""

    async def ping(self) -> None:
        """Returns once the database answered a query. Raises what the database raises when it cannot."""
        ...

    async def open_deliveries(self) -> Mapping[str, int]:
        """Returns how many outbox rows are ``pending`` and ``sending``, by status (a status with none may be
        missing). The cost follows the number of open rows (an index range), not the outbox's size. Raises
        nothing of its own."""
        ...
