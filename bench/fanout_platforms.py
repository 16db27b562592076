"""Fan-out through the real Slack and Discord adapters (slack_sdk, discord.py) against the loopback fakes.

The fakes enforce each platform's limits and answer 429 beyond them:

- Discord: the global 50 requests/s, and per-route buckets announced in X-RateLimit-* headers (creating a
  message 5 per 5 s per channel: ``tests/fakes/discord_limits.ROUTE_LIMITS``).
- Slack (``FakeSlack.enforce_slack_limits``): chat.postMessage one a second per channel with short bursts, under a
  workspace cap (``--slack-limit``; Slack does not publish its own), and conversations.open 50 a minute (Tier 3).

Each platform runs twice on one database: a first fan-out (every recipient new) and a second with the DM channels
known (Discord remembers them from the first run; for Slack the second run starts from a database that already
holds every DM channel id, as if they had been opened earlier). For Discord the first run lets the bot open the
DM channels the way it does after people subscribe (``DirectChannels``, in the background before the
announcement), timed separately as ``preopen_seconds``; Slack's first run opens them during the fan-out, where
conversations.open's 50 a minute bounds it. The reference is the
ceiling the fake enforces, in the same run: Discord 50 messages/s (the issue's "message ceiling") and 50
requests/s; Slack the workspace cap, or for a first fan-out the lower of that cap and conversations.open's 50 a
minute. Printed beside it: messages and requests per second as a ratio of that ceiling, 429s received (per
method for Slack), lost and duplicated deliveries, and the wall time the issue measured.

The adapters are paced with the shipped settings unless ``--discord-global-limit`` / ``--slack-start`` say
otherwise — issue 23 asks for the ceiling "by default".

    .venv/bin/python bench/fanout_platforms.py                  # both, 1,000 recipients each
    .venv/bin/python bench/fanout_platforms.py --platform discord --n 10000
    .venv/bin/python bench/fanout_platforms.py --platform slack --n 300 --slack-run cached
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import platform as platform_module
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.assembly import App, build_app  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.support import bulk_subscribe, in_own_thread  # noqa: E402
from bot.commands.context import IncomingCommand  # noqa: E402
from bot.model import Identity  # noqa: E402
from bot.topics.model import Policy, Visibility  # noqa: E402
from tests.fakes import discord_limits, slack_limits  # noqa: E402
from tests.fakes.discord_gateway import FakeUser  # noqa: E402
from tests.fakes.discord_server import OWNER, FakeDiscord  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "fanout_platforms.json"
TIER3_PER_SECOND = slack_limits.TIER_PER_MINUTE[slack_limits.METHOD_TIERS["conversations.open"]] / 60
# What issue 23 measured with the shipped settings (10,000 recipients), as (seconds, ratio of the message ceiling).
ISSUE = {("discord", "first"): (533.0, 0.38), ("discord", "cached"): (271.0, 0.74),
         ("slack", "first"): (10_080.0, None), ("slack", "cached"): (10_080.0, None)}
TARGET = {"discord": 0.95, "slack": "10,000 DMs in minutes; 429s only while the budget learns"}


async def announce(app: App, author: Identity, number: int, deadline: float) -> float:
    """Send announcement ``number``; the seconds until every delivery row has ended (or ``deadline`` passed)."""
    await app.dispatcher.handle(IncomingCommand(author, "author", text=f"announce new bench Update {number}"))
    started = time.monotonic()
    await app.dispatcher.handle(IncomingCommand(author, "author", text=f"announce confirm {number}"))
    # The worker's continuous pipeline, as the running bot sends (``App.serve``), not batch by batch.
    worker = asyncio.create_task(app.worker.run())
    try:
        while time.monotonic() - started < deadline:
            if await app.store.outbox.next_due() is None and not await app.store.outbox.in_flight():
                break
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        app.worker.request_stop()
        await worker
    await app.run_due()  # close the announcement (its report), off the clock
    return elapsed


def summary(n: int, seconds: float, messages: int, requests: int, ceiling: float, ceiling_of: str,
            rate_limited: dict[str, int], lost: int, duplicated: int) -> dict[str, object]:
    return {"recipients": n, "seconds": round(seconds, 2), "ideal_seconds": round(n / ceiling, 1),
            "messages_per_second": round(messages / seconds, 2), "requests_per_second": round(requests / seconds, 2),
            "ceiling_per_second": round(ceiling, 3), "ceiling_is": ceiling_of,
            "ratio_of_ceiling": round(messages / seconds / ceiling, 3), "rate_limited_429": rate_limited,
            "lost": lost, "duplicated": duplicated}


async def preopen(app: App, deadline: float) -> float:
    """Let the bot open the DM channels still missing, as it does after people subscribe; the seconds it took."""
    started = time.monotonic()
    assert app.direct_channels is not None
    while time.monotonic() - started < deadline and await app.direct_channels.run_due():
        pass
    return time.monotonic() - started


async def discord_run(n: int, tmp: Path, per_second: float | None, deadline: float,
                      concurrency: int | None = None) -> list[dict[str, object]]:
    users = [FakeUser(1_300_000_000_000_000_000 + i, f"user{i}") for i in range(n)]
    # The fake serves from its own thread and event loop, so it stamps requests as they arrive (see in_own_thread).
    async with in_own_thread(lambda: FakeDiscord(users=users, route_limits=discord_limits.ROUTE_LIMITS)) as fake:
        limit = float(fake.global_limit or 50)
        delivery: dict[str, object] = {} if per_second is None else {"discord_global_limit": per_second}
        if concurrency is not None:
            delivery["concurrency"] = concurrency
        settings = Settings(
            discord={"token": fake.token, "guild_id": fake.guild_id, "api_base_url": fake.api_base,
                     "gateway_url": fake.gateway_url},
            storage={"path": tmp / "discord.db"}, coalition={"admins": [f"discord:{OWNER.id}"]}, delivery=delivery)
        async with build_app(settings) as app:
            topic = await app.store.topics.create("bench", "Benchmark", "", Visibility.PUBLIC, Policy.OPEN,
                                                  datetime.now(UTC))
            await bulk_subscribe(app, "discord", [str(u.id) for u in users], topic.id, datetime.now(UTC))
            # As app.assembly.run does once started; here it also keeps the in-process fake's users (a remote
            # server's, in real life) out of the bot's full collections.
            gc.freeze()
            results = []
            for number, run in ((1, "first"), (2, "cached")):
                before_open, before_429 = len(fake.requests), fake.rate_limited_count
                preopen_seconds = await preopen(app, deadline) if run == "first" else 0.0
                preopen_requests, preopen_429 = len(fake.requests) - before_open, fake.rate_limited_count - before_429
                before_requests, before_429 = len(fake.requests), fake.rate_limited_count
                before_by = collections.Counter(fake.rate_limited_by)
                seconds = await announce(app, Identity("discord", str(OWNER.id)), number, deadline)
                counts = [sum(1 for m in fake.dm_messages_to(u.id) if f"Update {number}" in json.dumps(m.embeds))
                          for u in users]
                result = summary(n, seconds, sum(counts), len(fake.requests) - before_requests, limit,
                                 "Discord global 50 requests/s (one message per request)",
                                 {"all": fake.rate_limited_count - before_429,
                                  **(fake.rate_limited_by - before_by)}, counts.count(0),
                                 sum(c - 1 for c in counts if c > 1))
                result["requests_ratio"] = round(float(str(result["requests_per_second"])) / limit, 3)
                result |= {"preopen_seconds": round(preopen_seconds, 2), "preopen_requests": preopen_requests,
                           "preopen_429": preopen_429}
                results.append({"platform": "discord", "run": run, "pacing_per_second": per_second or "shipped",
                                **result})
    return results


async def slack_run(n: int, tmp: Path, workspace: float, per_second: float | None, runs: list[str],
                    deadline: float) -> list[dict[str, object]]:
    results = []
    for run in runs:
        async with FakeSlack() as fake:
            users = [f"U{i:06d}" for i in range(n)]
            for user in [*users, "UAUTHOR"]:
                fake.add_user(user, name=user.lower())
            fake.enforce_slack_limits(workspace_per_second=workspace)
            delivery = {} if per_second is None else {"slack_workspace_per_second": per_second}
            settings = Settings(
                slack={"bot_token": "xoxb-bench", "app_token": "xapp-bench", "api_base_url": fake.api_url},
                storage={"path": tmp / f"slack-{run}.db"}, coalition={"admins": ["slack:UAUTHOR"]},
                delivery=delivery, web={"host": "127.0.0.1", "port": 0})
            async with build_app(settings) as app:
                topic = await app.store.topics.create("bench", "Benchmark", "", Visibility.PUBLIC, Policy.OPEN,
                                                      datetime.now(UTC))
                await bulk_subscribe(app, "slack", users, topic.id, datetime.now(UTC),
                                     dm_channel=fake.dm_channel if run == "cached" else None)
                seconds = await announce(app, Identity("slack", "UAUTHOR"), 1, deadline)
                counts = [sum(1 for m in fake.messages(fake.dm_channel(u)) if "Update 1" in json.dumps(m))
                          for u in users]
                requests = len(fake.calls_to("chat.postMessage")) + len(fake.calls_to("conversations.open"))
                # A first fan-out opens every DM: 50 at once, then 50 a minute (the fake's Tier 3 window).
                ideal = n / workspace if run == "cached" else max(n / workspace, max(0, n - 50) / TIER3_PER_SECOND)
                ceiling = n / ideal
                ceiling_of = f"workspace cap {workspace:g}/s" if run == "cached" else \
                    f"workspace cap {workspace:g}/s and conversations.open 50/min (50 at once, then 50 a minute)"
                limited = {method: fake.ratelimited(method) for method in ("chat.postMessage", "conversations.open")}
                limited |= {f"chat.postMessage {scope}": fake.ratelimited("chat.postMessage", scope=scope)
                            for scope in ("channel", "workspace")}
                result = summary(n, seconds, sum(counts), requests, ceiling, ceiling_of, limited, counts.count(0),
                                 sum(c - 1 for c in counts if c > 1))
                results.append({"platform": "slack", "run": run, "pacing_per_second": per_second or "shipped",
                                "conversations_open_calls": len(fake.calls_to("conversations.open")), **result})
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'platform':<8} {'run':<7} {'n':>6} {'seconds':>8} {'ideal s':>8} {'msg/s':>7} {'ceiling':>7}"
             f" {'ratio':>6} {'target':>6} {'429s':>5} {'lost':>5} {'dup':>4}   issue (10,000, shipped)"]
    for r in results:
        issue_seconds, issue_ratio = ISSUE[(r["platform"], r["run"])]
        target = TARGET[r["platform"]]
        limited = r["rate_limited_429"]
        total = limited.get("all", limited.get("chat.postMessage", 0) + limited.get("conversations.open", 0))
        lines.append(
            f"{r['platform']:<8} {r['run']:<7} {r['recipients']:>6,} {r['seconds']:>8.1f} {r['ideal_seconds']:>8.1f}"
            f" {r['messages_per_second']:>7.2f} {r['ceiling_per_second']:>7.2f} {r['ratio_of_ceiling']:>6.3f}"
            f" {target if isinstance(target, float) else '-':>6} {total:>5} {r['lost']:>5} {r['duplicated']:>4}"
            f"   {issue_seconds:,.0f} s" + (f", ratio {issue_ratio}" if issue_ratio is not None else ""))
        if r["platform"] == "discord" and r["run"] == "first":
            lines.append(f"{'':<17} DM channels opened beforehand: {r['preopen_seconds']:.1f} s,"
                         f" {r['preopen_requests']} requests, {r['preopen_429']} x 429")
        if r["platform"] == "slack":
            lines.append(f"{'':<17} 429s by method/limit: {limited}; conversations.open calls:"
                         f" {r['conversations_open_calls']}; ceiling = {r['ceiling_is']}")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> list[dict[str, object]]:
    runs: list[Callable[[Path], Awaitable[list[dict[str, object]]]]] = []
    if args.platform in ("both", "discord"):
        runs.append(lambda tmp: discord_run(args.n, tmp, args.discord_global_limit, args.deadline, args.concurrency))
    if args.platform in ("both", "slack"):
        slack_runs = ["first", "cached"] if args.slack_run == "both" else [args.slack_run]
        runs.append(lambda tmp: slack_run(args.n, tmp, args.slack_limit, args.slack_start, slack_runs,
                                          args.deadline))
    results: list[dict[str, object]] = []
    for run in runs:
        with tempfile.TemporaryDirectory() as tmp:
            results += await run(Path(tmp))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", choices=("both", "discord", "slack"), default="both")
    parser.add_argument("--n", type=int, default=1000, help="recipients (default 1,000; the issue's figure is 10,000)")
    parser.add_argument("--slack-limit", type=float, default=20.0, help="the fake Slack's workspace cap on "
                        "chat.postMessage, per second (default 20; Slack does not publish its own)")
    parser.add_argument("--slack-run", choices=("both", "first", "cached"), default="both")
    parser.add_argument("--discord-global-limit", type=float, default=None,
                        help="override the shipped discord_global_limit (the bot paces at 0.97 of it)")
    parser.add_argument("--slack-start", type=float, default=None,
                        help="override the shipped slack_workspace_per_second (where the learnt budget starts)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="override the shipped [delivery] concurrency (sends in flight per platform)")
    parser.add_argument("--deadline", type=float, default=4 * 3600.0, help="stop waiting after this many seconds")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    print(table(results))
    report = {"python": platform_module.python_version(), "measured_at": datetime.now(UTC).isoformat(
        timespec="seconds"), "command": " ".join(["bench/fanout_platforms.py", *sys.argv[1:]]), "runs": results}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
