"""Deliveries already handled, on every platform: the memory that lets one process, of several on the database,
handle each Slack event, command or interaction and each Discord interaction once.

Why in the database: a platform may hand one delivery to more than one process. Slack spreads envelopes over every
open Socket Mode connection and redelivers one that was not acknowledged in time, possibly on another process's
connection; Discord's gateway can hand an interaction to two sessions of one shard while one process takes the
shard over from another, and a resumed session may see one again. Only a memory every process shares can tell
that process the delivery was handled already. The claim is one ``INSERT … ON CONFLICT DO NOTHING`` (the same SQL
on both engines), so two connections claiming the same key at once end with exactly one winner: the other's insert
waits for the winner's commit and then changes nothing.

Keys name what they identify, so platforms never collide: Slack's are ``event:…``, ``trigger:…`` or ``envelope:…``
(as stored since migration 0024, so the rows already there stay valid), Discord's ``discord:interaction:<id>``.
"""

from __future__ import annotations

from datetime import datetime

from storage.database import Database, to_db_time


class HandledEvents:
    """The ``SeenDeliveries`` ports of :mod:`adapters.slack.seen` and :mod:`adapters.discord.once`, on the
    ``handled_events`` table (either engine)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def first_seen(self, key: str, now: datetime) -> bool:
        """Record ``key`` as seen at ``now``; True the first time, False for a key recorded already (by this
        process or any other on the database)."""
        added = await self._db.execute(
            "INSERT INTO handled_events (delivery_key, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (key, to_db_time(now)))
        return added == 1

    async def prune(self, before: datetime) -> int:
        """Forget the keys first seen before ``before``, whichever platform's; how many were forgotten. Every
        caller keeps keys for the same hour, far longer than any platform delivers one again (Slack's last retry
        comes about five minutes after the first delivery; Discord's duplicates come within seconds)."""
        return await self._db.execute("DELETE FROM handled_events WHERE seen_at < ?", (to_db_time(before),))

    async def count(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) AS n FROM handled_events")
        return int(row["n"]) if row is not None else 0
