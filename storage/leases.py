"""Delivery workers' leases (``worker_leases``): which worker holds the rows it has in ``sending``, and until
when. Recovery (``SqliteOutbox.recover_orphans``) reads this table, so it never re-queues a live worker's rows.
"""

from __future__ import annotations

from datetime import datetime

from bot.delivery.model import WorkerLease
from storage.database import Database, from_db_time, to_db_time


class SqliteLeases:
    """The :class:`bot.delivery.stores.LeaseStore` on the ``worker_leases`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def acquire(self, lease: WorkerLease) -> None:
        await self._db.execute(
            "INSERT INTO worker_leases (holder, pid, host, started_at, expires_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (holder) DO UPDATE SET pid = excluded.pid, host = excluded.host,"
            " expires_at = excluded.expires_at",
            (lease.holder, lease.pid, lease.host, to_db_time(lease.started_at), to_db_time(lease.expires_at)))

    async def renew(self, holder: str, expires_at: datetime) -> bool:
        return await self._db.execute("UPDATE worker_leases SET expires_at = ? WHERE holder = ?",
                                      (to_db_time(expires_at), holder)) == 1

    async def release(self, holder: str) -> None:
        await self._db.execute("DELETE FROM worker_leases WHERE holder = ?", (holder,))

    async def drop_others(self, holder: str) -> int:
        return await self._db.execute("DELETE FROM worker_leases WHERE holder != ?", (holder,))

    async def live(self, now: datetime) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) FROM worker_leases WHERE expires_at > ?", (to_db_time(now),))
        return int(row[0]) if row else 0

    async def all(self) -> list[WorkerLease]:
        rows = await self._db.fetch_all("SELECT * FROM worker_leases ORDER BY started_at, holder")
        return [WorkerLease(holder=row["holder"], pid=int(row["pid"]), host=row["host"],
                            started_at=from_db_time(row["started_at"]), expires_at=from_db_time(row["expires_at"]))
                for row in rows]
