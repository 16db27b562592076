"""``announce confirm`` at scale: outbox rows written per second, how long a concurrent command stalls, what the
live delivery report costs, and how fast the unpaced worker then sends — at 100, 1,000, 10,000 and 100,000
recipients, each figure printed beside its target (issue 23, items 4 and 6) and the figure the issue measured.

Each size runs on a fresh database: N people subscribed to one public topic (written straight into the schema:
setup, not measured), an unpaced platform that takes every send at once, and a second person who sends
``topics`` every few milliseconds while the confirm runs. Memory is the process's resident size.

    .venv/bin/python bench/confirm.py                      # 100, 1,000, 10,000, 100,000
    .venv/bin/python bench/confirm.py --n 1000 --n 10000 --drain-seconds 0
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import platform as platform_module
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.assembly import App, build_app  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.support import (  # noqa: E402
    MemorySampler,
    NullAdapter,
    RoundTrips,
    bulk_subscribe,
    find_connection,
    percentile,
    rss_mb,
)
from bot.commands.context import IncomingCommand  # noqa: E402
from bot.delivery.config import Outlet  # noqa: E402
from bot.model import Identity  # noqa: E402
from bot.topics.model import Policy, Visibility  # noqa: E402

PLATFORM = "bench"
AUTHOR = Identity(PLATFORM, "author")
PROBER = Identity(PLATFORM, "prober")
RESULTS = ROOT / "bench" / "results" / "confirm.json"
# What issue 23 measured (same machine class, shipped code) and what it asks for.
ISSUE = {"confirm_seconds": {10_000: 2.6, 100_000: 28.0}, "stall_ms": {10_000: 2415.0}, "probe_idle_ms": 6.0,
         "report_ms": {10_000: 188.0, 100_000: 1980.0}, "count_ms": 9.5, "worker_per_second": {1_000: 518.0,
                                                                                              100_000: 28.0},
         "memory_mb": {100_000: 44.0}}
TARGET = {"confirm_seconds_100k": 2.0, "stall_ms": 300.0, "worker_rate_ratio": 0.9, "memory_mb": 150.0}


async def command(app: App, who: Identity, text: str) -> str:
    reply = await app.dispatcher.handle(IncomingCommand(who, who.external_id, text=text))
    return json.dumps(reply.message, default=str)


async def probe(app: App, stop: asyncio.Event, latencies: list[float], memory: list[float]) -> None:
    """``topics`` from another person, again and again, until ``stop``: each answer's latency, and memory."""
    while not stop.is_set():
        started = time.perf_counter()
        await command(app, PROBER, "topics")
        latencies.append((time.perf_counter() - started) * 1000)
        memory.append(rss_mb())
        await asyncio.sleep(0.005)


async def drain(app: App, adapter: NullAdapter, seconds: float, expected: int) -> dict[str, Any]:
    """Run the worker as the app serves it (continuous pipeline, live report hook) for at most ``seconds``."""
    started = time.monotonic()
    task = asyncio.create_task(app.worker.run())
    with MemorySampler() as sampled:
        try:
            progress: list[tuple[float, int]] = []
            while len(adapter.times) < expected and time.monotonic() - started < seconds:
                progress.append((time.monotonic() - started, len(adapter.times)))
                await asyncio.sleep(0.25)
        finally:
            app.worker.request_stop()
            await asyncio.wait_for(task, 60)
    peak = sampled.peak
    elapsed = time.monotonic() - started
    sent = len(adapter.times)
    last = [t for t in adapter.times if t >= adapter.times[-1] - 10.0] if adapter.times else []
    tail_rate = (len(last) - 1) / (last[-1] - last[0]) if len(last) > 1 and last[-1] > last[0] else 0.0
    return {"drain_seconds": round(elapsed, 2), "sent": sent, "all_sent": sent >= expected,
            "worker_per_second": round(sent / elapsed, 1) if elapsed else 0.0,
            "worker_last_10s_per_second": round(tail_rate, 1), "drain_peak_rss_mb": round(peak, 1),
            "duplicated": sum(n - 1 for n in adapter.received.values() if n > 1),
            "sent_after_seconds": {f"{at:.0f}": sent for at, sent in progress[::20]}}


