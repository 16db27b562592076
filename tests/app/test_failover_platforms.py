"""Issue 22, point 4: two ``python -m bot run`` processes on one PostgreSQL database, talking to loopback Slack (HTTP
mode) and Discord (REST and gateway). The first leads and holds Discord's gateway; it is SIGKILLed in the middle of
a 1,000-recipient fan-out (half on Slack, half on Discord). The second finishes the fan-out, takes over the scheduled
work and the gateway, and settles the announcement. Every recipient gets exactly one copy, counted at the fakes: the
adapters' read-back (Slack's message metadata, Discord's nonce) sees what the dead process had in flight. So that
there is always something to see, the fakes store a few posts and answer 502 to them just before the kill (a kill
alone rarely lands between a platform storing a post and the database recording it).

Throughout, a signed Slack slash command goes to the second process every 0.5 s and must be acknowledged within
Slack's 3 s; from the kill on, a Discord interaction goes out through the fake gateway every 0.2 s, and the gap (the
kill to the first one answered) is measured and printed, with the other figures (``record_property`` too).

The fakes serve from a thread and event loop of their own, so they answer while the test polls; everything that
reads their state runs on their loop (:meth:`FakeThread.call`). The recipients' DM channels are known beforehand,
so the fan-out is bound by the platforms' message pace: Discord's global 50/s, and a Slack budget raised to 40/s,
about 20 s in all.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import ClientSession, ClientTimeout
from pydantic import SecretStr

from adapters.slack.manifest import EVENTS_PATH
from app.assembly import build_app
from app.settings import CoalitionSettings, ConsoleSettings, Settings, StorageSettings, WebSettings
from bot.topics.model import Policy, Visibility
from storage.database import Database, to_db_time
from tests.bot_process import BotProcess, bot_env
from tests.fakes.discord_gateway import FakeUser, InteractionHandle
from tests.fakes.discord_server import BOB, GENERAL, FakeDiscord
from tests.fakes.faults import ERROR_AFTER_STORE, Fault
from tests.fakes.slack_server import FakeSlack, sign, slash_command_form
from tests.postgres_server import fresh_database_url
from tests.support import add_people

pytestmark = [pytest.mark.postgresql_only, pytest.mark.slow]

T = TypeVar("T")
Record = Callable[[str, object], None]
"""pytest's ``record_property`` fixture."""
PER_PLATFORM = 500
SLACK_USERS = [f"U{i:06d}" for i in range(PER_PLATFORM)]
DISCORD_USERS = [FakeUser(1_300_000_000_000_000_000 + i, f"user{i}") for i in range(PER_PLATFORM)]
TOTAL = 2 * PER_PLATFORM
KILL_AFTER = TOTAL * 15 // 100
SECRET = "failover-signing-secret"
AUTHOR, PROBE = "UAUTHOR", "UPROBE"
MARKER = "Failover 22"
SLACK_PER_SECOND = 40
"""The bots' Slack workspace budget (shared by the two): 500 DMs in about 13 s. Discord's is its global 50/s."""
LEASE_SECONDS = 5
SLACK_ACK_SECONDS = 3.0
LEADS = "cluster: this process now runs the scheduled work"
HOLDS = "Discord: this process holds shard 0's gateway"
REST_ONLY = "Discord: shard 0's gateway is another process's"
POLL = 0.05
FAULTED = 3
"""Posts per platform stored by the fake and answered 502 just before the kill."""
DISCORD_MESSAGES = "/channels/{channel_id}/messages"


