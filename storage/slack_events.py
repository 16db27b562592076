"""Slack Socket Mode deliveries already handled: the memory that lets one process, of several on the database,
handle each event, command or interaction once.

Why in the database: Slack spreads envelopes over every open Socket Mode connection and redelivers one that was
not acknowledged in time, possibly on another process's connection. Only a memory every process shares can tell
that process the delivery was handled already. The claim is one ``INSERT … ON CONFLICT DO NOTHING`` (the same SQL
on both engines), so two connections claiming the same key at once end with exactly one winner: the other's insert
waits for the winner's commit and then changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from storage.database import Database, to_db_time


class SqliteSlackEvents:
    """The :class:`adapters.slack.seen.SeenDeliveries` port on the ``slack_events`` table (either engine)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def first_seen(self, key: str, now: datetime) -> bool:
        """Record ``key`` as seen at ``now``; True the first time, False for a key recorded already (by this
        process or any other on the database)."""
        added = await self._db.execute(
            "INSERT INTO slack_events (delivery_key, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (key, to_db_time(now)))
        return added == 1

    async def prune(self, before: datetime) -> int:
        """Forget the keys first seen before ``before``; how many were forgotten. Slack stops redelivering long
        before (its last retry comes about five minutes after the first delivery)."""
        return await self._db.execute("DELETE FROM slack_events WHERE seen_at < ?", (to_db_time(before),))

    async def count(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) AS n FROM slack_events")
        return int(row["n"]) if row is not None else 0
