"""A rate limit on one route of a platform (opening DMs, one channel) holds back only the rows that met it; the
rest of that platform goes on, unpaused and at its pace (issue 16, item 3: "per route where the platform limits
per route"). A platform-wide limit still pauses the platform: tests/bot/delivery/test_circuits_and_pauses.py."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from app.assembly import App, build_app
from bot.delivery.config import Outlet
from bot.delivery.errors import TransientDeliveryError
from bot.delivery.model import DeliveryStatus, SentMessage
from bot.delivery.pacing import TokenBucket
from bot.messages import RenderedMessage
from bot.model import IdentityRecord
from tests.bot.delivery.fakes import notify, people_on, run_worker_until, settings_for
from tests.support import FixedClock, RecordingAdapter, english

LIMIT = timedelta(seconds=40)


@dataclass
class OneRouteLimited(RecordingAdapter):
    """A platform whose DM-opening route is limited until ``until``: DMs to ``need_open`` (people without an open
    DM channel) are refused with a route-scoped 429 carrying the time left; everything else goes."""

    clock: FixedClock = field(default_factory=FixedClock)
    until: datetime | None = None
    need_open: set[str] = field(default_factory=set)
    refused: int = 0
    delivered: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        now = self.clock.now()
        if recipient.identity.external_id in self.need_open and self.until is not None and now < self.until:
            self.refused += 1
            raise TransientDeliveryError("rate limited", (self.until - now).total_seconds(), rate_limited=True,
                                         route="dm-open")
        sent = await super().send_direct(recipient, message, delivery_key=delivery_key)
        if self.expected and len(self.sent) >= self.expected:
            self.delivered.set()
        return sent


@asynccontextmanager
async def app_paced(tmp_path: Path, clock: FixedClock, adapter: RecordingAdapter,
                    bucket: TokenBucket) -> AsyncIterator[App]:
    """The real app with ``adapter`` paced by ``bucket`` (the worker takes one token per row)."""
    async with build_app(settings_for(tmp_path), clock=clock, console_output=io.StringIO(),
                         extra_adapters=(lambda _d: Outlet(adapter, bucket),)) as app:
        yield app


async def no_wait(seconds: float) -> None:
    """The bucket's sleep: the tests read what was taken, they never wait for a token in real time."""


async def drain(app: App) -> None:
    async with asyncio.timeout(10):
        while await app.worker.run_due():
            pass


async def test_a_route_limit_defers_only_its_rows_and_the_platform_goes_on(tmp_path: Path) -> None:
    clock = FixedClock()
    start = clock.now()
    adapter = OneRouteLimited(clock=clock, until=start + LIMIT, need_open={"test-3", "test-4"})
    # Frozen monotonic: no token comes back by itself, so the bucket shows exactly what the worker took.
    bucket = TokenBucket(1.0, 5.0, monotonic=lambda: 0.0, sleep=no_wait)
    async with app_paced(tmp_path, clock, adapter, bucket) as app:
        people = await people_on(app, "test", 5)
        await notify(app, people, "news")
        await drain(app)

        rows = {row.person_id: row for row in await app.store.outbox.by_kind("notice")}
        assert sorted(s.target for s in adapter.sent) == ["test-0", "test-1", "test-2"]  # at once
        for person in people[3:]:
            row = rows[person]
            assert row.status is DeliveryStatus.PENDING and row.attempts == 0
            assert row.not_before == start + LIMIT and english(row.reason) == "rate limited"
            assert row.retrying_since is None  # the platform said when: not a failure, no deadline started
            assert row.attempt_platform == "test"
        assert await app.store.circuits.get("test") is None  # the platform is not paused
        # Not slowed down, and the two rows that did not post gave their tokens back: exactly two are left.
        assert [await bucket.acquire_within(0) for _ in range(3)] == [True, True, False]

        clock.current = start + LIMIT
        adapter.until = None
        await drain(app)
        assert sorted(s.target for s in adapter.sent) == [f"test-{n}" for n in range(5)]
        assert all(row.status is DeliveryStatus.SENT and row.attempts == 1
                   for row in await app.store.outbox.by_kind("notice"))


async def test_a_row_whose_route_stays_limited_past_its_relevance_is_missed(tmp_path: Path) -> None:
    clock = FixedClock()
    start = clock.now()
    adapter = OneRouteLimited(clock=clock, until=start + LIMIT, need_open={"test-0"})
    async with app_paced(tmp_path, clock, adapter, TokenBucket(100.0, 100.0)) as app:
        await notify(app, await people_on(app, "test", 1), "reminder", expires_at=start + timedelta(seconds=10))
        await drain(app)
        [row] = await app.store.outbox.by_kind("notice")
        assert row.status is DeliveryStatus.MISSED and adapter.sent == []
        assert english(row.reason) == \
            "no longer relevant: it expired before it could be sent (last error: rate limited)"


async def test_a_route_limit_keeps_a_running_retry_deadline_as_it_was(tmp_path: Path) -> None:
    """A row already retrying after a 503 keeps the start of its streak: the route's wait neither restarts nor
    clears the deadline."""
    clock = FixedClock()
    start = clock.now()
    adapter = OneRouteLimited(clock=clock, need_open={"test-0"})
    adapter.failures.append(TransientDeliveryError("server error 503"))
    async with app_paced(tmp_path, clock, adapter, TokenBucket(100.0, 100.0)) as app:
        await notify(app, await people_on(app, "test", 1), "news")
        await drain(app)
        [row] = await app.store.outbox.by_kind("notice")
        assert row.retrying_since == start and row.attempts == 1

        clock.current = row.not_before
        adapter.until = clock.now() + LIMIT
        await drain(app)
        [row] = await app.store.outbox.by_kind("notice")
        assert row.status is DeliveryStatus.PENDING and row.attempts == 1 and row.retrying_since == start
        assert row.not_before == clock.now() + LIMIT


async def test_in_the_pipeline_a_route_limit_delays_nothing_else_on_its_platform(tmp_path: Path) -> None:
    """The continuous loop: the rows that need no DM opened all complete without the clock moving."""
    clock = FixedClock()
    start = clock.now()
    adapter = OneRouteLimited(clock=clock, until=start + LIMIT, need_open={f"test-{n}" for n in range(0, 20, 2)},
                              expected=10)
    async with app_paced(tmp_path, clock, adapter, TokenBucket(1000.0, 1000.0)) as app:
        people = await people_on(app, "test", 20)
        await notify(app, people, "news")
        await run_worker_until(app, adapter.delivered)
        assert sorted(s.target for s in adapter.sent) == sorted(f"test-{n}" for n in range(1, 20, 2))
        held = [row for row in await app.store.outbox.by_kind("notice") if row.status is DeliveryStatus.PENDING]
        assert len(held) == 10 and all(row.not_before == start + LIMIT and row.attempts == 0 for row in held)
        assert adapter.refused == 10  # each met the limit once, then waited in the database
        assert await app.store.circuits.get("test") is None
