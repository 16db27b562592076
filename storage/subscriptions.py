"""Subscriptions and invitations (``subscriptions``, ``invitations``): who follows a topic, and how, and who
was invited to a private one."""

from __future__ import annotations

from datetime import datetime

from bot.subscriptions.model import DeliveryMode, Invitation, Subscription
from storage.database import Database, Row, from_db_time, to_db_time


def _subscription(row: Row) -> Subscription:
    return Subscription(person_id=row["person_id"], topic_id=row["topic_id"], mode=DeliveryMode(row["mode"]),
                        created_at=from_db_time(row["created_at"]))


def _invitation(row: Row) -> Invitation:
    return Invitation(person_id=row["person_id"], topic_id=row["topic_id"], invited_by=row["invited_by"],
                      created_at=from_db_time(row["created_at"]))


class SqliteSubscriptions:
    """The :class:`bot.subscriptions.store.SubscriptionStore` on the ``subscriptions`` and ``invitations`` tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, person_id: int, topic_id: int) -> Subscription | None:
        row = await self._db.fetch_one(
            "SELECT * FROM subscriptions WHERE person_id = ? AND topic_id = ?", (person_id, topic_id))
        return _subscription(row) if row else None

    async def put(self, person_id: int, topic_id: int, mode: DeliveryMode, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO subscriptions (person_id, topic_id, mode, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (person_id, topic_id) DO UPDATE SET mode = excluded.mode",
            (person_id, topic_id, mode.value, to_db_time(now)),
        )

    async def remove(self, person_id: int, topic_id: int) -> bool:
        changed = await self._db.execute(
            "DELETE FROM subscriptions WHERE person_id = ? AND topic_id = ?", (person_id, topic_id))
        return changed > 0

    async def of_person(self, person_id: int) -> list[Subscription]:
        rows = await self._db.fetch_all(
            "SELECT s.* FROM subscriptions s JOIN topics t ON t.id = s.topic_id"
            " WHERE s.person_id = ? ORDER BY t.slug", (person_id,))
        return [_subscription(row) for row in rows]

    async def of_topic(self, topic_id: int) -> list[Subscription]:
        rows = await self._db.fetch_all(
            "SELECT * FROM subscriptions WHERE topic_id = ? ORDER BY person_id", (topic_id,))
        return [_subscription(row) for row in rows]

    async def add_invitation(self, person_id: int, topic_id: int, invited_by: int, now: datetime) -> bool:
        changed = await self._db.execute(
            "INSERT INTO invitations (person_id, topic_id, invited_by, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (person_id, topic_id, invited_by, to_db_time(now)),
        )
        return changed > 0

    async def remove_invitation(self, person_id: int, topic_id: int) -> bool:
        changed = await self._db.execute(
            "DELETE FROM invitations WHERE person_id = ? AND topic_id = ?", (person_id, topic_id))
        return changed > 0

    async def invitation(self, person_id: int, topic_id: int) -> Invitation | None:
        row = await self._db.fetch_one(
            "SELECT * FROM invitations WHERE person_id = ? AND topic_id = ?", (person_id, topic_id))
        return _invitation(row) if row else None

    async def remove_invitations(self, topic_id: int) -> list[Invitation]:
        """Withdraw every open invitation to ``topic_id``; returns what was withdrawn."""
        rows = await self._db.write_returning(
            "DELETE FROM invitations WHERE topic_id = ? RETURNING *", (topic_id,))
        return sorted((_invitation(row) for row in rows), key=lambda i: i.person_id)

    async def is_invited(self, person_id: int, topic_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM invitations WHERE person_id = ? AND topic_id = ?", (person_id, topic_id))
        return row is not None

    async def audience_counts(self, topic_id: int) -> list[tuple[DeliveryMode, str | None, int]]:
        """Subscribers by delivery mode and preferred platform, for the preview (``all``: the platform of their
        counted copy, the first of their accounts that may carry the topic — email for public topics only, as
        :func:`bot.delivery.accounts.counted_platform` decides; each person counts once). The ``NULL`` platforms
        are grouped together and sorted first (on both engines)."""
        rows = await self._db.fetch_all(
            "SELECT s.mode, CASE WHEN p.preferred_platform = 'all' THEN (SELECT MIN(i.platform) FROM identities i"
            " WHERE i.person_id = s.person_id AND (i.platform <> 'email' OR t.visibility = 'public'))"
            " ELSE p.preferred_platform END AS platform, COUNT(*) AS n"
            " FROM subscriptions s JOIN topics t ON t.id = s.topic_id"
            " JOIN people p ON p.id = s.person_id WHERE s.topic_id = ? GROUP BY s.mode, platform"
            " ORDER BY s.mode, platform NULLS FIRST", (topic_id,))
        return [(DeliveryMode(row["mode"]), row["platform"], int(row["n"])) for row in rows]
