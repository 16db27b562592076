"""The database side of operations: does it answer, and how deep is the outbox queue (see
:class:`bot.metrics.HealthStore`)."""

from __future__ import annotations

from storage.database import Database


class SqliteHealth:
    """The :class:`bot.metrics.HealthStore` on the ``deliveries`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ping(self) -> None:
        await self._db.fetch_one("SELECT 1")

    async def open_deliveries(self) -> dict[str, int]:
        # A range of the covering index deliveries_due (status, not_before): the table itself is not read.
        rows = await self._db.fetch_all(
            "SELECT status, COUNT(*) AS n FROM deliveries WHERE status IN ('pending', 'sending') GROUP BY status")
        return {str(row["status"]): int(row["n"]) for row in rows}
