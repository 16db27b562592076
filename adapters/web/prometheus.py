"""The core's :class:`bot.metrics.Metrics` port, implemented with prometheus-client.

Each instance owns a :class:`~prometheus_client.CollectorRegistry`, never the library's global one: two apps in
one process (tests, benchmarks) would otherwise share counters, or refuse to register the same names twice.

Every label value comes from a closed set (platform names, delivery statuses, declared command paths, three
outcomes, two queue statuses), so the number of series stays small and no user content (a topic title, a
person's id, text someone typed) can reach a monitoring system.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger(__name__)

NAMESPACE = "coalition"
OPEN_STATUSES = ("pending", "sending")
"""The queue-depth gauge's statuses: rows waiting to be sent, and rows a worker holds right now."""
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: a platform API answers in tens to hundreds of milliseconds; a split message or a slow gateway takes
seconds (pacing waits are not included)."""


class PrometheusMetrics:
    """Counters and a histogram the core reports to, and the queue depth set at scrape time.

    Reporting never raises (see :class:`bot.metrics.Metrics`): an error is logged and the delivery or command
    goes on.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._deliveries = Counter(
            "deliveries_finished", "Outbox rows that reached a final status, by platform and status.",
            ("platform", "status"), namespace=NAMESPACE, registry=self.registry)
        self._latency = Histogram(
            "send_latency_seconds", "Time a successful send spent at the platform, by platform.",
            ("platform",), namespace=NAMESPACE, registry=self.registry, buckets=LATENCY_BUCKETS)
        self._rate_limited = Counter(
            "rate_limited", "Sends a platform rate-limited (HTTP 429) or held back while a route's limit ran.",
            ("platform",), namespace=NAMESPACE, registry=self.registry)
        self._commands = Counter(
            "commands_handled", "Commands answered, by declared command and outcome "
            "(ok, user_error, internal_error).",
            ("command", "outcome"), namespace=NAMESPACE, registry=self.registry)
        self._queue = Gauge(
            "delivery_queue_depth", "Outbox rows pending or being sent, read from the database at scrape time.",
            ("status",), namespace=NAMESPACE, registry=self.registry)

    def delivery_finished(self, platform: str, status: str, count: int = 1) -> None:
        try:
            if count > 0:
                self._deliveries.labels(platform=platform, status=status).inc(count)
        except Exception:
            log.exception("metrics: could not count a finished delivery")

    def send_latency(self, platform: str, seconds: float) -> None:
        try:
            self._latency.labels(platform=platform).observe(max(0.0, seconds))
        except Exception:
            log.exception("metrics: could not record a send's latency")

    def rate_limited(self, platform: str) -> None:
        try:
            self._rate_limited.labels(platform=platform).inc()
        except Exception:
            log.exception("metrics: could not count a rate limit")

    def command_handled(self, command: str, outcome: str) -> None:
        try:
            self._commands.labels(command=command, outcome=outcome).inc()
        except Exception:
            log.exception("metrics: could not count a command")

    def set_queue_depth(self, counts: Mapping[str, int] | None) -> None:
        """The outbox's open rows as just read; ``None`` (the database did not answer) drops the series, so a
        dashboard shows no data rather than a stale number."""
        if counts is None:
            self._queue.clear()
            return
        for status in OPEN_STATUSES:
            self._queue.labels(status=status).set(counts.get(status, 0))

    def exposition(self) -> bytes:
        """Everything in this registry, in Prometheus' text format."""
        return generate_latest(self.registry)
