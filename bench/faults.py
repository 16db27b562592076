"""Exactly once under faults: one announcement to N subscribers on Slack and N on Discord (both at once, through
the real slack_sdk and discord.py clients against the loopback fakes), under the faults a real network and a
real platform incident bring, against the same fan-out without faults in the same run.

Scenarios (each on a fresh database and fresh fakes):

- ``no-fault``: the reference;
- ``drops``: the connection drops after the platform stored every 20th post, and before it stored every 37th;
- ``storms``: for ``--storm`` seconds, every 3rd post answers 429 (Retry-After 2 s), every 5th answers 502
  after it was stored, every 7th 503 without storing;
- ``outage``: both platforms answer 503 to every post and DM open for ``--outage`` seconds (default 300),
  from the moment the announcement is confirmed;
- ``sigkill``: the bot runs as its own process (``python -m bot run``) and is killed with SIGKILL when 10%,
  50% and 90% of the copies have arrived, then started again.

Printed per scenario and platform: lost (a subscriber without the message), duplicated (copies beyond one),
failed (rows that ended ``failed``), missed, and the wall time from confirm to every row ended, next to the
no-fault time. The goal is 0 lost, 0 duplicated, 0 failed, and a wall time within the outage's length plus 10%
of the no-fault time.

    .venv/bin/python bench/faults.py                     # 1,000 + 1,000 recipients, 5-minute outage
    .venv/bin/python bench/faults.py --n 200 --outage 30 --scenario no-fault --scenario outage
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as platform_module
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.assembly import App, build_app  # noqa: E402
from app.settings import Settings  # noqa: E402
from bot.commands.context import IncomingCommand  # noqa: E402
from bot.model import Identity  # noqa: E402
from bot.subscriptions.model import DeliveryMode  # noqa: E402
from bot.topics.model import Policy, Visibility  # noqa: E402
from tests.bot_process import BotProcess, bot_env  # noqa: E402
from tests.fakes.discord_gateway import FakeUser  # noqa: E402
from tests.fakes.discord_server import FakeDiscord  # noqa: E402
from tests.fakes.faults import (  # noqa: E402
    DROP_AFTER_STORE,
    DROP_BEFORE_STORE,
    ERROR_AFTER_STORE,
    OUTAGE,
    RATE_LIMITED,
    Fault,
)
from tests.fakes.slack_server import FakeSlack  # noqa: E402

SLACK_POST = "chat.postMessage"
SLACK_OPEN = "conversations.open"
DISCORD_POST = "POST /channels/{channel_id}/messages"
DISCORD_OPEN = "POST /users/@me/channels"
TEXT = "Update 1"
SCENARIOS = ("no-fault", "drops", "storms", "outage", "sigkill")
DEADLINE_SECONDS = 3600.0


@dataclass
class Fakes:
    slack: FakeSlack
    discord: FakeDiscord
    slack_users: list[str]
    discord_users: list[FakeUser]

    def settings(self, db: Path, slack_limit: float) -> Settings:
        return Settings(
            slack={"bot_token": "xoxb-bench", "app_token": "xapp-bench", "api_base_url": self.slack.api_url},
            discord={"token": self.discord.token, "guild_id": self.discord.guild_id,
                     "api_base_url": self.discord.api_base, "gateway_url": self.discord.gateway_url},
            storage={"path": db}, coalition={"admins": ["slack:UAUTHOR"]},
            delivery={"slack_per_second": slack_limit * 0.95,
                      "discord_per_second": float(self.discord.global_limit or 50) * 0.95},
            web={"host": "127.0.0.1", "port": 0})

    def env(self, db: Path, slack_limit: float) -> dict[str, str]:
        """The same settings for a child process, through the environment."""
        return bot_env(
            db, BOT_SLACK__BOT_TOKEN="xoxb-bench", BOT_SLACK__APP_TOKEN="xapp-bench",
            BOT_SLACK__API_BASE_URL=self.slack.api_url, BOT_DISCORD__TOKEN=self.discord.token,
            BOT_DISCORD__GUILD_ID=str(self.discord.guild_id), BOT_DISCORD__API_BASE_URL=self.discord.api_base,
            BOT_DISCORD__GATEWAY_URL=self.discord.gateway_url, BOT_COALITION__ADMINS='["slack:UAUTHOR"]',
            BOT_DELIVERY__SLACK_PER_SECOND=str(slack_limit * 0.95),
            BOT_DELIVERY__DISCORD_PER_SECOND=str(float(self.discord.global_limit or 50) * 0.95),
            BOT_WEB__HOST="127.0.0.1", BOT_WEB__PORT="0")

    def copies(self) -> dict[str, list[int]]:
        """How many copies of the announcement each subscriber holds, per platform."""
        return {
            "slack": [sum(1 for m in self.slack.messages(self.slack.dm_channel(u)) if TEXT in json.dumps(m))
                      for u in self.slack_users],
            "discord": [sum(1 for m in self.discord.dm_messages_to(u.id) if TEXT in json.dumps(m.embeds))
                        for u in self.discord_users],
        }

    def arrived(self) -> int:
        return sum(sum(1 for c in counts if c) for counts in self.copies().values())


@asynccontextmanager
async def fakes(n: int, slack_limit: float) -> AsyncIterator[Fakes]:
    users = [FakeUser(1_300_000_000_000_000_000 + i, f"user{i}") for i in range(n)]
    async with FakeSlack() as slack, FakeDiscord(users=users) as discord:
        slack_users = [f"U{i:06d}" for i in range(n)]
        for user in [*slack_users, "UAUTHOR"]:
            slack.add_user(user, name=user.lower())
        slack.rate_limit(SLACK_POST, per_second=slack_limit)
        yield Fakes(slack, discord, slack_users, users)


async def seed(app: App, found: Fakes) -> None:
    """One open public topic everyone on both platforms follows immediately, and its author."""
    store, now = app.store, datetime.now(UTC)
    topic = await store.topics.create("bench", "Benchmark", "", Visibility.PUBLIC, Policy.OPEN, now)
    async with store.transaction():
        for identity in [*(Identity("slack", u) for u in found.slack_users),
                         *(Identity("discord", str(u.id)) for u in found.discord_users)]:
            record = await store.people.ensure_identity(identity, identity.external_id, now)
            await store.subscriptions.put(record.person_id, topic.id, DeliveryMode.IMMEDIATE, now)


async def confirm(app: App) -> None:
    author = Identity("slack", "UAUTHOR")
    await app.dispatcher.handle(IncomingCommand(author, "author", text=f"announce new bench {TEXT}"))
    await app.dispatcher.handle(IncomingCommand(author, "author", text="announce confirm 1"))


def open_rows(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM deliveries WHERE kind = 'announcement'"
                                " AND status IN ('pending', 'sending')").fetchone()[0])


def open_by_platform(db: Path) -> dict[str, int]:
    """Rows still open per recipient platform (every bench subscriber has one identity)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute(
            "SELECT i.platform, COUNT(d.id) FROM identities i LEFT JOIN deliveries d ON d.person_id = i.person_id"
            " AND d.kind = 'announcement' AND d.status IN ('pending', 'sending')"
            " WHERE i.external_id != 'UAUTHOR' GROUP BY i.platform").fetchall()
    return {str(platform): int(count) for platform, count in rows}


