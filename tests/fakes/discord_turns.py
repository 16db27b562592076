"""Gateway turns shared by several "processes" inside one test, without a database: the in-memory stand-in for
``storage.gateway_locks.PostgresGatewayTurns`` (the same contract: ``adapters.discord.turns.GatewayTurns``).

A :class:`TurnTable` is what the database would be; each process gets its own :class:`LocalTurns` over it.
Releasing (``close``, or ``drop`` for a lost connection) hands each shard to the next process waiting for it.
"""

from __future__ import annotations

import asyncio


class TurnTable:
    def __init__(self) -> None:
        self.owners: dict[int, LocalTurns] = {}
        self.changed = asyncio.Condition()


class LocalTurns:
    def __init__(self, table: TurnTable, name: str) -> None:
        self._table = table
        self.name = name

    def __repr__(self) -> str:
        return f"LocalTurns({self.name!r})"

    async def try_turn(self, shard_id: int) -> bool:
        async with self._table.changed:
            if self._table.owners.setdefault(shard_id, self) is self:
                self._table.changed.notify_all()
                return True
            return False

    async def wait_turn(self, shard_id: int) -> None:
        async with self._table.changed:
            await self._table.changed.wait_for(lambda: self._table.owners.get(shard_id) in (None, self))
            self._table.owners[shard_id] = self
            self._table.changed.notify_all()

    async def wait_lost(self, shard_id: int) -> None:
        async with self._table.changed:
            await self._table.changed.wait_for(lambda: self._table.owners.get(shard_id) is not self)

    def held(self) -> frozenset[int]:
        return frozenset(shard for shard, owner in self._table.owners.items() if owner is self)

    async def close(self) -> None:
        """The process ends: its turns go to whoever waits."""
        async with self._table.changed:
            for shard in self.held():
                del self._table.owners[shard]
            self._table.changed.notify_all()
