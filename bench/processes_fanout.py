"""The fan-out parts of ``bench/processes.py``: one announcement to every recipient through the real Slack or Discord
adapter of ``python -m bot run`` processes, against the loopback fake of that platform served from its own thread in
the bench's process (``bench.support.in_own_thread``), which enforces the platform's limits and answers 429 beyond
them. The recipients' DM channels are known beforehand (written into ``identities.dm_channel_id``), so the platform's
message pace is the ceiling. Timed from the confirm to the last recipient's post the fake admitted; lost (a recipient
with no copy), duplicated (copies beyond one) and 429s are counted at the fake.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout

from adapters.slack.manifest import EVENTS_PATH
from app.settings import DeliverySettings
from bench.processes_support import (
    TOPIC,
    Bots,
    CpuWindow,
    announcements,
    cpu,
    new_target,
    prepare,
    ready,
    wait_for_fan_out,
    wait_until,
)
from bench.support import in_own_thread
from tests.fakes import discord_limits
from tests.fakes.discord_gateway import FakeUser
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack, RecordedCall, sign, slash_command_form

SECRET = "bench-signing-secret"
AUTHOR_SLACK = "UAUTHOR"
AUTHOR_CONSOLE = "benchadmin"
MARKER = "Update 1"
HOLDS = "Discord: this process holds shard 0's gateway"
REST_ONLY = "Discord: shard 0's gateway is another process's"
DISCORD_MESSAGES = "/channels/{channel_id}/messages"
SLACK_START_SHARE = 0.9
"""The bots' Slack budget starts at this share of the workspace cap by default: an operator who knows the
workspace's budget sets it a little below, not at it (at the cap the first burst meets a 429, and the learnt budget
is cut to 0.7 of it)."""


def slack_start(args: argparse.Namespace) -> float:
    """Where the bots' Slack budget starts (``slack_workspace_per_second``)."""
    return float(args.slack_start) if args.slack_start is not None else SLACK_START_SHARE * args.slack_limit


def slack_max() -> float:
    """The most the learnt Slack budget reaches: the shipped ``slack_workspace_max_per_second``, left as it is."""
    return DeliverySettings().slack_workspace_max_per_second


def outcome(engine: str, count: int, n: int, seconds: float, ceiling: float, ceiling_is: str, copies: list[int],
            window: CpuWindow) -> dict[str, object]:
    """The figures both platforms report: the pace as a ratio of the ceiling, lost and duplicated copies, CPU."""
    return {"engine": engine, "processes": count, "recipients": n, "seconds": round(seconds, 2),
            "ideal_seconds": round(n / ceiling, 2), "messages_per_second": round(n / seconds, 2),
            "ceiling_per_second": ceiling, "ceiling_is": ceiling_is,
            "ratio_of_ceiling": round(n / seconds / ceiling, 3), "lost": copies.count(0),
            "duplicated": sum(c - 1 for c in copies if c > 1), **window.figures()}


# --- Slack (HTTP mode) ------------------------------------------------------------------------------------

async def slack_command(http: ClientSession, fake: FakeSlack, port: int, text: str) -> None:
    body = slash_command_form(fake.slash_command_payload(command="/coalition", user_id=AUTHOR_SLACK, text=text))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, SECRET, int(time.time()))}
    async with http.post(f"http://127.0.0.1:{port}{EVENTS_PATH}", data=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"{text!r}: HTTP {response.status} {await response.text()}")


async def slack_fanout(engine: str, count: int, args: argparse.Namespace) -> dict[str, object]:
    """Slack's HTTP mode has no gateway, so every process sends. The announcement is written and confirmed as a
    coordinator does it: signed slash commands posted to the first process's events endpoint."""
    recipients = [f"U{i:06d}" for i in range(args.n)]
    admitted: list[tuple[float, str]] = []

    def record(call: RecordedCall) -> None:  # runs on the fake's thread, only for calls its limits admitted
        if call.method == "chat.postMessage":
            admitted.append((time.monotonic(), str(call.params.get("channel", ""))))

    with tempfile.TemporaryDirectory(prefix="bench-processes-") as tmp:
        folder = Path(tmp)
        async with in_own_thread(FakeSlack) as fake:
            for user in [*recipients, AUTHOR_SLACK]:
                fake.add_user(user, name=user.lower())
            fake.enforce_slack_limits(workspace_per_second=args.slack_limit)
            fake.add_hook(record)
            target = await new_target(engine, folder)
            await prepare(target, "slack", recipients, f"slack:{AUTHOR_SLACK}", fake.dm_channel)
            dms = {fake.dm_channel(user): user for user in recipients}
            bots = Bots(folder, target, count, {
                "BOT_SLACK__BOT_TOKEN": "xoxb-bench", "BOT_SLACK__MODE": "http", "BOT_SLACK__SIGNING_SECRET": SECRET,
                "BOT_SLACK__API_BASE_URL": fake.api_url, "BOT_COALITION__ADMINS": json.dumps([f"slack:{AUTHOR_SLACK}"]),
                "BOT_DELIVERY__SLACK_WORKSPACE_PER_SECOND": str(slack_start(args))})
            try:
                bots.start(web=True)
                await ready(bots)
                async with ClientSession(timeout=ClientTimeout(total=60)) as http:
                    await slack_command(http, fake, bots.ports[0], f"announce new {TOPIC} {MARKER}")
                    with cpu(bots) as window:
                        started = time.monotonic()
                        await slack_command(http, fake, bots.ports[0], "announce confirm 1")
                        await wait_for_fan_out(bots, args.n, args.deadline, args.stall)
            finally:
                bots.stop()
            copies = [sum(1 for m in fake.messages(dm) if MARKER in json.dumps(m)) for dm in dms]
            last = max((at for at, channel in admitted if channel in dms), default=started)
            limited = {scope: fake.ratelimited("chat.postMessage", scope=scope) for scope in ("workspace", "channel")}
            return {"part": "slack", **outcome(
                        engine, count, args.n, last - started, args.slack_limit,
                        f"fake Slack workspace cap on chat.postMessage, {args.slack_limit:g}/s", copies, window),
                    "budget_start_per_second": slack_start(args), "budget_max_per_second": slack_max(),
                    "rate_limited_429": fake.ratelimited(), "rate_limited_by_scope": limited,
                    "conversations_open_calls": len(fake.calls_to("conversations.open"))}


