"""Scheduler start-up benchmark: N future meetings with reminders in the database; how long from opening the
database until every meeting's wake-up is armed in APScheduler, and how much memory that takes — beside a
reference measured in the same run: a bare query reading the same rows (no conversion, no scheduling).
Target: under 2 s for 10,000 meetings.

    .venv/bin/python bench/scheduler.py              # 10,000 meetings
    .venv/bin/python bench/scheduler.py --n 2000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosqlite

from bot.meetings.model import MeetingConfig, NewMeeting
from bot.meetings.recurrence import MAX_OFFSET, expand, local_of
from bot.meetings.scheduler import MeetingScheduler
from bot.meetings.service import DEFAULT_REMIND
from bot.model import Identity
from bot.topics.model import Policy, Visibility
from storage.database import Database, to_db_time
from storage.meetings import NEXT_WAKES_SQL
from storage.store import SqliteStore

ZONES = ("Europe/Brussels", "Europe/Copenhagen", "America/New_York", "Australia/Sydney", "Africa/Nairobi")
RULES = ("FREQ=WEEKLY", "FREQ=DAILY", None, "FREQ=WEEKLY;BYDAY=TU,TH", "FREQ=MONTHLY;BYDAY=2TU")
RESULTS = Path(__file__).resolve().parent / "results" / "scheduler.json"


class Clock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


async def populate(path: Path, n: int, now: datetime) -> int:
    """N meetings over the coming weeks in five zones and five rules, occurrences materialised."""
    async with Database.open(path) as db:
        store = SqliteStore(db)
        async with store.transaction():
            person = await store.people.ensure_identity(Identity("bench", "author"), "author", now)
            topic = await store.topics.create("bench", "Bench", "", Visibility.PUBLIC, Policy.OPEN, now)
            rows = 0
            until = now + MeetingConfig().window
            for i in range(n):
                zone = ZoneInfo(ZONES[i % len(ZONES)])
                start = local_of(now + timedelta(days=1 + i % 28, hours=i % 24), zone).replace(minute=0, second=0,
                                                                                             microsecond=0)
                rule = RULES[(i // len(ZONES)) % len(RULES)]
                meeting = await store.meetings.create(NewMeeting(
                    topic_id=topic.id, author_id=person.person_id, title=f"Meeting {i}", start_local=start,
                    zone=zone.key, duration_minutes=60, rrule=rule, link=None, remind_minutes=DEFAULT_REMIND), now)
                starts = expand(start, zone, rule, now, until, 1000)
                await store.meetings.materialise(meeting.id, starts, until if rule else datetime(9000, 1, 1,
                                                                                                 tzinfo=UTC))
                rows += len(starts)
    return rows


async def reference(path: Path, now: datetime) -> tuple[float, int]:
    """A bare query reading the rows the scheduler reads: aiosqlite, fetchall, nothing else."""
    started = time.perf_counter()
    async with aiosqlite.connect(path) as connection:
        after = to_db_time(now)
        cursor = await connection.execute(NEXT_WAKES_SQL.format(where=""),
                                          (after, to_db_time(now + MAX_OFFSET + timedelta(days=1)), after))
        rows = await cursor.fetchall()
    return time.perf_counter() - started, len(rows)


async def start_up(path: Path, now: datetime) -> tuple[float, int]:
    """Open the database (migrations checked) and arm every wake-up, as App.serve does."""
    async def nothing() -> None:
        return None

    started = time.perf_counter()
    async with Database.open(path) as db:
        store = SqliteStore(db)
        async with MeetingScheduler(store, Clock(now), nothing) as scheduler:
            armed = len(scheduler.job_times())
            elapsed = time.perf_counter() - started
    return elapsed, armed


async def measure_memory(path: Path, now: datetime, what: str) -> float:
    gc.collect()
    tracemalloc.start()
    if what == "reference":
        await reference(path, now)
    else:
        await start_up(path, now)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


async def main(n: int, repeats: int) -> dict[str, object]:
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        setup = time.perf_counter()
        occurrences = await populate(path, n, now)
        setup_seconds = time.perf_counter() - setup
        ref_times, start_times, armed, ref_rows = [], [], 0, 0
        for _ in range(repeats):
            elapsed, ref_rows = await reference(path, now)
            ref_times.append(elapsed)
            elapsed, armed = await start_up(path, now)
            start_times.append(elapsed)
        ref_memory = await measure_memory(path, now, "reference")
        start_memory = await measure_memory(path, now, "start")
    result: dict[str, object] = {
        "meetings": n,
        "occurrence_rows": occurrences,
        "rows_read": ref_rows,
        "wakeups_armed": armed,
        "startup_seconds_median": round(statistics.median(start_times), 3),
        "reference_query_seconds_median": round(statistics.median(ref_times), 3),
        "ratio_to_reference": round(statistics.median(start_times) / statistics.median(ref_times), 1),
        "startup_peak_python_mb": round(start_memory, 1),
        "reference_peak_python_mb": round(ref_memory, 1),
        "repeats": repeats,
        "setup_seconds": round(setup_seconds, 1),
        "python": platform.python_version(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    figures = asyncio.run(main(args.n, args.repeats))
    print(f"{figures['meetings']} meetings, {figures['occurrence_rows']} occurrence rows, "
          f"{figures['wakeups_armed']} wake-ups armed")
    print(f"start-up until armed: {figures['startup_seconds_median']} s (median of {figures['repeats']}), "
          f"peak {figures['startup_peak_python_mb']} MB Python heap")
    print(f"reference (bare query, {figures['rows_read']} rows): {figures['reference_query_seconds_median']} s, "
          f"peak {figures['reference_peak_python_mb']} MB; ratio {figures['ratio_to_reference']}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS}")
