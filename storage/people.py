"""People and their platform identities."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.model import Identity, IdentityRecord, Person, Role
from storage.database import Database, from_db_time, to_db_time


def _person(row: aiosqlite.Row) -> Person:
    return Person(
        id=row["id"], display_name=row["display_name"], timezone=row["timezone"], language=row["language"],
        platform_timezone=row["platform_timezone"], organisation=row["organisation"], country=row["country"],
        preferred_platform=row["preferred_platform"], created_at=from_db_time(row["created_at"]),
    )


def _identity(row: aiosqlite.Row) -> IdentityRecord:
    return IdentityRecord(
        identity=Identity(row["platform"], row["external_id"]), person_id=row["person_id"],
        display_name=row["display_name"], platform_role=Role.parse(row["platform_role"]),
        dm_closed_reason=row["dm_closed_reason"],
        dm_channel_id=row["dm_channel_id"],
    )


class SqlitePeople:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_identity(self, identity: Identity, display_name: str, now: datetime) -> IdentityRecord:
        async with self._db.transaction():
            existing = await self.identity(identity)
            if existing is not None:
                return existing
            person_id = await self._db.insert(
                "INSERT INTO people (display_name, preferred_platform, created_at) VALUES (?, ?, ?)",
                (display_name, identity.platform, to_db_time(now)),
            )
            await self._db.execute(
                "INSERT INTO identities (platform, external_id, person_id, display_name, last_seen_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (identity.platform, identity.external_id, person_id, display_name, to_db_time(now)),
            )
            record = await self.identity(identity)
            assert record is not None
            return record

    async def touch_identity(self, identity: Identity, display_name: str, platform_role: Role,
                             platform_timezone: str | None, now: datetime) -> None:
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE identities SET display_name = ?, platform_role = ?, last_seen_at = ?,"
                " dm_closed_reason = NULL WHERE platform = ? AND external_id = ?",
                (display_name, platform_role.name.lower(), to_db_time(now), identity.platform,
                 identity.external_id),
            )
            if platform_timezone:
                await self._db.execute(
                    "UPDATE people SET platform_timezone = ? WHERE id ="
                    " (SELECT person_id FROM identities WHERE platform = ? AND external_id = ?)",
                    (platform_timezone, identity.platform, identity.external_id),
                )

    async def get(self, person_id: int) -> Person | None:
        row = await self._db.fetch_one("SELECT * FROM people WHERE id = ?", (person_id,))
        return _person(row) if row else None

    async def identity(self, identity: Identity) -> IdentityRecord | None:
        row = await self._db.fetch_one(
            "SELECT * FROM identities WHERE platform = ? AND external_id = ?",
            (identity.platform, identity.external_id),
        )
        return _identity(row) if row else None

    async def identities_of(self, person_id: int) -> list[IdentityRecord]:
        rows = await self._db.fetch_all(
            "SELECT * FROM identities WHERE person_id = ? ORDER BY platform, external_id", (person_id,))
        return [_identity(row) for row in rows]

    async def find_by_name(self, name: str) -> list[Person]:
        rows = await self._db.fetch_all(
            "SELECT DISTINCT p.* FROM people p LEFT JOIN identities i ON i.person_id = p.id"
            " WHERE p.display_name = ? COLLATE NOCASE OR i.display_name = ? COLLATE NOCASE"
            " OR i.external_id = ? ORDER BY p.id",
            (name, name, name),
        )
        return [_person(row) for row in rows]

    async def set_timezone(self, person_id: int, timezone: str | None) -> None:
        await self._db.execute("UPDATE people SET timezone = ? WHERE id = ?", (timezone, person_id))

    async def set_language(self, person_id: int, language: str | None) -> None:
        await self._db.execute("UPDATE people SET language = ? WHERE id = ?", (language, person_id))

    async def set_dm_closed(self, identity: Identity, reason: str | None) -> None:
        await self._db.execute(
            "UPDATE identities SET dm_closed_reason = ? WHERE platform = ? AND external_id = ?",
            (reason, identity.platform, identity.external_id),
        )

    async def set_platform_role(self, identity: Identity, role: Role) -> None:
        await self._db.execute(
            "UPDATE identities SET platform_role = ? WHERE platform = ? AND external_id = ?",
            (role.name.lower(), identity.platform, identity.external_id),
        )

    async def set_dm_channel(self, identity: Identity, channel_id: str) -> None:
        await self._db.execute(
            "UPDATE identities SET dm_channel_id = ? WHERE platform = ? AND external_id = ?",
            (channel_id, identity.platform, identity.external_id),
        )

    async def count(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) FROM people")
        return int(row[0]) if row else 0
