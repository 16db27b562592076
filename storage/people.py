"""People and their platform identities."""

from __future__ import annotations

import json
from datetime import datetime

from bot.model import Grant, Identity, IdentityRecord, Person, Role
from bot.people.store import Profile
from storage.database import Database, Dialect, Row, from_db_time, opt_time, to_db_time

# A person's identities and grants as JSON arrays beside their row, so a profile is one statement (one round trip
# to the database) whatever the number of identities and grants. Sorted again in Python: an aggregate's order is
# not something SQL promises. Each engine spells the aggregate its own way; both give the array as text, and
# ``[]`` for none (PostgreSQL's json_agg gives NULL over no rows).
_JSON_LIST: dict[Dialect, str] = {
    "sqlite": "json_group_array(json_array({}))",
    "postgresql": "CAST(COALESCE(json_agg(json_build_array({})), '[]') AS TEXT)",
}
_PROFILE = (
    "SELECT p.*, {last_seen} AS looked_up_last_seen,"
    " (SELECT {identities} FROM identities i WHERE i.person_id = p.id) AS identity_list,"
    " (SELECT {grants} FROM grants g WHERE g.person_id = p.id) AS grant_list"
)
_IDENTITY_FIELDS = ("i.platform, i.external_id, i.display_name, i.platform_role, i.dm_closed_reason, i.dm_channel_id,"
                    " i.platform_locale, i.role_checked_at")
_GRANT_FIELDS = "g.id, g.role, g.topic_id, g.granted_by, g.created_at"


def _profile_sql(dialect: Dialect, last_seen: str) -> str:
    return _PROFILE.format(last_seen=last_seen, identities=_JSON_LIST[dialect].format(_IDENTITY_FIELDS),
                           grants=_JSON_LIST[dialect].format(_GRANT_FIELDS))


_PROFILE_BY_PERSON: dict[Dialect, str] = {
    dialect: _profile_sql(dialect, "NULL") + " FROM people p WHERE p.id = ?" for dialect in _JSON_LIST}
_PROFILE_BY_IDENTITY: dict[Dialect, str] = {
    dialect: _profile_sql(dialect, "me.last_seen_at")
    + " FROM identities me JOIN people p ON p.id = me.person_id WHERE me.platform = ? AND me.external_id = ?"
    for dialect in _JSON_LIST}


NEXT_PERSON_ID = ("(SELECT COALESCE(MAX(n), 0) + 1 FROM (SELECT MAX(id) AS n FROM people"
                  " UNION ALL SELECT last FROM id_floors WHERE name = 'people') AS used)")
"""A newcomer's id: above every id ever used, deleted ones included (migration 0018)."""


def _person(row: Row) -> Person:
    return Person(
        id=row["id"], display_name=row["display_name"], timezone=row["timezone"], language=row["language"],
        platform_timezone=row["platform_timezone"], organisation=row["organisation"], country=row["country"],
        preferred_platform=row["preferred_platform"], created_at=from_db_time(row["created_at"]),
    )


def _identity(row: Row) -> IdentityRecord:
    return IdentityRecord(
        identity=Identity(row["platform"], row["external_id"]), person_id=row["person_id"],
        display_name=row["display_name"], platform_role=Role.parse(row["platform_role"]),
        dm_closed_reason=row["dm_closed_reason"],
        dm_channel_id=row["dm_channel_id"],
    )


def _profile(row: Row) -> Profile:
    person = _person(row)
    listed = json.loads(row["identity_list"])
    identities = sorted(
        (IdentityRecord(identity=Identity(platform, external_id), person_id=person.id, display_name=name,
                        platform_role=Role.parse(role), dm_closed_reason=closed, dm_channel_id=channel)
         for platform, external_id, name, role, closed, channel, _locale, _checked in listed),
        key=lambda record: (record.identity.platform, record.identity.external_id))
    ordered = sorted(listed, key=lambda item: item[:2])
    locales = [(Identity(platform, external_id), locale)
               for platform, external_id, *_rest, locale, _checked in ordered if locale]
    checked = [(Identity(platform, external_id), from_db_time(at))
               for platform, external_id, *_rest, at in ordered if at]
    grants = [Grant(person_id=person.id, role=Role.parse(role), topic_id=topic_id, granted_by=granted_by,
                    created_at=from_db_time(created_at))
              for _id, role, topic_id, granted_by, created_at in sorted(json.loads(row["grant_list"]))]
    return Profile(person=person, identities=tuple(identities), grants=tuple(grants),
                   last_seen_at=opt_time(row["looked_up_last_seen"]), locales=tuple(locales),
                   roles_checked=tuple(checked))


