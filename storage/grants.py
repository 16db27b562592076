"""Role grants stored in the database (``grants``): who holds which role, coalition-wide or for one topic."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.model import Grant, Identity, Role
from storage.database import Database, Row, from_db_time, to_db_time


def _grant(row: Row) -> Grant:
    return Grant(person_id=row["person_id"], role=Role.parse(row["role"]), topic_id=row["topic_id"],
                 granted_by=row["granted_by"], created_at=from_db_time(row["created_at"]))


class SqliteGrants:
    """The :class:`bot.people.store.GrantStore` on the ``grants`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def of_person(self, person_id: int) -> list[Grant]:
        rows = await self._db.fetch_all("SELECT * FROM grants WHERE person_id = ? ORDER BY id", (person_id,))
        return [_grant(row) for row in rows]

    async def add(self, person_id: int, role: Role, topic_id: int | None, granted_by: int | None,
                  now: datetime) -> bool:
        changed = await self._db.execute(
            "INSERT INTO grants (person_id, role, topic_id, granted_by, created_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (person_id, role.name.lower(), topic_id, granted_by, to_db_time(now)),
        )
        return changed > 0

    async def remove(self, person_id: int, role: Role, topic_id: int | None) -> bool:
        changed = await self._db.execute(
            "DELETE FROM grants WHERE person_id = ? AND role = ? AND COALESCE(topic_id, 0) = ?",
            (person_id, role.name.lower(), topic_id or 0),
        )
        return changed > 0

    async def coordinators_of(self, topic_id: int) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT DISTINCT person_id FROM grants WHERE role = 'coordinator' AND COALESCE(topic_id, ?) = ?"
            " ORDER BY person_id",
            (topic_id, topic_id),
        )
        return [row["person_id"] for row in rows]

    async def admins(self, identities: Sequence[Identity]) -> list[int]:
        # One statement whatever the number of admins named in settings.
        pairs = ", ".join("(?, ?)" for _ in identities)
        named = (f" UNION SELECT i.person_id FROM identities i JOIN (VALUES {pairs}) AS n"
                 " ON i.platform = n.column1 AND i.external_id = n.column2") if identities else ""
        rows = await self._db.fetch_all(
            f"SELECT person_id FROM grants WHERE role = 'admin'{named} ORDER BY 1",
            [value for identity in identities for value in (identity.platform, identity.external_id)])
        return [row[0] for row in rows]
