"""What the parts of ``bench/processes.py`` share: the bot processes (``python -m bot run``, each a separate OS
process with its settings in the environment), the CPU they, the PostgreSQL server and the machine used over a
fan-out (Linux ``/proc``), and the database: set-up written straight into the schema, and the polls that tell when a
fan-out has ended.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from app.assembly import build_app
from app.settings import CoalitionSettings, ConsoleSettings, Settings, StorageSettings, WebSettings
from bot.topics.model import Policy, Visibility
from storage.database import Database, to_db_time
from tests import postgres_server
from tests.support import add_people

ROOT = Path(__file__).resolve().parent.parent
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
    """This process: the fake platform's thread, and polling the database."""
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
                         + "\n--- its output:\n" + (self.folder / f"bot{index}.out").read_text(errors="replace")[-500:]
                         for index in range(len(self.processes)))

    def logged(self, line: str) -> int:
        """How many of the processes have logged ``line`` so far."""
        return sum(line in (self.folder / f"bot{index}.err").read_text(errors="replace")
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
            raise TimeoutError(f"timed out after {limit:g} s waiting for {what}:\n{bots.logs()}")
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
        ids = await add_people(db, [(platform, ext, dm_channel(ext) if dm_channel else None) for ext in recipients],
                               stamp)
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


async def announcements(target: Path | str) -> int:
    return await scalar(target, "SELECT COUNT(*) FROM announcements")


async def live_leases(target: Path | str) -> int:
    return await scalar(target, "SELECT COUNT(*) FROM worker_leases WHERE expires_at > ?",
                        (to_db_time(datetime.now(UTC)),))


async def ready(bots: Bots, logged: dict[str, int] | None = None) -> None:
    """Every process counted by the others (its lease live), each line of ``logged`` logged by that many processes
    (the Discord gateway held by one, left to it by the others), and past the wait before sending."""
    target = bots.target
    await wait_until(lambda: _leases_are(target, bots.count), f"{bots.count} live worker leases", bots, 90)
    for line, count in (logged or {}).items():
        await wait_until(_logged_by(bots, line, count), f"{count} processes to log {line!r}", bots, 90)
    await asyncio.sleep(JOIN_SECONDS)
    bots.check()


def _logged_by(bots: Bots, line: str, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bots.logged(line) >= count
    return check


async def _leases_are(target: Path | str, count: int) -> bool:
    return await live_leases(target) >= count


@contextmanager
def cpu(bots: Bots) -> Iterator[CpuWindow]:
    """The measured window: the CPU used over it, with this process's objects so far frozen out of the garbage
    collector. Why: the fake platform serves from a thread of this process, and a full collection over everything
    the bench has loaded (the app, the SDKs, the fake's users) stalls it for ~80 ms at a fixed point of the run; the
    requests that arrive meanwhile are then stamped together, and the fake counts a burst that never left the bots
    (a global 429 from one process paced at 0.97 of the limit). A remote platform has no such pause."""
    gc.collect()
    gc.freeze()
    window = CpuWindow([p.pid for p in bots.processes])
    window.start()
    try:
        yield window
    finally:
        window.stop()
        gc.unfreeze()
