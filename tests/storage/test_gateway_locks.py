"""Gateway turns on PostgreSQL (issue 22): one process per shard holds the turn, a session advisory lock on a
connection of its own; the turn moves on when the holder closes or its connection drops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import psycopg
import pytest

from storage.gateway_locks import GATEWAY_LOCKS, PostgresGatewayTurns
from tests.postgres_server import fresh_database_url

pytestmark = pytest.mark.postgresql_only

RETRY = 0.1
TIMEOUT = 5.0


@pytest.fixture
def url() -> str:
    return fresh_database_url(migrated=False)


@pytest.fixture
async def admin(url: str) -> AsyncIterator[psycopg.AsyncConnection[tuple[object, ...]]]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        yield conn


async def holders(admin: psycopg.AsyncConnection[tuple[object, ...]], shard_id: int) -> int:
    cursor = await admin.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::oid "
                                 "AND objid = %s::oid AND granted", (GATEWAY_LOCKS, shard_id))
    row = await cursor.fetchone()
    assert row is not None
    return int(str(row[0]))


async def test_one_process_holds_a_shard_and_the_next_takes_it_when_it_closes(
        url: str, admin: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
    async with PostgresGatewayTurns(url, retry_seconds=RETRY) as first, \
            PostgresGatewayTurns(url, retry_seconds=RETRY) as second:
        assert await first.try_turn(0)
        assert not await second.try_turn(0)
        assert await second.try_turn(1)  # shards are independent
        assert first.held() == {0} and second.held() == {1}
        assert await holders(admin, 0) == 1
        waiting = asyncio.create_task(second.wait_turn(0))
        lost = asyncio.create_task(first.wait_lost(0))
        closed_at = time.monotonic()
        await first.close()
        async with asyncio.timeout(TIMEOUT):
            await waiting
            await lost
        handed_over = time.monotonic() - closed_at
        print(f"\nturn handed over in {handed_over:.3f} s (retry every {RETRY} s)")
        # Taken over, it waits two rounds first: the last holder's connection may have ended on the server only,
        # and it needs that long to notice and close its gateway.
        assert handed_over >= 2 * RETRY
        assert second.held() == {0, 1} and first.held() == frozenset()
        assert await holders(admin, 0) == 1


async def test_a_dropped_connection_loses_the_turn_and_reconnects(
        url: str, admin: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
    async with PostgresGatewayTurns(url, retry_seconds=RETRY) as first, \
            PostgresGatewayTurns(url, retry_seconds=RETRY) as second:
        assert await first.try_turn(0)
        lost = asyncio.create_task(first.wait_lost(0))
        taken = asyncio.create_task(second.wait_turn(0))
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND classid = %s::oid AND objid = 0", (GATEWAY_LOCKS,))
        async with asyncio.timeout(TIMEOUT):
            await lost
            await taken
        assert first.held() == frozenset() and second.held() == {0}
        # The first reconnects by itself and takes the turn again once the second lets go.
        again = asyncio.create_task(first.wait_turn(0))
        await second.close()
        async with asyncio.timeout(TIMEOUT):
            await again
        assert first.held() == {0} and first.reconnects == 2


async def test_an_unreachable_database_is_no_turn() -> None:
    async with PostgresGatewayTurns("postgresql:///nowhere?host=/nonexistent", retry_seconds=RETRY) as turns:
        assert not await turns.try_turn(0)
        assert turns.held() == frozenset()
        lost = asyncio.create_task(turns.wait_lost(0))
        async with asyncio.timeout(TIMEOUT):
            await lost  # not held: returns at once