class SqlitePeople:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_identity(self, identity: Identity, display_name: str, now: datetime) -> IdentityRecord:
        async with self._db.transaction():
            existing = await self.identity(identity)
            if existing is not None:
                return existing
            # Above every id ever used, deleted ones included (migration 0018): an erased person's id must never
            # name a newcomer.
            person_id = await self._db.insert(
                "INSERT INTO people (id, display_name, preferred_platform, created_at)"
                f" VALUES ({NEXT_PERSON_ID}, ?, ?, ?)",
                (display_name, identity.platform, to_db_time(now)),
            )
            await self._db.execute(
                "INSERT INTO identities (platform, external_id, person_id, display_name, last_seen_at, role_checked_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (identity.platform, identity.external_id, person_id, display_name, to_db_time(now), to_db_time(now)),
            )
            record = await self.identity(identity)
            assert record is not None
            return record

    async def touch_identity(self, identity: Identity, display_name: str, platform_role: Role,
                             platform_timezone: str | None, now: datetime, platform_locale: str | None = None) -> None:
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE identities SET display_name = ?, platform_role = ?, last_seen_at = ?, role_checked_at = ?,"
                " dm_closed_reason = NULL, platform_locale = COALESCE(?, platform_locale)"
                " WHERE platform = ? AND external_id = ?",
                (display_name, platform_role.name.lower(), to_db_time(now), to_db_time(now), platform_locale or None,
                 identity.platform, identity.external_id),
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

    async def profile(self, person_id: int) -> Profile | None:
        row = await self._db.fetch_one(_PROFILE_BY_PERSON[self._db.dialect], (person_id,))
        return _profile(row) if row else None

    async def profile_of(self, identity: Identity) -> Profile | None:
        row = await self._db.fetch_one(_PROFILE_BY_IDENTITY[self._db.dialect],
                                       (identity.platform, identity.external_id))
        return _profile(row) if row else None

    def writes(self) -> int:
        return self._db.writes

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
        # lower() on both sides rather than SQLite's NOCASE collation, which PostgreSQL lacks: the same match in
        # SQLite (both fold ASCII only); PostgreSQL's lower() folds every letter. No index serves either form.
        rows = await self._db.fetch_all(
            "SELECT DISTINCT p.* FROM people p LEFT JOIN identities i ON i.person_id = p.id"
            " WHERE lower(p.display_name) = lower(?) OR lower(i.display_name) = lower(?)"
            " OR i.external_id = ? ORDER BY p.id",
            (name, name, name),
        )
        return [_person(row) for row in rows]

    async def set_timezone(self, person_id: int, timezone: str | None) -> None:
        await self._db.execute("UPDATE people SET timezone = ? WHERE id = ?", (timezone, person_id))

    async def set_language(self, person_id: int, language: str | None) -> None:
        await self._db.execute("UPDATE people SET language = ? WHERE id = ?", (language, person_id))

    async def set_preferred_platform(self, person_id: int, platform: str | None) -> None:
        await self._db.execute("UPDATE people SET preferred_platform = ? WHERE id = ?", (platform, person_id))

    async def set_dm_closed(self, identity: Identity, reason: str | None) -> None:
        await self._db.execute(
            "UPDATE identities SET dm_closed_reason = ? WHERE platform = ? AND external_id = ?",
            (reason, identity.platform, identity.external_id),
        )

    async def set_platform_role(self, identity: Identity, role: Role, checked_at: datetime | None = None) -> None:
        await self._db.execute(
            "UPDATE identities SET platform_role = ?, role_checked_at = COALESCE(?, role_checked_at)"
            " WHERE platform = ? AND external_id = ?",
            (role.name.lower(), to_db_time(checked_at) if checked_at else None, identity.platform,
             identity.external_id),
        )

    async def set_dm_channel(self, identity: Identity, channel_id: str) -> None:
        await self._db.execute(
            "UPDATE identities SET dm_channel_id = ? WHERE platform = ? AND external_id = ?",
            (channel_id, identity.platform, identity.external_id),
        )

    async def count(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) FROM people")
        return int(row[0]) if row else 0