class FakeThread:
    """The fakes' own event loop in its own thread (a fake on the test's loop would stall while the test polls)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fakes", daemon=True)
        self._thread.start()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        async with asyncio.timeout(30):
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    async def call(self, read: Callable[[], T]) -> T:
        """``read()`` on the fakes' loop: their dicts and lists are only ever read where they are written."""
        async def on_loop() -> T:
            return read()
        return await self.run(on_loop())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_settings(url: str, port: int, slack: FakeSlack, discord: FakeDiscord) -> dict[str, str]:
    return bot_env(Path("unused.db"), BOT_STORAGE__URL=url, BOT_CONSOLE__ENABLED="false",
                   BOT_WEB__ENABLED="true", BOT_WEB__HOST="127.0.0.1", BOT_WEB__PORT=str(port),
                   BOT_SLACK__MODE="http", BOT_SLACK__BOT_TOKEN="xoxb-failover", BOT_SLACK__SIGNING_SECRET=SECRET,
                   BOT_SLACK__API_BASE_URL=slack.api_url, BOT_DISCORD__TOKEN=discord.token,
                   BOT_DISCORD__GUILD_ID=str(discord.guild_id), BOT_DISCORD__API_BASE_URL=discord.api_base,
                   BOT_DISCORD__GATEWAY_URL=discord.gateway_url,
                   BOT_COALITION__ADMINS=json.dumps([f"slack:{AUTHOR}"]),
                   BOT_DELIVERY__SLACK_WORKSPACE_PER_SECOND=str(SLACK_PER_SECOND),
                   BOT_DELIVERY__LEASE_SECONDS=str(LEASE_SECONDS))


async def prepare(url: str, slack_dms: dict[str, str], discord_dms: dict[int, int]) -> None:
    """One topic, and 1,000 people subscribed to it, each with their DM channel known: set-up written in a few
    statements (the bots are not running yet)."""
    settings = Settings(storage=StorageSettings(url=SecretStr(url)), console=ConsoleSettings(enabled=False),
                        web=WebSettings(enabled=False), coalition=CoalitionSettings(admins=[f"slack:{AUTHOR}"]))
    now = datetime.now(UTC)
    stamp = to_db_time(now)
    people = [("slack", user, dm) for user, dm in slack_dms.items()]
    people += [("discord", str(user), str(dm)) for user, dm in discord_dms.items()]
    async with build_app(settings) as app:
        topic = await app.store.topics.create("failover", "Failover", "", Visibility.PUBLIC, Policy.OPEN, now)
        db = app.db
        ids = await add_people(db, people, stamp)
        await db.execute_many("INSERT INTO subscriptions (person_id, topic_id, mode, created_at) VALUES (?, ?, ?, ?)",
                              [(pid, topic.id, "immediate", stamp) for pid in ids])


async def unsettled_at(url: str, pid: int) -> list[str]:
    """The recipients (``platform:external id``) whose announcement copy may be out without the database knowing:
    claimed by process ``pid`` and not settled, or marked uncertain (a send that may have landed)."""
    async with Database.open(url, migrate=False) as db:
        rows = await db.fetch_all(
            "SELECT i.platform, i.external_id FROM deliveries d JOIN identities i ON i.person_id = d.person_id"
            " LEFT JOIN worker_leases w ON w.holder = d.claimed_by WHERE d.kind = 'announcement'"
            " AND ((d.status = 'sending' AND w.pid = ?) OR (d.status = 'pending' AND d.uncertain = 1))", (pid,))
        return [f"{row[0]}:{row[1]}" for row in rows]


async def scalar(url: str, sql: str) -> str:
    async with Database.open(url, migrate=False) as db:
        row = await db.fetch_one(sql)
        return "" if row is None or row[0] is None else str(row[0])


def received(slack: FakeSlack, discord: FakeDiscord, slack_dms: dict[str, str],
             discord_dms: dict[int, int]) -> Counter[str]:
    """Copies of the announcement each recipient got, at the fakes (run on their loop)."""
    copies: Counter[str] = Counter()
    for user, dm in slack_dms.items():
        copies[f"slack:{user}"] += sum(1 for m in slack.messages(dm) if MARKER in json.dumps(m))
    recipient_of = {dm: user for user, dm in discord_dms.items()}
    for message in discord.messages.values():
        recipient = recipient_of.get(message.channel_id)
        if recipient is not None and not message.deleted and MARKER in json.dumps(message.payload()):
            copies[f"discord:{recipient}"] += 1
    return copies


@dataclass
class Probe:
    sent_at: float
    seconds: float = 0.0
    status: int = 0
    reply_id: str = ""


async def slack_probes(http: ClientSession, slack: FakeSlack, port: int, stop: asyncio.Event,
                       probes: list[Probe]) -> None:
    """``/coalition whoami`` to ``port`` every 0.5 s until ``stop``: each must be acknowledged within 3 s."""
    while not stop.is_set():
        payload = slack.slash_command_payload(command="/coalition", user_id=PROBE, text="whoami")
        body = slash_command_form(payload)
        probe = Probe(time.monotonic(), reply_id=str(payload["response_url"]).rsplit("/", 1)[-1])
        probes.append(probe)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, SECRET, int(time.time()))}
        try:
            async with http.post(f"http://127.0.0.1:{port}{EVENTS_PATH}", data=body, headers=headers,
                                 timeout=ClientTimeout(total=SLACK_ACK_SECONDS)) as response:
                probe.status = response.status
        except TimeoutError:
            probe.status = -1
        probe.seconds = time.monotonic() - probe.sent_at
        await asyncio.sleep(0.5)