# --- Discord (REST, one gateway) --------------------------------------------------------------------------

async def discord_fanout(engine: str, count: int, args: argparse.Namespace) -> dict[str, object]:
    """Every process sends over REST; one holds the gateway (``storage/gateway_locks.py``), the others leave it to
    it. The announcement is typed into the first process's console (the author is a console admin), so no request
    to the fake but the fan-out's own falls inside the timed window."""
    users = [FakeUser(1_300_000_000_000_000_000 + i, f"user{i}") for i in range(args.n)]
    with tempfile.TemporaryDirectory(prefix="bench-processes-") as tmp:
        folder = Path(tmp)
        async with in_own_thread(lambda: FakeDiscord(users=users, route_limits=discord_limits.ROUTE_LIMITS)) as fake:
            dm_of = {str(u.id): str(fake.world.dm_channel_id(u.id)) for u in users}  # before any bot: fake idle
            target = await new_target(engine, folder)
            await prepare(target, "discord", list(dm_of), f"console:{AUTHOR_CONSOLE}", dm_of.__getitem__)
            bots = Bots(folder, target, count, {
                "BOT_DISCORD__TOKEN": fake.token, "BOT_DISCORD__GUILD_ID": str(fake.guild_id),
                "BOT_DISCORD__API_BASE_URL": fake.api_base, "BOT_DISCORD__GATEWAY_URL": fake.gateway_url,
                "BOT_CONSOLE__ENABLED": "true",  # "auto" turns it off beside a platform
                "BOT_COALITION__ADMINS": json.dumps([f"console:{AUTHOR_CONSOLE}"])}, args=["--user", AUTHOR_CONSOLE])
            try:
                bots.start(web=False)
                await ready(bots, {HOLDS: 1, REST_ONLY: count - 1})
                bots.write(0, f"/announce new {TOPIC} {MARKER}\n")
                await wait_until(lambda: _has_announcement(target), "the announcement's draft", bots, 30)
                first = len(fake.requests)
                with cpu(bots) as window:
                    started = time.monotonic()
                    bots.write(0, "/announce confirm 1\n")
                    await wait_for_fan_out(bots, args.n, args.deadline, args.stall)
            finally:
                bots.stop()
            dm_channels = set(dm_of.values())
            requests = fake.requests[first:]
            posts = [r for r in requests if r.method == "POST" and r.route == DISCORD_MESSAGES
                     and r.path.split("/")[2] in dm_channels]
            last = max((r.at for r in posts if 200 <= r.status < 300), default=started)
            seconds = last - started
            during = [r for r in requests if r.at <= last]
            post_ids = {id(r) for r in posts}
            others = Counter(f"{r.method} {r.route}" for r in during if id(r) not in post_ids)
            copies = [sum(1 for m in fake.dm_messages_to(u.id) if MARKER in json.dumps(m.payload())) for u in users]
            by_scope = Counter({"global": 0, "user": 0, "shared": 0})
            for key, times in fake.rate_limited_by.items():
                by_scope[key.split(" ", 1)[0]] += times
            ceiling = float(fake.global_limit or 50)
            return {"part": "discord", **outcome(
                        engine, count, args.n, seconds, ceiling,
                        f"fake Discord global limit, {ceiling:g} requests/s (one DM post per request)", copies,
                        window),
                    "requests_in_window": len(during), "dm_posts": len(posts),
                    "other_requests_in_window": dict(others),
                    "requests_per_second": round(len(during) / seconds, 2),
                    "requests_ratio": round(len(during) / seconds / ceiling, 3),
                    "rate_limited_429": fake.rate_limited_count, "rate_limited_by_scope": dict(by_scope),
                    "rate_limited_by": dict(fake.rate_limited_by),
                    "rate_limited_at_seconds": [round(r.at - started, 2) for r in requests if r.status == 429],
                    "requests_before_window": first}


async def _has_announcement(target: Path | str) -> bool:
    return await announcements(target) >= 1
