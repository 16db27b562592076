"""Two bot processes on one PostgreSQL database: SIGKILL the leader in the middle of a 1,000-recipient fan-out, and
the other finishes the fan-out (the dead one's rows come back once its lease lapses), takes over the scheduled work,
and settles the announcement. Counted from both processes' output: nobody is missed, and a duplicate may only go to
someone whose delivery the killed process had in flight.

Each process prints the DMs it sends (the console adapter), so what was delivered is what either printed.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.delivery.worker import DeliveryConfig
from storage.database import Database
from tests.app.test_crash_recovery import RECIPIENTS, _add_recipients, received
from tests.bot_process import BotProcess, bot_env, run_bot
from tests.postgres_server import fresh_database_url

pytestmark = [pytest.mark.postgresql_only, pytest.mark.slow]

PER_SECOND = 60
"""Console pacing per process before sharing: the two share it, so the fan-out takes about 17 s, time enough to
kill the leader in the middle."""
LEASE_SECONDS = 5
KILL_AFTER = 150
LEADS = "cluster: this process now runs the scheduled work"


def _env(url: str) -> dict[str, str]:
    return bot_env(Path("unused.db"), BOT_STORAGE__URL=url, BOT_DELIVERY__CONSOLE_PER_SECOND=str(PER_SECOND),
                   BOT_DELIVERY__LEASE_SECONDS=str(LEASE_SECONDS))


async def _statuses(url: str) -> dict[str, str]:
    async with Database.open(url) as db:
        rows = await db.fetch_all(
            "SELECT i.external_id, d.status FROM deliveries d JOIN identities i ON i.person_id = d.person_id"
            " WHERE d.kind = 'announcement' AND i.platform = 'console' AND i.external_id LIKE 'person-%'")
        return {str(row[0]): str(row[1]) for row in rows}


async def _announcement_state(url: str) -> str:
    async with Database.open(url) as db:
        row = await db.fetch_one("SELECT state FROM announcements WHERE id = 1")
        return str(row[0]) if row else ""


def test_sigkill_of_the_leader_mid_fan_out_loses_nothing(tmp_path: Path,
                                                         record_property: pytest.RecordProperty) -> None:
    url = fresh_database_url()
    setup = run_bot(_env(url), "run", timeout=60)  # migrate and load the demo coalition
    assert setup.returncode == 0, setup.stderr
    asyncio.run(_add_recipients(url))

    with BotProcess(tmp_path, _env(url), "--log-level", "INFO", "run", "--user", "demo-coordinator",
                    name="first") as first:
        first.wait_for_error(lambda err: LEADS in err, "the first process to lead")
        with BotProcess(tmp_path, _env(url), "--log-level", "INFO", "run", "--user", "demo-admin",
                        name="second") as second:
            first.write("/announce new disinformation Failover test\n/announce confirm 1\n")
            first.wait_for(lambda _out: len(received(first.output()) + received(second.output())) >= KILL_AFTER,
                           f"{KILL_AFTER} deliveries by the two")
            first.kill()
            killed_at = time.monotonic()
            before = received(first.output())
            at_kill = asyncio.run(_statuses(url))
            in_flight = {person for person, status in at_kill.items() if status == "sending"}
            assert len(at_kill) == RECIPIENTS
            assert sum(1 for status in at_kill.values() if status == "sent") < RECIPIENTS, "finished before the kill"

            second.wait_for_error(lambda err: LEADS in err, "the second process to take the lead", timeout=30)
            took_lead = time.monotonic() - killed_at
            deadline = time.monotonic() + 120
            while asyncio.run(_announcement_state(url)) != "sent":
                assert time.monotonic() < deadline, asyncio.run(_statuses(url))
                time.sleep(0.5)
            total = before + received(second.output())
            second.close_input()
            second.wait(timeout=60)

    missing = [f"person-{i}" for i in range(RECIPIENTS) if total[f"person-{i}"] == 0]
    duplicates = {person: n - 1 for person, n in total.items() if n > 1}
    record_property("failover_lead_seconds", round(took_lead, 2))
    print(f"failover: killed the leader after {sum(before.values())} of its sends; the other led "
          f"{took_lead:.1f} s later; {len(missing)} missing, {sum(duplicates.values())} duplicates, "
          f"{len(in_flight)} in flight at the kill")
    assert missing == []
    assert set(asyncio.run(_statuses(url)).values()) == {"sent"}
    assert set(duplicates) <= in_flight, duplicates
    assert set(duplicates.values()) <= {1}, duplicates
    assert sum(duplicates.values()) <= DeliveryConfig().concurrency, duplicates
    assert isinstance(total, Counter)
