"""How this process works beside the others on its database: alone on SQLite, as one of several on PostgreSQL.

The composition root asks :func:`cluster_for` once. Alone, the process leads (runs the scheduled work), and a
wake-up stays inside it. On PostgreSQL, :class:`storage.postgres_cluster.PostgresCluster` carries wake-ups and
meeting changes (see :mod:`app.meeting_timers`) to the other processes and elects the one that runs the scheduled
work; the platforms' budgets are shared (:class:`bot.delivery.sharing.BudgetShare`). Also here: the delivery
worker's settings and lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from app.settings import DeliverySettings, StorageSettings
from bot.delivery.worker import DeliveryConfig, LeaseConfig
from storage.database import Database

if TYPE_CHECKING:
    from adapters.discord.turns import GatewayTurns

log = logging.getLogger(__name__)


class Alone:
    """One process on its database (SQLite): it leads, and its wake-ups stay inside it."""

    shared = False
    leader = True

    def ring(self) -> None:
        """Nobody else to wake."""

    def listen(self, on_wakeup: Callable[[], None]) -> None:
        """Nobody else rings."""

    def ring_meeting(self, meeting_id: int) -> None:
        """Nobody else keeps meeting timers."""

    def listen_meetings(self, on_meeting: Callable[[int], None]) -> None:
        """Nobody else changes meetings."""

    def listen_leadership(self, on_leadership: Callable[[bool], None]) -> None:
        """Alone, this process leads from start to end: the lead never changes hands."""

    async def run(self) -> None:
        await asyncio.Event().wait()


class Cluster:
    """The process's place among the others on one PostgreSQL database (see the module docstring)."""

    shared = True

    def __init__(self, storage: StorageSettings, db: Database) -> None:
        from storage.postgres_cluster import PostgresCluster
        from storage.postgres_database import PostgresDatabase

        assert isinstance(db, PostgresDatabase)
        self._peers = PostgresCluster(str(storage.target), db)

    @property
    def leader(self) -> bool:
        return self._peers.leader

    def ring(self) -> None:
        self._peers.ring()

    def listen(self, on_wakeup: Callable[[], None]) -> None:
        self._peers.on_wakeup = on_wakeup

    def ring_meeting(self, meeting_id: int) -> None:
        """Tell the others that meeting ``meeting_id`` changed, once this process's write has committed."""
        self._peers.ring_meeting(meeting_id)

    def listen_meetings(self, on_meeting: Callable[[int], None]) -> None:
        """``on_meeting(id)`` when another process changed a meeting (called on the listening connection's task:
        it must not block)."""
        self._peers.on_meeting = on_meeting

    def listen_leadership(self, on_leadership: Callable[[bool], None]) -> None:
        """``on_leadership(leads)`` when this process takes or loses the lead of the scheduled work."""
        self._peers.on_leadership = on_leadership

    async def run(self) -> None:
        await self._peers.run()


def cluster_for(storage: StorageSettings, db: Database) -> Alone | Cluster:
    return Cluster(storage, db) if storage.is_postgres else Alone()


@contextlib.asynccontextmanager
async def gateway_turns(cluster: Alone | Cluster, storage: StorageSettings) -> AsyncIterator[GatewayTurns | None]:
    """Whose turn it is to hold each Discord shard's gateway: on PostgreSQL a session advisory lock per shard on a
    connection of its own; alone, ``None`` (the adapter's own: always this process's turn)."""
    if not cluster.shared:
        yield None
        return
    from storage.gateway_locks import PostgresGatewayTurns

    async with PostgresGatewayTurns(str(storage.target)) as turns:
        yield turns


def led(cluster: Alone | Cluster, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """``job``, run only where this process leads (scheduled work runs once, not once per process)."""

    async def run() -> None:
        if cluster.leader:
            await job()
    return run


def delivery_config(delivery: DeliverySettings) -> DeliveryConfig:
    """The worker's tuning from ``[delivery]``; the previous version's ``max_attempts`` loads and is ignored."""
    if delivery.max_attempts is not None:
        log.warning("[delivery] max_attempts is no longer used: deliveries retry for retry_for_hours (%g h); "
                    "remove it from the settings", delivery.retry_for_hours)
    if delivery.discord_per_second is not None:
        log.warning("[delivery] discord_per_second is no longer used: Discord is paced at 0.97 of "
                    "discord_global_limit (%g/s) and slows down on a global 429; remove it from the settings",
                    delivery.discord_global_limit)
    if delivery.slack_per_second is not None:
        log.warning("[delivery] slack_per_second is no longer used: Slack is paced per channel under a workspace "
                    "budget that starts at slack_workspace_per_second (%g/s) and learns from 429s; remove it "
                    "from the settings", delivery.slack_workspace_per_second)
    return DeliveryConfig(poll_seconds=delivery.poll_seconds, concurrency=delivery.concurrency,
                          backoff_base_seconds=delivery.backoff_base_seconds,
                          backoff_max_seconds=delivery.backoff_max_seconds,
                          retry_for=timedelta(hours=delivery.retry_for_hours),
                          circuit_threshold=delivery.circuit_failures,
                          circuit_cooldown_seconds=delivery.circuit_cooldown_seconds,
                          circuit_cooldown_max_seconds=delivery.circuit_cooldown_max_seconds)


def worker_lease(seconds: float, *, sole_instance: bool) -> LeaseConfig:
    """This run's lease: an id unique to the run (a restarted container often gets the same pid again). On SQLite
    the process holds :func:`app.instance.single_instance`'s lock, so every other lease is a dead process's
    (``sole_instance``); on PostgreSQL other processes' leases are theirs until they lapse."""
    host, pid = socket.gethostname(), os.getpid()
    return LeaseConfig(holder=f"{host}:{pid}:{secrets.token_hex(4)}", pid=pid, host=host, seconds=seconds,
                       sole_instance=sole_instance)
