"""A circuit per platform (``platform_circuits``): the delivery worker's memory that a platform is down or asked
to slow down, kept in the database so a restart — and later a second worker on a shared database — sees it.

The decisions (how many failures open it, how long it stays open) are the core's (``bot/delivery/circuit.py``);
these are the small atomic writes it needs, each one statement or one transaction.
"""

from __future__ import annotations

from datetime import datetime

from bot.delivery.outcomes import PlatformCircuit
from storage.database import Database, Row, opt_time, to_db_time


def _circuit(row: Row) -> PlatformCircuit:
    return PlatformCircuit(platform=row["platform"], failures=int(row["failures"]),
                           opened_at=opt_time(row["opened_at"]), retry_at=opt_time(row["retry_at"]),
                           reason=row["reason"])


class SqliteCircuits:
    """The :class:`bot.delivery.stores.CircuitStore` on the ``platform_circuits`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[PlatformCircuit]:
        rows = await self._db.fetch_all("SELECT * FROM platform_circuits ORDER BY platform")
        return [_circuit(row) for row in rows]

    async def get(self, platform: str) -> PlatformCircuit | None:
        row = await self._db.fetch_one("SELECT * FROM platform_circuits WHERE platform = ?", (platform,))
        return _circuit(row) if row else None

    async def count_failure(self, platform: str, reason: str, now: datetime) -> PlatformCircuit:
        rows = await self._db.write_returning(
            "INSERT INTO platform_circuits (platform, failures, reason, updated_at) VALUES (?, 1, ?, ?)"
            " ON CONFLICT (platform) DO UPDATE SET"
            " failures = CASE WHEN platform_circuits.opened_at IS NULL THEN platform_circuits.failures + 1"
            " ELSE platform_circuits.failures END,"
            " reason = excluded.reason, updated_at = excluded.updated_at RETURNING *",
            (platform, reason, to_db_time(now)))
        return _circuit(rows[0])

    async def open(self, platform: str, failures: int, retry_at: datetime, now: datetime) -> PlatformCircuit | None:
        rows = await self._db.write_returning(
            "UPDATE platform_circuits SET opened_at = ?, failures = ?, retry_at = ?, updated_at = ?"
            " WHERE platform = ? AND opened_at IS NULL RETURNING *",
            (to_db_time(now), failures, to_db_time(retry_at), to_db_time(now), platform))
        return _circuit(rows[0]) if rows else None

    async def reopen(self, platform: str, failures: int, retry_at: datetime, reason: str,
                     now: datetime) -> PlatformCircuit | None:
        rows = await self._db.write_returning(
            "UPDATE platform_circuits SET failures = ?, retry_at = ?, reason = ?, updated_at = ?"
            " WHERE platform = ? AND opened_at IS NOT NULL RETURNING *",
            (failures, to_db_time(retry_at), reason, to_db_time(now), platform))
        return _circuit(rows[0]) if rows else None

    async def claim_probe(self, platform: str, now: datetime, hold_until: datetime) -> bool:
        return await self._db.execute(
            "UPDATE platform_circuits SET retry_at = ?, updated_at = ? WHERE platform = ?"
            " AND opened_at IS NOT NULL AND (retry_at IS NULL OR retry_at <= ?)",
            (to_db_time(hold_until), to_db_time(now), platform, to_db_time(now))) == 1

    async def pause(self, platform: str, until: datetime, reason: str, now: datetime) -> PlatformCircuit:
        rows = await self._db.write_returning(
            "INSERT INTO platform_circuits (platform, failures, retry_at, reason, updated_at) VALUES (?, 0, ?, ?, ?)"
            " ON CONFLICT (platform) DO UPDATE SET retry_at = CASE WHEN platform_circuits.retry_at > excluded.retry_at"
            " THEN platform_circuits.retry_at ELSE excluded.retry_at END,"
            " reason = excluded.reason, updated_at = excluded.updated_at RETURNING *",
            (platform, to_db_time(until), reason, to_db_time(now)))
        return _circuit(rows[0])

    async def close(self, platform: str, now: datetime) -> tuple[PlatformCircuit | None, bool]:
        """Forget the failures; a rate-limit pause still running stays. Returns the circuit now and whether it
        had been open."""
        async with self._db.transaction():
            before = await self.get(platform)
            if before is None:
                return None, False
            stamp = to_db_time(now)
            rows = await self._db.write_returning(
                "UPDATE platform_circuits SET failures = 0, opened_at = NULL, updated_at = ?,"
                " retry_at = CASE WHEN opened_at IS NULL AND retry_at > ? THEN retry_at END,"
                " reason = CASE WHEN opened_at IS NULL AND retry_at > ? THEN reason END"
                " WHERE platform = ? RETURNING *",
                (stamp, stamp, stamp, platform))
        return _circuit(rows[0]), before.opened_at is not None