async def interaction(discord: FakeDiscord) -> tuple[InteractionHandle, int]:
    """``/whoami`` from bob in #general through the fake gateway, without waiting for a session (as Discord: an
    interaction nobody receives just fails); on the fakes' loop. Returns it and how many live sessions got it."""
    commands = discord.commands.get(discord.guild_id, []) + discord.commands.get(None, [])
    command = next(c for c in commands if c["name"] == "whoami" and c["type"] == 1)
    data = discord.world.command_data(command, [], {})
    payload = discord.world.interaction_payload(type=2, data=data, user_id=BOB.id, channel_id=GENERAL.id,
                                                locale="en-US", message=None)
    handle = InteractionHandle(discord.wait_for, payload=payload, channel_id=GENERAL.id, user_id=BOB.id,
                               source_message_id=None)
    discord.interactions[handle.id] = handle
    return handle, await discord.gateway.dispatch("INTERACTION_CREATE", payload)


async def discord_probes(fakes: FakeThread, discord: FakeDiscord, stop: asyncio.Event,
                         handles: list[tuple[InteractionHandle, int]]) -> None:
    """An interaction every 0.2 s until ``stop``."""
    while not stop.is_set():
        handles.append(await fakes.run(interaction(discord)))
        await asyncio.sleep(0.2)


async def until(check: Callable[[], Coroutine[Any, Any, bool]], what: str, seconds: float,
                bots: list[BotProcess]) -> None:
    """Poll ``check`` until it holds; fail at the deadline, or as soon as one of ``bots`` exits."""
    deadline = time.monotonic() + seconds
    while not await check():
        for bot in bots:
            assert bot.process.poll() is None, f"{bot.stderr_path.name} exited:\n{bot.errors()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting for {what}:\n" + "\n".join(
            f"--- {bot.stderr_path.name}\n{bot.errors()[-2000:]}" for bot in bots)
        await asyncio.sleep(POLL)


def logged_at(bot: BotProcess, line: str) -> float:
    """When ``bot`` logged ``line``: its log's stamp ("2026-01-31 12:00:00,123", local time) as ``time.time()``."""
    entry = next(entry for entry in bot.errors().splitlines() if line in entry)
    return time.mktime(time.strptime(entry[:19], "%Y-%m-%d %H:%M:%S")) + int(entry[20:23]) / 1000


def logged(bot: BotProcess, line: str) -> Callable[[], Coroutine[Any, Any, bool]]:
    async def check() -> bool:
        return line in bot.errors()
    return check


async def test_sigkill_of_the_leader_mid_fan_out_on_slack_and_discord(tmp_path: Path,
                                                                      record_property: Record) -> None:
    fakes = FakeThread()
    try:
        await failover(fakes, tmp_path, record_property)
    finally:
        fakes.stop()


async def failover(fakes: FakeThread, tmp_path: Path, record_property: Record) -> None:
    async def start() -> tuple[FakeSlack, FakeDiscord]:
        slack = await FakeSlack().__aenter__()
        discord = await FakeDiscord(users=DISCORD_USERS).__aenter__()
        for user in [*SLACK_USERS, AUTHOR, PROBE]:
            slack.add_user(user, name=user.lower())
        return slack, discord

    slack, discord = await fakes.run(start())
    try:
        slack_dms = await fakes.call(lambda: {user: slack.dm_channel(user) for user in SLACK_USERS})
        discord_dms = await fakes.call(lambda: {u.id: discord.world.dm_channel_id(u.id) for u in DISCORD_USERS})
        url = await asyncio.to_thread(fresh_database_url)
        await prepare(url, slack_dms, discord_dms)
        (tmp_path / "empty.toml").write_text("")
        ports = [free_port(), free_port()]
        args = ("--config", str(tmp_path / "empty.toml"), "--log-level", "INFO", "run")
        with BotProcess(tmp_path, bot_settings(url, ports[0], slack, discord), *args, name="first") as first:
            await until(logged(first, LEADS), "the first process to lead", 60, [first])
            await until(logged(first, HOLDS), "the first process to hold the gateway", 60, [first])
            with BotProcess(tmp_path, bot_settings(url, ports[1], slack, discord), *args, name="second") as second:
                await run_failover(fakes, slack, discord, slack_dms, discord_dms, url, ports, first, second,
                                   record_property)
    finally:
        await fakes.run(discord.__aexit__(None, None, None))
        await fakes.run(slack.__aexit__(None, None, None))


