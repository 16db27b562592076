"""Role grants stored in the database, subscription requests and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from bot.model import AuditEntry, Grant, Identity, Role
from bot.subscriptions.model import DeliveryMode, RequestStatus, SubscriptionRequest
from storage.database import Database, from_db_time, opt_time, to_db_time


def _grant(row: aiosqlite.Row) -> Grant:
    return Grant(person_id=row["person_id"], role=Role.parse(row["role"]), topic_id=row["topic_id"],
                 granted_by=row["granted_by"], created_at=from_db_time(row["created_at"]))


def _request(row: aiosqlite.Row) -> SubscriptionRequest:
    return SubscriptionRequest(
        id=row["id"], person_id=row["person_id"], topic_id=row["topic_id"], mode=DeliveryMode(row["mode"]),
        status=RequestStatus(row["status"]), created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]), decided_by=row["decided_by"],
        decided_at=opt_time(row["decided_at"]),
    )


class SqliteGrants:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def of_person(self, person_id: int) -> list[Grant]:
        rows = await self._db.fetch_all("SELECT * FROM grants WHERE person_id = ? ORDER BY id", (person_id,))
        return [_grant(row) for row in rows]

    async def add(self, person_id: int, role: Role, topic_id: int | None, granted_by: int | None,
                  now: datetime) -> bool:
        changed = await self._db.execute(
            "INSERT OR IGNORE INTO grants (person_id, role, topic_id, granted_by, created_at) VALUES (?, ?, ?, ?, ?)",
            (person_id, role.name.lower(), topic_id, granted_by, to_db_time(now)),
        )
        return changed > 0

    async def remove(self, person_id: int, role: Role, topic_id: int | None) -> bool:
        changed = await self._db.execute(
            "DELETE FROM grants WHERE person_id = ? AND role = ? AND IFNULL(topic_id, 0) = ?",
            (person_id, role.name.lower(), topic_id or 0),
        )
        return changed > 0

    async def coordinators_of(self, topic_id: int) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT DISTINCT person_id FROM grants WHERE role = 'coordinator' AND IFNULL(topic_id, ?) = ?"
            " ORDER BY person_id",
            (topic_id, topic_id),
        )
        return [row["person_id"] for row in rows]

    async def admins(self, identities: Sequence[Identity]) -> list[int]:
        rows = await self._db.fetch_all("SELECT DISTINCT person_id FROM grants WHERE role = 'admin'")
        people = {row["person_id"] for row in rows}
        for identity in identities:
            row = await self._db.fetch_one(
                "SELECT person_id FROM identities WHERE platform = ? AND external_id = ?",
                (identity.platform, identity.external_id))
            if row is not None:
                people.add(row["person_id"])
        return sorted(people)


class SqliteRequests:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, person_id: int, topic_id: int, mode: DeliveryMode, now: datetime,
                     expires_at: datetime) -> SubscriptionRequest:
        async with self._db.transaction():
            request_id = await self._db.insert(
                "INSERT INTO subscription_requests (person_id, topic_id, mode, status, created_at, expires_at)"
                " VALUES (?, ?, ?, 'pending', ?, ?)",
                (person_id, topic_id, mode.value, to_db_time(now), to_db_time(expires_at)),
            )
            request = await self.get(request_id)
            assert request is not None
            return request

    async def get(self, request_id: int) -> SubscriptionRequest | None:
        row = await self._db.fetch_one("SELECT * FROM subscription_requests WHERE id = ?", (request_id,))
        return _request(row) if row else None

    async def pending_for(self, person_id: int, topic_id: int) -> SubscriptionRequest | None:
        row = await self._db.fetch_one(
            "SELECT * FROM subscription_requests WHERE person_id = ? AND topic_id = ? AND status = 'pending'",
            (person_id, topic_id),
        )
        return _request(row) if row else None

    async def pending(self, topic_ids: Sequence[int] | None) -> list[SubscriptionRequest]:
        if topic_ids is None:
            rows = await self._db.fetch_all(
                "SELECT * FROM subscription_requests WHERE status = 'pending' ORDER BY created_at, id")
        else:
            marks = ",".join("?" for _ in topic_ids) or "NULL"
            rows = await self._db.fetch_all(
                f"SELECT * FROM subscription_requests WHERE status = 'pending' AND topic_id IN ({marks})"
                " ORDER BY created_at, id", tuple(topic_ids))
        return [_request(row) for row in rows]

    async def pending_of(self, person_id: int) -> list[SubscriptionRequest]:
        rows = await self._db.fetch_all(
            "SELECT * FROM subscription_requests WHERE status = 'pending' AND person_id = ? ORDER BY created_at, id",
            (person_id,))
        return [_request(row) for row in rows]

    async def set_mode(self, request_id: int, mode: DeliveryMode) -> bool:
        changed = await self._db.execute(
            "UPDATE subscription_requests SET mode = ? WHERE id = ? AND status = 'pending'", (mode.value, request_id))
        return changed > 0

    async def close_pending(self, topic_id: int, status: RequestStatus, decided_by: int | None,
                            now: datetime) -> list[SubscriptionRequest]:
        """End every waiting request for ``topic_id`` with ``status``; returns the requests ended."""
        rows = await self._db.write_returning(
            "UPDATE subscription_requests SET status = ?, decided_by = ?, decided_at = ?"
            " WHERE topic_id = ? AND status = 'pending' RETURNING *",
            (status.value, decided_by, to_db_time(now), topic_id),
        )
        return sorted((_request(row) for row in rows), key=lambda r: r.id)

    async def decide(self, request_id: int, status: RequestStatus, decided_by: int | None,
                     now: datetime) -> bool:
        changed = await self._db.execute(
            "UPDATE subscription_requests SET status = ?, decided_by = ?, decided_at = ?"
            " WHERE id = ? AND status = 'pending'",
            (status.value, decided_by, to_db_time(now), request_id),
        )
        return changed > 0

    async def expire_due(self, now: datetime) -> list[SubscriptionRequest]:
        rows = await self._db.write_returning(
            "UPDATE subscription_requests SET status = 'expired', decided_at = ?"
            " WHERE status = 'pending' AND expires_at <= ? RETURNING *",
            (to_db_time(now), to_db_time(now)),
        )
        return [_request(row) for row in rows]


class SqliteAudit:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, actor_id: int | None, action: str, subject: str, before: str | None,
                     after: str | None, now: datetime) -> None:
        await self._db.insert(
            "INSERT INTO audit_log (actor_id, action, subject, before, after, at) VALUES (?, ?, ?, ?, ?, ?)",
            (actor_id, action, subject, before, after, to_db_time(now)),
        )

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        rows = await self._db.fetch_all("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        return [AuditEntry(id=row["id"], actor_id=row["actor_id"], action=row["action"], subject=row["subject"],
                           before=row["before"], after=row["after"], at=from_db_time(row["at"])) for row in rows]
