"""What the composition root hands the delivery worker: its tuning, and each platform it sends through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.delivery.circuit import CircuitConfig
from bot.delivery.pacing import Shares, TokenBucket
from bot.delivery.retry import RetryPolicy
from bot.ports import PlatformAdapter


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """``batch_size``: rows ``run_due`` claims at once, and rows one platform may hold in the pipeline (it holds
    ``batch_size`` per platform in all). ``concurrency``: sends in flight at once per platform.
    ``patience_seconds``: the longest a row waits in memory for its platform's token; a row whose turn is
    further off goes back to the database until then. ``retry_for``: how long transient failures are retried,
    from the first of a streak."""

    poll_seconds: float = 5.0
    batch_size: int = 50
    concurrency: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    retry_for: timedelta = timedelta(hours=24)
    circuit_threshold: int = 5
    circuit_cooldown_seconds: float = 1.0
    circuit_cooldown_max_seconds: float = 5.0
    patience_seconds: float = 2.0
    report_every_seconds: float = 5.0
    """The after-batch hook runs this often while rows complete (and whenever the pipeline runs dry). Each run may
    edit an announcement's live report, a request under the platform's own limit: every 2 s that took 1 % of
    Discord's global budget from a fan-out (issue 23), every 5 s it takes 0.4 %."""

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.backoff_base_seconds, self.backoff_max_seconds, self.retry_for)

    def circuit(self) -> CircuitConfig:
        return CircuitConfig(threshold=self.circuit_threshold, cooldown_seconds=self.circuit_cooldown_seconds,
                             cooldown_max_seconds=self.circuit_cooldown_max_seconds)


@dataclass(frozen=True, slots=True)
class Outlet:
    """A platform the worker sends to. ``bucket`` paces it; ``self_paced`` when the adapter takes its tokens
    itself (one per request, where a delivery may cost several) — the worker then only looks at the bucket to
    hand rows back while it is far behind, and slows it down after a 429."""

    adapter: PlatformAdapter
    bucket: TokenBucket | None = None
    self_paced: bool = False
    shared: tuple[Shares, ...] = ()
    """What else of the adapter paces against the account's limits (Slack's per-channel and conversations.open
    pacing): with several processes each takes its share of these too."""