async def run_failover(fakes: FakeThread, slack: FakeSlack, discord: FakeDiscord, slack_dms: dict[str, str],
                       discord_dms: dict[int, int], url: str, ports: list[int], first: BotProcess,
                       second: BotProcess, record_property: Record) -> None:
    bots = [first, second]
    await until(logged(second, REST_ONLY), "the second process to leave the gateway to the first", 60, bots)
    # The probe works: the gateway holder answers an interaction.
    handle, live = await fakes.run(interaction(discord))
    assert live == 1
    await until(lambda: fakes.call(lambda: handle.callback_body is not None), "an answer from the first", 10, bots)

    stop = asyncio.Event()
    slack_checks: list[Probe] = []
    async with ClientSession() as http:
        for text in (f"announce new failover {MARKER}", "announce confirm 1"):
            body = slash_command_form(slack.slash_command_payload(command="/coalition", user_id=AUTHOR, text=text))
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, SECRET, int(time.time()))}
            async with http.post(f"http://127.0.0.1:{ports[0]}{EVENTS_PATH}", data=body, headers=headers) as reply:
                assert reply.status == 200, await reply.text()
        tasks = [asyncio.create_task(slack_probes(http, slack, ports[1], stop, slack_checks))]

        async def delivered() -> int:
            return sum((await fakes.call(lambda: received(slack, discord, slack_dms, discord_dms))).values())

        async def enough() -> bool:
            return await delivered() >= KILL_AFTER

        async def nearly() -> bool:
            return await delivered() >= KILL_AFTER - 30
        try:
            # Posts the fakes store and answer 502 to, just before the kill (see the module docstring).
            await until(nearly, f"{KILL_AFTER - 30} deliveries", 60, bots)
            faults = (Fault("chat.postMessage", ERROR_AFTER_STORE, times=FAULTED),
                      Fault(f"POST {DISCORD_MESSAGES}", ERROR_AFTER_STORE, times=FAULTED))
            await fakes.call(lambda: (slack.faults.add(faults[0]), discord.faults.add(faults[1])))
            await until(enough, f"{KILL_AFTER} deliveries", 60, bots)
            first.kill()
            killed_at, killed_wall = time.monotonic(), time.time()
            handles: list[tuple[InteractionHandle, int]] = []
            tasks.append(asyncio.create_task(discord_probes(fakes, discord, stop, handles)))
            at_kill = await delivered()
            assert at_kill < TOTAL, "the fan-out finished before the kill"
            # The dead process's claimed rows stay untouched until its lease lapses (5 s): read them and the fakes now.
            unsettled = await unsettled_at(url, first.process.pid)
            copies_at_kill = await fakes.call(lambda: received(slack, discord, slack_dms, discord_dms))
            landed = sum(1 for recipient in unsettled if copies_at_kill[recipient] > 0)

            async def answered_again() -> bool:
                return await fakes.call(lambda: any(h.callback_body is not None for h, _ in handles))

            await until(logged(second, LEADS), "the second process to lead", 30, [second])
            await until(logged(second, HOLDS), "the second process to hold the gateway", 30, [second])
            took_lead, took_gateway = (logged_at(second, line) - killed_wall for line in (LEADS, HOLDS))
            await until(answered_again, "a Discord interaction answered after the kill", 30, [second])

            async def settled() -> bool:
                return await scalar(url, "SELECT state FROM announcements WHERE id = 1") == "sent"
            await until(settled, "the announcement to be sent", 120, [second])
            done_at = time.monotonic() - killed_at
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 10)

    async def answers_landed() -> bool:  # each interaction answered, or past the 3 s Discord waits for an answer
        past = time.monotonic() - discord.interaction_ack_deadline
        return await fakes.call(lambda: all(h.callback_body is not None or h.created_at < past for h, _ in handles))

    async def replies_landed() -> bool:
        return await fakes.call(lambda: {p.reply_id for p in slack_checks} <= {rid for rid, _ in slack.responses})
    await until(answers_landed, "the last interactions' answers", 10, [second])
    await until(replies_landed, "every Slack command's reply", 10, [second])
    copies = await fakes.call(lambda: received(slack, discord, slack_dms, discord_dms))
    expected = [f"slack:{u}" for u in SLACK_USERS] + [f"discord:{u.id}" for u in DISCORD_USERS]
    lost = [r for r in expected if copies[r] == 0]
    duplicated = {r: n - 1 for r, n in copies.items() if n > 1}
    answers = await fakes.call(lambda: [(h.created_at, h.callback_body is not None) for h, _ in handles])
    first_answered = next(at for at, answered in answers if answered)
    gap = first_answered - killed_at
    unanswered = sum(1 for _, answered in answers if not answered)
    late = [round(at - killed_at, 2) for at, answered in answers if not answered and at > first_answered]
    slack_slowest = max(p.seconds for p in slack_checks)
    sessions = await fakes.call(lambda: (len(discord.gateway.identifies), len(discord.gateway.ready_sessions)))
    rate_limited = await fakes.call(lambda: (slack.ratelimited(), discord.rate_limited_count))
    nonces = await fakes.call(lambda: Counter(str((r.path, (r.json or {}).get("nonce")))
                                              for r in discord.requests_to("POST", DISCORD_MESSAGES)))
    fired = await fakes.call(lambda: (slack.faults.hits(), discord.faults.hits()))
    read_backs = (await fakes.call(lambda: len(slack.calls_to("conversations.history"))),
                  sum(n - 1 for n in nonces.values() if n > 1))
    statuses = await scalar(url, "SELECT string_agg(DISTINCT status, ',') FROM deliveries WHERE kind = 'announcement'")
    learnt = await scalar(url, "SELECT string_agg(name, ',' ORDER BY name) FROM platform_budgets")
    for name, value in (("discord_gap_seconds", round(gap, 2)), ("lead_taken_seconds", round(took_lead, 2)),
                        ("gateway_taken_seconds", round(took_gateway, 2)),
                        ("fan_out_done_after_kill_seconds", round(done_at, 2)),
                        ("slack_slowest_ack_seconds", round(slack_slowest, 3)), ("lost", len(lost)),
                        ("unsettled_at_kill", len(unsettled)), ("unsettled_already_posted", landed),
                        ("duplicated", sum(duplicated.values()))):
        record_property(name, value)
    print(f"\nfailover on Slack + Discord, {TOTAL:,} recipients: SIGKILLed the leader after {at_kill} deliveries;"
          f" the other led {took_lead:.2f} s later, held the gateway {took_gateway:.2f} s later (its log) and"
          f" finished the fan-out {done_at:.1f} s after the kill\n"
          f"  {len(lost)} lost, {sum(duplicated.values())} duplicated; {len(unsettled)} rows unsettled at the kill,"
          f" {landed} of them already posted (Slack history reads {read_backs[0]},"
          f" Discord posts sent again with their nonce {read_backs[1]});"
          f" 429s: Slack {rate_limited[0]}, Discord {rate_limited[1]}\n"
          f"  Discord gap: {gap:.2f} s from the kill to the first interaction answered ({unanswered} of"
          f" {len(answers)} sent every 0.2 s went unanswered)\n"
          f"  Slack HTTP commands to the second process: {len(slack_checks)} every 0.5 s, slowest ack"
          f" {slack_slowest:.3f} s, each acknowledged and replied to")
    assert lost == [] and duplicated == {}, (lost[:10], duplicated)
    assert fired == (FAULTED, FAULTED), fired
    assert landed >= 1, "no copy was out unrecorded at the kill: the duplicate count proves nothing"
    assert statuses == "sent"
    assert all(p.status == 200 and p.seconds < SLACK_ACK_SECONDS for p in slack_checks), slack_checks
    assert late == [], f"interactions unanswered after the second process took the gateway: {late}"
    assert sessions == (2, 1), sessions
    assert learnt == "Discord,Slack workspace", learnt  # the processes pace at budgets learnt together
