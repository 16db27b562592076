"""The rates the platforms' learning budgets learnt together (``platform_budgets``), one row per account budget.

Read by every process each second (one SELECT of a handful of rows), written only when a rate changes: inside a
write transaction, so two processes changing it at once do so one after the other, the second deciding on what the
first wrote (the engines' write lock: SQLite's one writer, PostgreSQL's advisory lock).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.delivery.sharing import SharedRate
from storage.database import Database, Row, from_db_time, to_db_time


class PlatformBudgets:
    """The :class:`bot.delivery.sharing.SharedRates` port on the ``platform_budgets`` table (either engine)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> Mapping[str, SharedRate]:
        rows = await self._db.fetch_all("SELECT name, rate, start, slowed_at, changed_at FROM platform_budgets")
        return {rate.name: rate for rate in map(_rate, rows)}

    async def settle(self, name: str,
                     decide: Callable[[SharedRate | None], SharedRate | None]) -> SharedRate | None:
        async with self._db.transaction():
            row = await self._db.fetch_one(
                "SELECT name, rate, start, slowed_at, changed_at FROM platform_budgets WHERE name = ?", (name,))
            stored = None if row is None else _rate(row)
            decided = decide(stored)
            if decided is None:
                return stored
            await self._db.execute(
                "INSERT INTO platform_budgets (name, rate, start, slowed_at, changed_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET rate = excluded.rate, start = excluded.start,"
                " slowed_at = excluded.slowed_at, changed_at = excluded.changed_at",
                (name, decided.rate, decided.start,
                 None if decided.slowed_at is None else to_db_time(decided.slowed_at),
                 to_db_time(decided.changed_at)))
            return decided


def _rate(row: Row) -> SharedRate:
    slowed = row["slowed_at"]
    return SharedRate(str(row["name"]), float(row["rate"]), float(row["start"]),
                      None if slowed is None else from_db_time(str(slowed)), from_db_time(str(row["changed_at"])))
