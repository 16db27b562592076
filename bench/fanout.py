"""Fan-out benchmark: one announcement to N subscribers through an adapter that enforces a rate limit.

The adapter answers 429 (a TransientDeliveryError with Retry-After) whenever more than ``--limit`` sends
arrive within one second, like a platform's rate limiter. The figure of merit is the achieved throughput as
a ratio of that limit — the reference measured in the same run — plus 429s received, lost and duplicated
deliveries. Target: ratio ≥ 0.9, zero 429s, zero lost, zero duplicated.

    .venv/bin/python bench/fanout.py                # 10,000 recipients at 100/s
    .venv/bin/python bench/fanout.py --n 2000 --limit 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from collections import Counter, deque
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.assembly import build_app
from app.settings import Settings
from bot.commands.context import IncomingCommand
from bot.delivery.errors import TransientDeliveryError
from bot.delivery.model import SentMessage
from bot.delivery.pacing import TokenBucket
from bot.delivery.worker import Outlet
from bot.messages import RenderedMessage
from bot.model import Identity, IdentityRecord
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility

PLATFORM = "bench"


class RateLimitedAdapter:
    """At most ``limit`` sends in any one-second window; beyond that, a 429 with Retry-After."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.window: deque[float] = deque()
        self.received: Counter[str] = Counter()
        self.rejected = 0
        self.first: float | None = None
        self.last = 0.0

    @property
    def platform(self) -> str:
        return PLATFORM

    def _admit(self) -> None:
        now = time.monotonic()
        while self.window and now - self.window[0] >= 1.0:
            self.window.popleft()
        if len(self.window) >= self.limit:
            self.rejected += 1
            raise TransientDeliveryError("429 rate limited", retry_after=1.0 - (now - self.window[0]))
        self.window.append(now)
        self.first = self.first if self.first is not None else now
        self.last = now

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        self._admit()
        self.received[recipient.identity.external_id] += 1
        return SentMessage(PLATFORM, recipient.identity.external_id, (delivery_key,))

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        self._admit()
        return SentMessage(PLATFORM, channel_id, (delivery_key,))

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
        self._admit()

    async def delete(self, sent: SentMessage) -> None:
        self._admit()


async def run(n: int, limit: int, margin: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(storage={"path": Path(tmp) / "bench.db"}, console={"enabled": False},
                            coalition={"admins": [f"{PLATFORM}:author"]})
        adapter = RateLimitedAdapter(limit)
        # Burst = the margin's worth of tokens: it absorbs timer jitter, and rate + burst never exceed
        # the limit within any one-second window.
        outlet = Outlet(adapter, TokenBucket(limit * margin, max(1.0, limit * (1 - margin))))
        async with build_app(settings, extra_adapters=(lambda _dispatcher: outlet,)) as app:
            store, now = app.store, datetime.now(UTC)
            topic = await store.topics.create("bench", "Benchmark", "", Visibility.PUBLIC, Policy.OPEN, now)
            async with store.transaction():
                for i in range(n):
                    record = await store.people.ensure_identity(Identity(PLATFORM, f"u{i}"), f"u{i}", now)
                    await store.subscriptions.put(record.person_id, topic.id, DeliveryMode.IMMEDIATE, now)
            author = Identity(PLATFORM, "author")
            await app.dispatcher.handle(IncomingCommand(author, "author", text="announce new bench Benchmark"))
            started = time.monotonic()
            await app.dispatcher.handle(IncomingCommand(author, "author", text="announce confirm 1"))
            await app.run_due()
            while await store.outbox.next_due() is not None:
                await asyncio.sleep(0.05)
                await app.run_due()
            elapsed = time.monotonic() - started
        delivered = [f"u{i}" for i in range(n) if adapter.received[f"u{i}"] > 0]
        span = (adapter.last - adapter.first) if adapter.first is not None else elapsed
        sends = sum(adapter.received.values())
        throughput = (sends - 1) / span if span > 0 else float("inf")
        return {
            "recipients": n,
            "limit_per_second": limit,
            "pacing_margin": margin,
            "elapsed_seconds": round(elapsed, 2),
            "throughput_per_second": round(throughput, 1),
            "ratio_of_limit": round(throughput / limit, 3),
            "rate_limited_429": adapter.rejected,
            "lost": n - len(delivered),
            "duplicated": sum(count - 1 for count in adapter.received.values() if count > 1),
            "python": platform.python_version(),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="recipients (default 10,000)")
    parser.add_argument("--limit", type=int, default=100, help="sends per second the fake platform allows")
    parser.add_argument("--margin", type=float, default=0.95, help="pace at this fraction of the limit")
    args = parser.parse_args()
    result = asyncio.run(run(args.n, args.limit, args.margin))
    print(json.dumps(result, indent=2))
    out = Path(__file__).resolve().parent / "results" / "fanout.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
