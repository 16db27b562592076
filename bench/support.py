"""What the issue-23 benchmarks share: SQL round trips counted at the aiosqlite connection (in the bench, never in
the product), bulk subscribers written straight into the schema (setup, not measured), an unpaced adapter that
records what it was sent, percentiles and the process's memory.

Only public entry points of the app are measured (``build_app``, ``App.dispatcher.handle``, ``App.worker``,
``App.services``), so the scripts keep working while the code behind them changes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import aiosqlite

from bot.delivery.model import SentMessage
from bot.messages import RenderedMessage
from bot.model import IdentityRecord
from storage.database import to_db_time

Server = TypeVar("Server", bound=AbstractAsyncContextManager[Any])


@asynccontextmanager
async def in_own_thread(factory: Callable[[], Server], limit: float = 30.0) -> AsyncIterator[Server]:
    """A loopback fake built, entered and served on its own event loop in its own thread.

    A fake sharing the bench's event loop stamps a request when that loop gets round to it: a stall of the loop
    (SQLite, the bot's own work) bunches requests that left spaced out, and a fake that enforces a per-second limit
    then counts a burst that never happened on the wire. On its own loop it stamps them as they arrive, as a
    remote server would. Read its counters from the bench only between runs or for figures (plain lists and
    counters; the GIL makes each read whole)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-server", daemon=True)
    thread.start()

    async def enter() -> Server:
        server = factory()
        return await server.__aenter__()  # type: ignore[no-any-return]

    async def on_loop(coroutine: Awaitable[Any]) -> Any:
        return await asyncio.wait_for(asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(coroutine, loop)), limit)  # type: ignore[arg-type]

    try:
        server: Server = await on_loop(enter())
        try:
            yield server
        finally:
            await on_loop(server.__aexit__(None, None, None))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(limit)
        loop.close()


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``samples``; 0 for none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb() -> float:
    """Resident memory of this process now (Linux), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class MemorySampler:
    """Resident memory sampled from a thread every ``every`` seconds, so a stalled event loop is still seen."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.baseline = rss_mb()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())

    @property
    def growth(self) -> float:
        return self.peak - self.baseline


def find_connection(app: Any) -> aiosqlite.Connection:
    """The app's aiosqlite connection, wherever the database object keeps it (its attribute name is private)."""
    candidates = [app.db, *vars(app.db).values()]
    for candidate in candidates:
        if isinstance(candidate, aiosqlite.Connection):
            return candidate
        for value in getattr(candidate, "__dict__", {}).values():
            if isinstance(value, aiosqlite.Connection):
                return value
    raise LookupError("no aiosqlite.Connection found on app.db")


@dataclass
class RoundTrips:
    """Round trips on one aiosqlite connection, counted at the one door every call goes through (its private
    ``_execute``): ``hops`` — calls handed to its thread and awaited (each costs a thread switch and a wake-up);
    ``statements`` — those that carry SQL (the first argument of execute, execute_fetchall, execute_insert,
    executemany); ``transactions`` — ``BEGIN`` statements."""

    hops: int = 0
    statements: int = 0
    transactions: int = 0
    by_sql: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> tuple[int, int, int]:
        return self.hops, self.statements, self.transactions

    @contextmanager
    def installed(self, connection: aiosqlite.Connection) -> Iterator[RoundTrips]:
        original: Callable[..., Awaitable[Any]] = connection._execute

        async def hop(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            self.hops += 1
            if args and isinstance(args[0], str):
                head = " ".join(args[0].split())[:60]
                self.statements += 1
                self.by_sql[head] += 1
                self.transactions += head.upper().startswith("BEGIN")
            return await original(fn, *args, **kwargs)

        vars(connection)["_execute"] = hop  # an instance attribute, removed on exit
        try:
            yield self
        finally:
            vars(connection).pop("_execute", None)


async def bulk_subscribe(app: Any, platform: str, external_ids: list[str], topic_id: int, now: datetime,
                         mode: str = "immediate", dm_channel: Callable[[str], str | None] | None = None) -> list[int]:
    """People with one identity each on ``platform``, subscribed to ``topic_id``, written in three statements
    (setup for a benchmark, not a measured path). Returns their person ids."""
    row = await app.db.fetch_one("SELECT IFNULL(MAX(id), 0) FROM people")
    first = int(row[0]) + 1
    stamp = to_db_time(now)
    ids = list(range(first, first + len(external_ids)))
    await app.db.execute_many(
        "INSERT INTO people (id, display_name, preferred_platform, created_at) VALUES (?, ?, ?, ?)",
        [(pid, ext, platform, stamp) for pid, ext in zip(ids, external_ids, strict=True)])
    await app.db.execute_many(
        "INSERT INTO identities (platform, external_id, person_id, display_name, dm_channel_id, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(platform, ext, pid, ext, dm_channel(ext) if dm_channel else None, stamp)
         for pid, ext in zip(ids, external_ids, strict=True)])
    await app.db.execute_many(
        "INSERT INTO subscriptions (person_id, topic_id, mode, created_at) VALUES (?, ?, ?, ?)",
        [(pid, topic_id, mode, stamp) for pid in ids])
    return ids


class NullAdapter:
    """An unpaced platform that takes every send at once and counts it: the worker's own ceiling."""

    def __init__(self, platform: str) -> None:
        self._platform = platform
        self.received: Counter[str] = Counter()
        self.times: list[float] = []

    @property
    def platform(self) -> str:
        return self._platform

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        self.received[recipient.identity.external_id] += 1
        self.times.append(time.monotonic())
        return SentMessage(self._platform, f"D{recipient.identity.external_id}", (delivery_key,))

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        self.times.append(time.monotonic())
        return SentMessage(self._platform, channel_id, (delivery_key,))

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
        return None

    async def delete(self, sent: SentMessage) -> None:
        return None


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Milliseconds ``call`` took, and what it returned."""
    started = time.perf_counter()
    result = await call()
    return (time.perf_counter() - started) * 1000, result


def verdict(value: float, target: float, *, lower_is_better: bool = True) -> str:
    ok = value <= target if lower_is_better else value >= target
    return "meets" if ok else "misses"
