"""Whose turn it is to hold each Discord shard's gateway, when several processes share one PostgreSQL database.

Implements ``adapters.discord.turns.GatewayTurns`` (structurally: storage does not import the adapters).

A shard's turn is the session advisory lock ``(GATEWAY_LOCKS, shard_id)``, held on a connection of its own
(autocommit, apart from the repositories' and the cluster's). Why a session lock: it lives exactly as long as the
connection, so a process that dies — SIGKILL included, its socket closed by the kernel — frees its shards at once,
and another process takes each within :data:`RETRY_SECONDS`. Why its own connection: a lost connection loses the
locks, and the adapter must hear of it to close its gateway; the cluster's connection reconnects for its own
reasons and would lose the turns silently.

The connection is checked every :data:`RETRY_SECONDS` (a ``SELECT 1`` bounded by the same time). When it fails
every turn is lost (:meth:`wait_lost` returns, the adapter closes its gateway), and the process reconnects. After a
reconnect it waits :data:`RETRY_SECONDS` more before trying to lock again, so that after a server restart (every
session gone at once) a holder still connected elsewhere has time to notice it lost and close its gateway before
this process connects one: two gateways on a shard would each run every interaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType

import psycopg

from storage.postgres_database import open_connection

log = logging.getLogger(__name__)

GATEWAY_LOCKS = 0x636F6133
"""The first key of the two-int advisory locks, one per shard (the second key); apart from the leader's lock."""
RETRY_SECONDS = 1.0

Connect = Callable[[str], Awaitable[psycopg.AsyncConnection[tuple[object, ...]]]]


async def _connect(url: str) -> psycopg.AsyncConnection[tuple[object, ...]]:
    connection: psycopg.AsyncConnection[tuple[object, ...]] = await open_connection(url)
    return connection


class PostgresGatewayTurns:
    """Use as ``async with PostgresGatewayTurns(url) as turns``; leaving releases every turn (closes the
    connection), so leave it after the Discord adapter closed its gateways."""

    def __init__(self, url: str, *, retry_seconds: float = RETRY_SECONDS, connect: Connect = _connect) -> None:
        self._url = url
        self._retry = retry_seconds
        self._connect = connect
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._io = asyncio.Lock()  # one statement at a time on the connection
        self._wanted: set[int] = set()
        self._held: set[int] = set()
        self._busy: set[int] = set()  # shards found held by another process
        self._gained: dict[int, asyncio.Event] = {}
        self._lost: dict[int, asyncio.Event] = {}
        self._poke = asyncio.Event()
        self._reconnected = False
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0
        """Connections made so far (the first is not a reconnect)."""

    async def __aenter__(self) -> PostgresGatewayTurns:
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="gateway-turns")
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Release every turn: the connection ends, and the server frees its locks."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect()

    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    async def try_turn(self, shard_id: int) -> bool:
        self._wanted.add(shard_id)
        if shard_id not in self._held and not self._reconnected:
            try:
                await self._try(shard_id)
            except (psycopg.Error, OSError, TimeoutError):
                log.warning("gateway turns: the database is unreachable; retrying", exc_info=True)
                await self._disconnect()
        return shard_id in self._held

    async def wait_turn(self, shard_id: int) -> None:
        self._wanted.add(shard_id)
        self._poke.set()
        while shard_id not in self._held:
            await self._gained.setdefault(shard_id, asyncio.Event()).wait()

    async def wait_lost(self, shard_id: int) -> None:
        while shard_id in self._held:
            await self._lost.setdefault(shard_id, asyncio.Event()).wait()

    async def _watch(self) -> None:
        """Every :data:`RETRY_SECONDS`: check the connection, try the shards wanted and not held."""
        while True:
            try:
                if self._conn is not None:
                    async with self._io, asyncio.timeout(self._retry):
                        await self._conn.execute("SELECT 1")
                if self._reconnected:
                    self._reconnected = False  # waited one round since reconnecting
                else:
                    for shard_id in sorted(self._wanted - self._held):
                        await self._try(shard_id)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError, TimeoutError):
                log.warning("gateway turns: the connection to the database failed; its turns are lost",
                            exc_info=True)
                await self._disconnect()
            self._poke.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._retry):
                    await self._poke.wait()

    async def _try(self, shard_id: int) -> None:
        """One attempt at ``shard_id``'s lock, connecting first if need be (a reconnect then waits a round)."""
        async with self._io, asyncio.timeout(self._retry * 5):
            if self._reconnected:
                return
            if self._conn is None or self._conn.closed:
                self._conn = await self._connect(self._url)
                self.reconnects += 1
                if self.reconnects > 1:
                    self._reconnected = True
                    return
            cursor = await self._conn.execute("SELECT pg_try_advisory_lock(%s::int4, %s::int4)",
                                              (GATEWAY_LOCKS, shard_id))
            row = await cursor.fetchone()
        if row is None or row[0] is not True:
            self._busy.add(shard_id)
            return
        if shard_id in self._busy:
            # Taken over from another process. Its lock may have gone with a connection that ended on the server
            # side only, while its gateway is still up: it finds out at its next check, within two rounds. Until
            # then both would receive every event of the shard, and answer every interaction twice.
            await asyncio.sleep(2 * self._retry)
            self._busy.discard(shard_id)
        self._held.add(shard_id)
        log.info("gateway turns: this process holds shard %s's turn", shard_id)
        self._gained.pop(shard_id, asyncio.Event()).set()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        lost, self._held = self._held, set()
        for shard_id in lost:
            self._lost.pop(shard_id, asyncio.Event()).set()
        if conn is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._retry):
                    await conn.close()
