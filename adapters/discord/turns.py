"""Whose turn it is to hold a shard's gateway connection: one process per shard, whatever the process count.

Why a port of its own: every process sends over REST (any of them may claim a delivery row), but Discord sends
each gateway event — every interaction — to every session connected on its shard, so two processes connected
on one shard would each run every command once. The adapter connects a shard's gateway only while it holds the
shard's turn (:class:`GatewayTurns`), and disconnects as soon as it loses it. One process alone holds every turn
at once (:class:`SoleTurns`); several on one PostgreSQL database take turns through session advisory locks
(``storage.gateway_locks``), given to :func:`adapters.discord.running` by the composition root.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class GatewayTurns(Protocol):
    async def try_turn(self, shard_id: int) -> bool:
        """One attempt, now: whether this process holds ``shard_id``'s turn afterwards (``False`` when the
        attempt could not be made, e.g. the database is unreachable)."""
        ...

    async def wait_turn(self, shard_id: int) -> None:
        """Return once this process holds ``shard_id``'s turn. It is held until :meth:`wait_lost` returns."""
        ...

    async def wait_lost(self, shard_id: int) -> None:
        """Return once this process no longer holds ``shard_id``'s turn (at once when it does not hold it): its
        gateway must then disconnect, as another process may already be connecting."""
        ...

    def held(self) -> frozenset[int]:
        """The shards whose turn this process holds now."""
        ...


class SoleTurns:
    """One process on its database: every turn is its own at once, and never lost."""

    def __init__(self) -> None:
        self._held: set[int] = set()

    async def try_turn(self, shard_id: int) -> bool:
        self._held.add(shard_id)
        return True

    async def wait_turn(self, shard_id: int) -> None:
        self._held.add(shard_id)

    async def wait_lost(self, shard_id: int) -> None:
        if shard_id in self._held:
            await asyncio.Event().wait()

    def held(self) -> frozenset[int]:
        return frozenset(self._held)