async def one_size(n: int, drain_seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(storage={"path": Path(tmp) / "confirm.db"}, console={"enabled": False},
                            coalition={"admins": [f"{PLATFORM}:{AUTHOR.external_id}"]})
        adapter = NullAdapter(PLATFORM)
        async with build_app(settings, console_output=io.StringIO(),
                             extra_adapters=(lambda _dispatcher: Outlet(adapter),)) as app:
            now = datetime.now(UTC)
            topic = await app.store.topics.create("bench", "Benchmark", "", Visibility.PUBLIC, Policy.OPEN, now)
            setup_started = time.monotonic()
            await bulk_subscribe(app, PLATFORM, [f"u{i}" for i in range(n)], topic.id, now)
            setup = time.monotonic() - setup_started
            await command(app, PROBER, "topics")  # the prober exists before the clock starts
            await command(app, AUTHOR, "announce new bench Update")
            idle: list[float] = []
            for _ in range(30):
                started = time.perf_counter()
                await command(app, PROBER, "topics")
                idle.append((time.perf_counter() - started) * 1000)
            latencies: list[float] = []
            memory: list[float] = []
            stop = asyncio.Event()
            prober = asyncio.create_task(probe(app, stop, latencies, memory))
            await asyncio.sleep(0.05)
            trips = RoundTrips()
            with trips.installed(find_connection(app)), MemorySampler() as sampled:
                started = time.perf_counter()
                answer = await command(app, AUTHOR, "announce confirm 1")
                confirm_seconds = time.perf_counter() - started
            stop.set()
            await prober
            row = await app.db.fetch_one("SELECT COUNT(*) FROM deliveries WHERE announcement_id = 1")
            rows = int(row[0]) if row else 0
            announcement = await app.store.announcements.get(1)
            assert announcement is not None and rows >= n, answer
            report_ms, count_ms = [], []
            for _ in range(5):
                started = time.perf_counter()
                await app.services.announcements.report(announcement)
                report_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await app.db.fetch_one("SELECT COUNT(*) FROM deliveries WHERE announcement_id = 1")
                count_ms.append((time.perf_counter() - started) * 1000)
            result: dict[str, Any] = {
                "recipients": n, "setup_seconds": round(setup, 2), "rows": rows,
                "confirm_seconds": round(confirm_seconds, 3), "rows_per_second": round(rows / confirm_seconds),
                "confirm_db_hops": trips.hops, "confirm_statements": trips.statements,
                "confirm_transactions": trips.transactions,
                "probe_idle_p50_ms": round(statistics.median(idle), 2),
                "probe_during_confirm": len(latencies),
                "probe_during_p99_ms": round(percentile(latencies, 0.99), 1),
                "probe_during_max_ms": round(max(latencies, default=0.0), 1),
                "confirm_rss_growth_mb": round(sampled.growth, 1), "confirm_peak_rss_mb": round(sampled.peak, 1),
                "report_ms": round(statistics.median(report_ms), 1),
                "count_rows_ms": round(statistics.median(count_ms), 2),
            }
            if drain_seconds > 0:
                result |= await drain(app, adapter, drain_seconds, n)
            # The report once every copy not yet sent has failed (an outage outlasting the retry deadline): it
            # names the first few by person, so its cost must not follow the number of failures.
            failed = await app.db.execute("UPDATE deliveries SET status = 'failed', retryable = 1, reason = 'outage'"
                                          " WHERE announcement_id = 1 AND status = 'pending'")
            announcement = await app.store.announcements.get(1)
            assert announcement is not None
            failed_ms = []
            for _ in range(5):
                started = time.perf_counter()
                await app.services.announcements.report(announcement)
                failed_ms.append((time.perf_counter() - started) * 1000)
            result |= {"failed_rows": failed, "report_with_failures_ms": round(statistics.median(failed_ms), 1)}
            return result


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'recipients':>10} {'confirm s':>9} {'(issue)':>7} {'rows/s':>8} {'stall max ms':>12} {'(issue)':>7}"
             f" {'report ms':>9} {'(issue)':>7} {'count ms':>8} {'+MB':>5} {'peak MB':>7} {'worker/s':>8}"
             f" {'last10s/s':>9} {'(issue)':>7} {'report+fail ms':>14}"]
    for r in results:
        n = r["recipients"]
        lines.append(
            f"{n:>10,} {r['confirm_seconds']:>9.2f} {ISSUE['confirm_seconds'].get(n, ''):>7} {r['rows_per_second']:>8,}"
            f" {r['probe_during_max_ms']:>12.0f} {ISSUE['stall_ms'].get(n, ''):>7} {r['report_ms']:>9.1f}"
            f" {ISSUE['report_ms'].get(n, ''):>7} {r['count_rows_ms']:>8.2f} {r['confirm_rss_growth_mb']:>5.0f}"
            f" {r.get('drain_peak_rss_mb', r['confirm_peak_rss_mb']):>7.0f}"
            f" {r.get('worker_per_second', ''):>8} {r.get('worker_last_10s_per_second', ''):>9}"
            f" {ISSUE['worker_per_second'].get(n, ''):>7} {r.get('report_with_failures_ms', ''):>14}")
    by_n = {r["recipients"]: r for r in results}
    lines.append("targets (issue 23 item 4):")
    peak = max(r.get("drain_peak_rss_mb", r["confirm_peak_rss_mb"]) for r in results)
    lines.append(f"  memory stays under {TARGET['memory_mb']:.0f} MB: peak {peak:.0f} MB (issue: +"
                 f"{ISSUE['memory_mb'][100_000]:.0f} MB at 100,000, ~158 MB while sending)")
    if 100_000 in by_n:
        r = by_n[100_000]
        lines.append(f"  confirm 100,000 in < {TARGET['confirm_seconds_100k']} s: {r['confirm_seconds']:.2f} s")
    worst = max(results, key=lambda r: r["probe_during_max_ms"])
    lines.append(f"  a concurrent command waits < {TARGET['stall_ms']:.0f} ms: worst {worst['probe_during_max_ms']:.0f}"
                 f" ms (at {worst['recipients']:,}; idle p50 {worst['probe_idle_p50_ms']} ms, issue idle"
                 f" {ISSUE['probe_idle_ms']} ms)")
    small, large = min(by_n), max(by_n)
    lines.append(f"  report costs the same at {small:,} and {large:,} rows: {by_n[small]['report_ms']:.1f} ms vs"
                 f" {by_n[large]['report_ms']:.1f} ms (a COUNT of the rows: {by_n[large]['count_rows_ms']:.1f} ms,"
                 f" issue {ISSUE['count_ms']} ms)")
    base = 1_000 if 1_000 in by_n else small
    if "worker_per_second" in by_n[base] and "worker_per_second" in by_n[large] and base != large:
        ratio = by_n[large]["worker_last_10s_per_second"] / max(by_n[base]["worker_per_second"], 1e-9)
        lines.append(f"  unpaced worker at {large:,} within 10% of {base:,}: its last-10 s rate is {ratio:.2f} of the"
                     f" {base:,} rate (target ≥ {TARGET['worker_rate_ratio']})")
    return "\n".join(lines)


async def main_async(sizes: list[int], drain_seconds: float) -> list[dict[str, Any]]:
    results = []
    for n in sizes:
        print(f"confirm to {n:,} …", file=sys.stderr)
        results.append(await one_size(n, drain_seconds))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="recipients (repeatable; default 100, 1k, 10k, 100k)")
    parser.add_argument("--drain-seconds", type=float, default=30.0,
                        help="then run the unpaced worker for at most this long (0: skip)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    sizes = args.n or [100, 1_000, 10_000, 100_000]
    results = asyncio.run(main_async(sizes, args.drain_seconds))
    print(table(results))
    report = {"python": platform_module.python_version(), "measured_at": datetime.now(UTC).isoformat(
        timespec="seconds"), "command": " ".join(["bench/confirm.py", *sys.argv[1:]]), "issue": {
        k: {str(n): v for n, v in d.items()} if isinstance(d, dict) else d for k, d in ISSUE.items()},
        "target": TARGET, "runs": results}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
