"""Several processes on one PostgreSQL database: wake-ups cross between them, exactly one leads, and another
takes over within seconds when the leader's connection ends. Each "process" here is a PostgresCluster on
connections of its own, as each bot process has."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import psycopg
import pytest

from bot.clock import SystemClock
from bot.delivery.model import WorkerLease
from bot.delivery.pacing import TokenBucket
from bot.delivery.sharing import BudgetShare
from storage.database import Database, Row
from storage.leases import SqliteLeases
from storage.postgres_cluster import DatabaseLost, PostgresCluster
from storage.postgres_database import PostgresDatabase
from tests.postgres_server import fresh_database_url

pytestmark = pytest.mark.postgresql_only

LEAD_RETRY = 0.2


@asynccontextmanager
async def member(url: str) -> AsyncIterator[tuple[PostgresCluster, asyncio.Event, Database]]:
    """One process: its database connection, its cluster connection running, and an event its wake-ups set."""
    async with Database.open(url) as db:
        assert isinstance(db, PostgresDatabase)
        cluster = PostgresCluster(url, db, lead_retry_seconds=LEAD_RETRY)
        woken = asyncio.Event()
        cluster.on_wakeup = woken.set
        task = asyncio.create_task(cluster.run())
        try:
            yield cluster, woken, db
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll: the cluster's state changes on its own connection, with no event to wait on."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_a_wake_up_reaches_the_other_process_once_the_row_is_committed() -> None:
    url = fresh_database_url()
    async with member(url) as (one, one_woken, db), member(url) as (two, two_woken, _):
        await until(lambda: one.listening and two.listening)
        async with db.transaction():
            await db.execute("INSERT INTO topics (slug, title, visibility, policy, created_at)"
                             " VALUES ('t', 'T', 'public', 'open', 'now')")
            one.ring()
            await asyncio.sleep(0.3)
            assert not two_woken.is_set()  # the row is not committed yet: nobody is told
        await asyncio.wait_for(two_woken.wait(), 5)
        assert not one_woken.is_set()  # a process does not wake itself through the database


async def test_one_leader_and_another_takes_over_within_seconds_when_it_dies() -> None:
    url = fresh_database_url()
    async with contextlib.AsyncExitStack() as first_process:
        first, _, _ = await first_process.enter_async_context(member(url))
        await until(lambda: first.leader)
        async with member(url) as (second, _, _):
            await asyncio.sleep(3 * LEAD_RETRY)
            assert first.leader and not second.leader
            await first_process.aclose()  # its connections end, as when the process is killed
            await until(lambda: second.leader, seconds=5)


async def test_workers_share_the_budget_by_the_live_leases() -> None:
    url = fresh_database_url()
    clock = SystemClock()
    async with Database.open(url) as db:
        leases = SqliteLeases(db)
        bucket = TokenBucket(50.0, 50.0)
        share = BudgetShare(leases, clock, lambda: [bucket])
        now = clock.now()

        await leases.acquire(WorkerLease("a", 1, "h", now, now + timedelta(seconds=60)))
        assert await share.refresh() == 1 and bucket.pace == 50.0
        await leases.acquire(WorkerLease("b", 2, "h", now, now + timedelta(seconds=60)))
        assert await share.refresh() == 2 and bucket.pace == 25.0 and bucket.cap == 25.0
        await leases.acquire(WorkerLease("c", 3, "h", now - timedelta(seconds=120), now - timedelta(seconds=60)))
        assert await share.refresh() == 2  # a lapsed lease is a dead process: it no longer takes a share


async def test_a_process_whose_database_connection_is_gone_stops_instead_of_leading_on() -> None:
    """After a server restart the repositories' connection is dead for good: the process must end (for its
    supervisor to restart it), not keep the lead it can no longer serve."""
    url = fresh_database_url()
    async with Database.open(url) as db, Database.open(url) as other:
        assert isinstance(db, PostgresDatabase)
        cluster = PostgresCluster(url, db, lead_retry_seconds=LEAD_RETRY)
        running = asyncio.create_task(cluster.run())
        try:
            await until(lambda: cluster.leader)
            pid = await db.fetch_one("SELECT pg_backend_pid()")
            assert pid is not None
            await other.fetch_all("SELECT pg_terminate_backend(?)", (int(pid[0]),))
            with pytest.raises(psycopg.OperationalError):
                await db.fetch_all("SELECT 1")  # the next statement finds the connection gone
            with pytest.raises(DatabaseLost):
                await asyncio.wait_for(running, 5)
            assert not cluster.leader
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError, DatabaseLost):
                await running


async def test_a_meeting_notice_reaches_the_others_once_committed_and_not_its_sender() -> None:
    url = fresh_database_url()
    async with member(url) as (one, one_woken, db), member(url) as (two, two_woken, _):
        one_heard: list[int] = []
        two_heard: list[int] = []
        one.on_meeting, two.on_meeting = one_heard.append, two_heard.append
        await until(lambda: one.listening and two.listening)
        async with db.transaction():
            await db.execute("INSERT INTO topics (slug, title, visibility, policy, created_at)"
                             " VALUES ('t', 'T', 'public', 'open', 'now')")
            one.ring_meeting(7)
            await asyncio.sleep(0.3)
            assert two_heard == []  # the change is not committed yet: nobody is told
        await until(lambda: two_heard == [7])
        await asyncio.sleep(0.2)
        assert one_heard == [] and two_heard == [7]  # not its sender, and once
        assert not one_woken.is_set() and not two_woken.is_set()  # a meeting notice is no delivery wake-up


async def test_many_meeting_notices_at_once_all_arrive() -> None:
    url = fresh_database_url()
    async with member(url) as (one, _, db), member(url) as (two, _, _):
        heard: list[int] = []
        two.on_meeting = heard.append
        await until(lambda: one.listening and two.listening)
        for meeting_id in range(1, 301):
            one.ring_meeting(meeting_id)
        async with db.transaction():  # more while the first are on their way, some inside a write
            await db.execute("INSERT INTO topics (slug, title, visibility, policy, created_at)"
                             " VALUES ('t', 'T', 'public', 'open', 'now')")
            for meeting_id in range(250, 501):
                one.ring_meeting(meeting_id)
        one.ring()
        await until(lambda: set(heard) == set(range(1, 501)))


async def test_notices_a_failed_send_did_not_send_go_with_the_next_ring(monkeypatch: pytest.MonkeyPatch) -> None:
    url = fresh_database_url()
    async with member(url) as (one, _, db), member(url) as (two, _, _):
        heard: list[int] = []
        two.on_meeting = heard.append
        await until(lambda: one.listening and two.listening)
        sent = db.fetch_all
        calls = 0

        async def fails_the_second(sql: str, params: Sequence[object] = ()) -> list[Row]:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise psycopg.OperationalError("the server went away for a moment")
            return await sent(sql, params)

        monkeypatch.setattr(db, "fetch_all", fails_the_second)
        for meeting_id in (1, 2, 3):
            one.ring_meeting(meeting_id)
        await until(lambda: calls == 2)
        await asyncio.sleep(0.3)
        assert heard == [1]  # the first went out; the send stopped at the second
        one.ring_meeting(4)
        await until(lambda: sorted(heard) == [1, 2, 3, 4])


async def test_an_unreadable_notice_is_logged_and_ignored_and_a_failing_listener_keeps_the_connection(
        caplog: pytest.LogCaptureFixture) -> None:
    url = fresh_database_url()
    async with member(url) as (one, woken, _), Database.open(url) as other:
        heard: list[int] = []

        def listener(meeting_id: int) -> None:
            heard.append(meeting_id)
            if meeting_id == 1:
                raise RuntimeError("a listener that fails")

        one.on_meeting = listener
        await until(lambda: one.listening and one.leader)
        for payload in ("x meeting abc", "x meeting", "x meeting -3", "x other 5", "x meeting 1", "x meeting 2"):
            await other.fetch_all("SELECT pg_notify(?, ?)", ("coalition_bot_wakeup", payload))
        await until(lambda: heard == [1, 2])
        assert not woken.is_set() and one.leader and one.listening
        ignored = [r.getMessage() for r in caplog.records if "ignored a notice" in r.getMessage()]
        assert len(ignored) == 4 and "'x other 5'" in ignored[-1]
        assert any("a listener failed" in r.getMessage() for r in caplog.records)
