"""Kill the bot with SIGKILL in the middle of a 1,000-recipient fan-out, restart it, and count: every
recipient must have the announcement, and a duplicate may only go to someone whose delivery was in flight
at the kill (printed, not yet recorded as sent).

What counts as delivered is everything the killed process printed (its output goes to a file, read whole
after the kill, see :mod:`tests.bot_process`) plus everything the restarted one printed; the database says
which rows were sent or in flight at the kill, and the two must agree."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.delivery.worker import DeliveryConfig
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from storage.database import Database, to_db_time
from storage.store import SqliteStore
from tests.bot_process import BotProcess, bot_env, run_bot
from tests.postgres_server import storage_target
from tests.support import FixedClock

RECIPIENTS = 1000
PER_SECOND = 100
"""Console pacing: the first second's burst, then 100 a second, so about eight seconds remain after the
kill point for the test to see it and kill, even with both cores busy."""
KILL_AFTER = 150
LEASE_SECONDS = 5
DM_HEADER = re.compile(r"^\[DM → (person-\d+)\] == Countering disinformation — announcement ==", re.MULTILINE)


def _env(tmp_path: Path, db: Path | str) -> dict[str, str]:
    """The bot's environment on the test's database: a SQLite path, or a PostgreSQL URL on a PostgreSQL run."""
    if isinstance(db, Path):
        return bot_env(db, BOT_DELIVERY__CONSOLE_PER_SECOND=str(PER_SECOND))
    # Other processes may share a PostgreSQL database, so a killed one's rows wait for its lease to lapse.
    return bot_env(tmp_path / "unused.db", BOT_STORAGE__URL=db, BOT_DELIVERY__CONSOLE_PER_SECOND=str(PER_SECOND),
                   BOT_DELIVERY__LEASE_SECONDS=str(LEASE_SECONDS))


def wait_for_leases_to_lapse(target: Path | str, timeout: float = 30) -> None:
    """PostgreSQL: until no worker's lease is live (the killed process's lapses after LEASE_SECONDS). On SQLite the
    restarted process holds the file alone and drops the dead one's lease at once."""
    if isinstance(target, Path):
        return

    async def live() -> int:
        async with Database.open(target, migrate=False) as db:
            row = await db.fetch_one("SELECT COUNT(*) FROM worker_leases WHERE expires_at > ?",
                                     (to_db_time(datetime.now(UTC)),))
            return int(row[0]) if row else 0
    deadline = time.monotonic() + timeout
    while asyncio.run(live()):
        assert time.monotonic() < deadline, "the killed process's lease never lapsed"
        time.sleep(0.2)


def received(output: str) -> Counter[str]:
    """How many copies of the announcement each test recipient was shown."""
    return Counter(match.group(1) for match in DM_HEADER.finditer(output))


def statuses(target: Path | str) -> dict[str, str]:
    """The state of each test recipient's announcement delivery, straight from the database."""
    async def read() -> dict[str, str]:
        async with Database.open(target, migrate=False) as db:
            rows = await db.fetch_all(
                "SELECT i.external_id, d.status FROM deliveries d JOIN identities i ON i.person_id = d.person_id "
                "WHERE d.kind = 'announcement' AND i.platform = 'console' AND i.external_id LIKE 'person-%'")
            return {row[0]: row[1] for row in rows}
    return asyncio.run(read())


async def _add_recipients(target: Path | str) -> None:
    now = FixedClock().now()
    async with Database.open(target) as db:
        store = SqliteStore(db)
        topic = await store.topics.by_slug("disinformation")
        assert topic is not None
        async with store.transaction():
            for i in range(RECIPIENTS):
                record = await store.people.ensure_identity(Identity("console", f"person-{i}"), f"person-{i}", now)
                await store.subscriptions.put(record.person_id, topic.id, DeliveryMode.IMMEDIATE, now)


def test_sigkill_during_fan_out_loses_nothing(tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    db = storage_target(tmp_path)
    setup = run_bot(_env(tmp_path, db), "run", timeout=60)  # migrate and load the demo coalition
    assert setup.returncode == 0, setup.stderr
    asyncio.run(_add_recipients(db))

    with BotProcess(tmp_path, _env(tmp_path, db), "run", "--user", "demo-coordinator", name="first") as first:
        # stdin stays open: the bot keeps serving until it is killed.
        first.write("/announce new disinformation Crash test\n/announce confirm 1\n")
        first.wait_for(lambda out: len(received(out)) >= KILL_AFTER, f"{KILL_AFTER} deliveries")
        first.kill()
        before = received(first.output())  # everything it wrote, not only what the test had read
    at_kill = statuses(db)
    sent_at_kill = {person for person, status in at_kill.items() if status == "sent"}
    in_flight = {person for person, status in at_kill.items() if status == "sending"}
    assert len(at_kill) == RECIPIENTS
    assert len(sent_at_kill) < RECIPIENTS, "the fan-out finished before the kill; nothing was tested"
    # Recorded as sent means printed: a row the database calls sent that the output lacks is a lost message.
    assert sorted(sent_at_kill - set(before)) == []
    # Printed but not recorded: only a send in flight at the kill.
    assert sorted(set(before) - sent_at_kill - in_flight) == []

    wait_for_leases_to_lapse(db)
    second = run_bot(_env(tmp_path, db), "run", timeout=120)
    assert second.returncode == 0, second.stderr
    total = before + received(second.stdout)

    missing = [f"person-{i}" for i in range(RECIPIENTS) if total[f"person-{i}"] == 0]
    duplicates = {person: n - 1 for person, n in total.items() if n > 1}
    record_property("console_duplicates", sum(duplicates.values()))
    record_property("sent_before_kill", len(sent_at_kill))
    print(f"crash test: {len(before)} shown and {len(sent_at_kill)} recorded sent before SIGKILL, "
          f"{len(in_flight)} in flight, {len(missing)} missing, {sum(duplicates.values())} duplicates "
          f"{sorted(duplicates)}")
    assert missing == []
    assert set(statuses(db).values()) == {"sent"}
    # Only sends in flight at the kill can repeat, once each, and at most the worker's concurrency of them:
    # the console has no platform-side de-duplication. Slack and Discord add theirs in their adapters.
    assert set(duplicates) <= in_flight, duplicates
    assert set(duplicates.values()) <= {1}, duplicates
    assert sum(duplicates.values()) <= DeliveryConfig().concurrency, duplicates
