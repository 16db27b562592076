"""Fan-out through the real Slack and Discord adapters (slack_sdk, discord.py) against the loopback fakes.

The fakes enforce the platform's limit and answer 429 beyond it: Discord's global 50 requests/s, and for
Slack a configurable chat.postMessage budget (Slack does not publish its workspace limit). The reference is
that limit, in the same run. Reported per platform: messages and requests per second as a ratio of the
limit, 429s received, lost and duplicated deliveries.

    .venv/bin/python bench/fanout_platforms.py                  # both, 1,000 recipients each
    .venv/bin/python bench/fanout_platforms.py --platform discord --n 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform as platform_module
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
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
from tests.fakes.discord_gateway import FakeUser  # noqa: E402
from tests.fakes.discord_server import OWNER, FakeDiscord  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

MARGIN = 0.95


async def subscribe_everyone(app: App, platform: str, user_ids: list[str]) -> None:
    store, now = app.store, datetime.now(UTC)
    topic = await store.topics.create("bench", "Benchmark", "", Visibility.PUBLIC, Policy.OPEN, now)
    async with store.transaction():
        for user_id in user_ids:
            record = await store.people.ensure_identity(Identity(platform, user_id), user_id, now)
            await store.subscriptions.put(record.person_id, topic.id, DeliveryMode.IMMEDIATE, now)


async def announce(app: App, author: Identity, number: int) -> float:
    """Send announcement ``number`` and return the seconds until every delivery row has ended."""
    await app.dispatcher.handle(IncomingCommand(author, "author", text=f"announce new bench Update {number}"))
    started = time.monotonic()
    await app.dispatcher.handle(IncomingCommand(author, "author", text=f"announce confirm {number}"))
    while True:
        await app.run_due()
        if await app.store.outbox.next_due() is None and not await app.store.outbox.in_flight():
            return time.monotonic() - started
        await asyncio.sleep(0.05)


def summary(n: int, seconds: float, messages: int, requests: int, limit: float, limit_of: str,
            rate_limited: int, lost: int, duplicated: int) -> dict[str, object]:
    per_second = requests / seconds if limit_of == "requests" else messages / seconds
    return {"recipients": n, "seconds": round(seconds, 2), "messages_per_second": round(messages / seconds, 1),
            "requests_per_second": round(requests / seconds, 1), "limit_per_second": limit,
            "limit_counts": limit_of, "ratio_of_limit": round(per_second / limit, 3),
            "rate_limited_429": rate_limited, "lost": lost, "duplicated": duplicated}


async def discord_run(n: int, tmp: Path) -> list[dict[str, object]]:
    users = [FakeUser(1_300_000_000_000_000_000 + i, f"user{i}") for i in range(n)]
    async with FakeDiscord(users=users) as fake:
        limit = float(fake.global_limit or 50)
        settings = Settings(
            discord={"token": fake.token, "guild_id": fake.guild_id, "api_base_url": fake.api_base,
                     "gateway_url": fake.gateway_url},
            storage={"path": tmp / "discord.db"}, coalition={"admins": [f"discord:{OWNER.id}"]},
            delivery={"discord_per_second": limit * MARGIN})
        async with build_app(settings) as app:
            await subscribe_everyone(app, "discord", [str(u.id) for u in users])
            results = []
            for number, label in ((1, "first fan-out (opens every DM channel)"), (2, "second (DM channels cached)")):
                before_requests, before_429 = len(fake.requests), fake.rate_limited_count
                seconds = await announce(app, Identity("discord", str(OWNER.id)), number)
                counts = [sum(1 for m in fake.dm_messages_to(u.id) if f"Update {number}" in json.dumps(m.embeds))
                          for u in users]
                result = summary(n, seconds, sum(counts), len(fake.requests) - before_requests, limit, "requests",
                                 fake.rate_limited_count - before_429, counts.count(0),
                                 sum(c - 1 for c in counts if c > 1))
                results.append({"platform": "discord", "run": label, **result})
    return results


async def slack_run(n: int, tmp: Path, limit: float) -> list[dict[str, object]]:
    async with FakeSlack() as fake:
        users = [f"U{i:06d}" for i in range(n)]
        for user in [*users, "UAUTHOR"]:
            fake.add_user(user, name=user.lower())
        fake.rate_limit("chat.postMessage", per_second=limit)
        settings = Settings(
            slack={"bot_token": "xoxb-bench", "app_token": "xapp-bench", "api_base_url": fake.api_url},
            storage={"path": tmp / "slack.db"}, coalition={"admins": ["slack:UAUTHOR"]},
            delivery={"slack_per_second": limit * MARGIN}, web={"host": "127.0.0.1", "port": 0})
        async with build_app(settings) as app:
            await subscribe_everyone(app, "slack", users)
            seconds = await announce(app, Identity("slack", "UAUTHOR"), 1)
            counts = [sum(1 for m in fake.messages(fake.dm_channel(u)) if "Update 1" in json.dumps(m))
                      for u in users]
            posts = len(fake.calls_to("chat.postMessage"))
            result = summary(n, seconds, sum(counts), posts, limit, "chat.postMessage calls",
                             fake.ratelimited("chat.postMessage"), counts.count(0),
                             sum(c - 1 for c in counts if c > 1))
            return [{"platform": "slack", "run": "fan-out", **result}]


async def main_async(which: str, n: int, slack_limit: float) -> list[dict[str, object]]:
    runs: list[Callable[[Path], Awaitable[list[dict[str, object]]]]] = []
    if which in ("both", "discord"):
        runs.append(lambda tmp: discord_run(n, tmp))
    if which in ("both", "slack"):
        runs.append(lambda tmp: slack_run(n, tmp, slack_limit))
    results: list[dict[str, object]] = []
    for run in runs:
        with tempfile.TemporaryDirectory() as tmp:
            results += await run(Path(tmp))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", choices=("both", "discord", "slack"), default="both")
    parser.add_argument("--n", type=int, default=1000, help="recipients (default 1,000)")
    parser.add_argument("--slack-limit", type=float, default=20.0, help="chat.postMessage calls per second the "
                        "fake Slack allows (default 20)")
    args = parser.parse_args()
    results = asyncio.run(main_async(args.platform, args.n, args.slack_limit))
    report = {"python": platform_module.python_version(), "measured_at": datetime.now(UTC).isoformat(
        timespec="seconds"), "runs": results}
    print(json.dumps(report, indent=2))
    out = Path(__file__).resolve().parent / "results" / "fanout_platforms.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