def outcomes(db: Path) -> dict[str, dict[str, int]]:
    """Final row statuses per platform (the platform a copy went, or last tried to go, through)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute(
            "SELECT COALESCE(d.sent_platform, d.attempt_platform, i.platform), d.status, COUNT(*)"
            " FROM deliveries d LEFT JOIN identities i ON i.person_id = d.person_id"
            " WHERE d.kind = 'announcement' GROUP BY 1, 2").fetchall()
    result: dict[str, dict[str, int]] = {}
    for platform, status, count in rows:
        result.setdefault(str(platform), {})[str(status)] = int(count)
    return result


async def until(done: Callable[[], bool], what: str, limit: float = DEADLINE_SECONDS) -> None:
    """Poll ``done`` (it reads the fakes and the database file, which signal nothing) until it holds."""
    try:
        async with asyncio.timeout(limit):
            while not done():  # noqa: ASYNC110 - nothing to wait on: the state lives in another process's file
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise TimeoutError(f"gave up after {limit:.0f} s waiting until {what}") from None


def arm(found: Fakes, scenario: str, storm: float, outage: float) -> None:
    for method in (SLACK_POST, DISCORD_POST):
        faults = found.slack.faults if method == SLACK_POST else found.discord.faults
        if scenario == "drops":
            faults.add(Fault(method, DROP_AFTER_STORE, times=None, every=20, skip=3))
            faults.add(Fault(method, DROP_BEFORE_STORE, times=None, every=37, skip=5))
        elif scenario == "storms":
            faults.add(Fault(method, RATE_LIMITED, times=None, duration=storm, every=3, retry_after=2.0))
            faults.add(Fault(method, ERROR_AFTER_STORE, times=None, duration=storm, every=5, skip=1))
            faults.add(Fault(method, OUTAGE, times=None, duration=storm, every=7, skip=2))
        elif scenario == "outage":
            faults.add(Fault(method, OUTAGE, times=None, duration=outage))
    if scenario == "outage":
        found.slack.faults.add(Fault(SLACK_OPEN, OUTAGE, times=None, duration=outage))
        found.discord.faults.add(Fault(DISCORD_OPEN, OUTAGE, times=None, duration=outage))


async def in_process(scenario: str, n: int, slack_limit: float, storm: float, outage: float,
                     tmp: Path) -> dict[str, object]:
    db = tmp / f"{scenario}.db"
    async with fakes(n, slack_limit) as found, build_app(found.settings(db, slack_limit)) as app:
        await seed(app, found)
        stop = asyncio.Event()
        serving = asyncio.create_task(app.serve(stop))
        try:
            arm(found, scenario, storm, outage)
            started = time.monotonic()
            await confirm(app)
            finished: dict[str, float] = {}

            def ended() -> bool:
                for platform, count in open_by_platform(db).items():
                    if count == 0:
                        finished.setdefault(platform, round(time.monotonic() - started, 1))
                return open_rows(db) == 0

            await until(ended, "every row ended")
            seconds = time.monotonic() - started
        finally:
            stop.set()
            async with asyncio.timeout(60):
                await serving
        return report(scenario, found, db, seconds, {
            "platform_seconds": finished,
            "fault_answers": {"slack": found.slack.faults.hits(), "discord": found.discord.faults.hits()}})


@dataclass
class Killer:
    """SIGKILLs the bot process from inside a fake's request handling, at an exact point of one send:
    ``before`` — the post reached the platform, which has not stored it; ``after`` — the platform stored the
    post and has not answered. Armed once the fakes have seen ``after_requests`` posts."""

    stage: str = ""
    after_requests: int = 0
    seen: int = 0
    pid: int = 0

    def hook(self, stage: str) -> Callable[[object], bool]:
        def where(_params: object) -> bool:
            if stage == "before":
                self.seen += 1
            if self.pid and self.stage == stage and self.seen >= self.after_requests:
                os.kill(self.pid, signal.SIGKILL)
                self.pid = 0
            return False  # never answers in the fault's place: the process is gone, the fake goes on
        return where


async def sigkill(n: int, slack_limit: float, tmp: Path) -> dict[str, object]:
    """Three kills: while a post is on its way in (10%), after the platform stored one and before it answered
    (50%), and at an arbitrary moment (90%, typically between an answer and its record); then a clean run."""
    db = tmp / "sigkill.db"
    async with fakes(n, slack_limit) as found:
        async with build_app(found.settings(db, slack_limit)) as app:
            await seed(app, found)
            await confirm(app)  # queued, not sent: the worker never ran in this process
        killer = Killer()
        for faults, method in ((found.slack.faults, SLACK_POST), (found.discord.faults, DISCORD_POST)):
            faults.add(Fault(method, OUTAGE, times=None, where=killer.hook("before")))
            faults.add(Fault(method, ERROR_AFTER_STORE, times=None, where=killer.hook("after")))
        env = found.env(db, slack_limit)
        started = time.monotonic()
        kills = []
        for run, (share, stage) in enumerate(((0.1, "before"), (0.5, "after"), (0.9, "anywhere"))):
            with BotProcess(tmp, env, "run", name=f"bot{run}") as bot:
                target = int(2 * n * share)
                if stage != "anywhere":
                    killer.stage, killer.after_requests, killer.pid = stage, target, bot.process.pid
                    await until(lambda b=bot: b.process.poll() is not None, f"the kill {stage} a post")
                else:
                    await until(lambda t=target: found.arrived() >= t, f"{share:.0%} arrived")
                    os.kill(bot.process.pid, signal.SIGKILL)
                bot.process.wait(timeout=30)
                kills.append({"stage": stage, "arrived": found.arrived()})
        killer.stage = ""
        with BotProcess(tmp, env, "run", name="bot-final") as bot:
            await until(lambda: open_rows(db) == 0, "every row ended")
            seconds = time.monotonic() - started
            bot.process.send_signal(signal.SIGINT)
            bot.process.wait(timeout=60)
        return report("sigkill", found, db, seconds, {"kills": kills, "process_starts": 4})


def report(scenario: str, found: Fakes, db: Path, seconds: float, extra: dict[str, object]) -> dict[str, object]:
    copies = found.copies()
    rows = outcomes(db)
    per_platform = {
        platform: {"lost": counts.count(0), "duplicated": sum(c - 1 for c in counts if c > 1),
                   "failed": rows.get(platform, {}).get("failed", 0),
                   "missed": rows.get(platform, {}).get("missed", 0), "rows": rows.get(platform, {})}
        for platform, counts in copies.items()}
    return {"scenario": scenario, "seconds": round(seconds, 1), "platforms": per_platform, **extra}


async def main_async(scenarios: list[str], n: int, slack_limit: float, storm: float,
                     outage: float) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    for scenario in scenarios:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            if scenario == "sigkill":
                result = await sigkill(n, slack_limit, tmp)
            else:
                result = await in_process(scenario, n, slack_limit, storm, outage, tmp)
        print(json.dumps(result), flush=True)
        results.append(result)
    reference = next((r for r in results if r["scenario"] == "no-fault"), None)
    if reference is not None:
        base = float(reference["seconds"])  # type: ignore[arg-type]
        for result in results:
            allowed = base * 1.1 + (outage if result["scenario"] == "outage" else 0.0)
            result["no_fault_seconds"] = base
            result["goal_seconds"] = round(allowed, 1)
            result["within_goal"] = float(result["seconds"]) <= allowed  # type: ignore[arg-type]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="recipients per platform (default 1,000)")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS,
                        help="run only these (repeatable; default all, no-fault first)")
    parser.add_argument("--slack-limit", type=float, default=20.0,
                        help="chat.postMessage calls per second the fake Slack allows (default 20)")
    parser.add_argument("--storm", type=float, default=60.0, help="seconds of 429/5xx storm (default 60)")
    parser.add_argument("--outage", type=float, default=300.0, help="seconds of outage (default 300)")
    args = parser.parse_args()
    scenarios = args.scenario or list(SCENARIOS)
    if "no-fault" not in scenarios:
        scenarios.insert(0, "no-fault")
    results = asyncio.run(main_async(scenarios, args.n, args.slack_limit, args.storm, args.outage))
    report_ = {"python": platform_module.python_version(), "measured_at": datetime.now(UTC).isoformat(
        timespec="seconds"), "recipients_per_platform": args.n, "runs": results}
    print(json.dumps(report_, indent=2))
    out = Path(__file__).resolve().parent / "results" / "faults.json"
    out.write_text(json.dumps(report_, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
