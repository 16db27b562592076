"""Subscription requests (``subscription_requests``): asking to join a topic that needs approval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.subscriptions.model import DeliveryMode, RequestStatus, SubscriptionRequest
from storage.database import Database, Row, from_db_time, opt_time, to_db_time


def _request(row: Row) -> SubscriptionRequest:
    return SubscriptionRequest(
        id=row["id"], person_id=row["person_id"], topic_id=row["topic_id"], mode=DeliveryMode(row["mode"]),
        status=RequestStatus(row["status"]), created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]), decided_by=row["decided_by"],
        decided_at=opt_time(row["decided_at"]),
    )


class SqliteRequests:
    """The :class:`bot.subscriptions.store.RequestStore` on the ``subscription_requests`` table."""

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
