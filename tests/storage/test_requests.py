"""Subscription requests on a real SQLite file: one pending request per person and topic, deciding it once,
closing a topic's pending ones, and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.model import Identity
from bot.subscriptions.model import DeliveryMode, RequestStatus
from bot.topics.model import Policy, Visibility
from storage.database import Database
from storage.people import SqlitePeople
from storage.requests import SqliteRequests
from storage.topics import SqliteTopics
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


async def test_requests_wait_are_decided_once_and_expire(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        people, topics, requests = SqlitePeople(db), SqliteTopics(db), SqliteRequests(db)
        ana = (await people.ensure_identity(Identity("slack", "U1"), "Ana", NOW)).person_id
        ben = (await people.ensure_identity(Identity("slack", "U2"), "Ben", NOW)).person_id
        casework = await topics.create("casework", "Casework", "", Visibility.PRIVATE, Policy.APPROVAL, NOW)
        press = await topics.create("press", "Press", "", Visibility.MEMBERS, Policy.APPROVAL, NOW)

        asked = await requests.create(ana, casework.id, DeliveryMode.IMMEDIATE, NOW, NOW + WEEK)
        assert (asked.status, asked.mode, asked.expires_at) == \
            (RequestStatus.PENDING, DeliveryMode.IMMEDIATE, NOW + WEEK)
        assert await requests.pending_for(ana, casework.id) == asked
        assert await requests.set_mode(asked.id, DeliveryMode.DAILY)
        assert await requests.decide(asked.id, RequestStatus.APPROVED, ben, NOW)
        assert not await requests.decide(asked.id, RequestStatus.DENIED, ben, NOW)  # decided once
        decided = await requests.get(asked.id)
        assert decided is not None and (decided.status, decided.mode, decided.decided_by) == \
            (RequestStatus.APPROVED, DeliveryMode.DAILY, ben)

        first = await requests.create(ana, press.id, DeliveryMode.WEEKLY, NOW, NOW + WEEK)
        second = await requests.create(ben, press.id, DeliveryMode.WEEKLY, NOW, NOW + timedelta(days=1))
        assert [r.id for r in await requests.pending([press.id])] == [first.id, second.id]
        assert [r.id for r in await requests.pending_of(ben)] == [second.id]
        assert [r.id for r in await requests.expire_due(NOW + timedelta(days=2))] == [second.id]
        closed = await requests.close_pending(press.id, RequestStatus.DENIED, None, NOW)
        assert [(r.id, r.status) for r in closed] == [(first.id, RequestStatus.DENIED)]
        assert await requests.pending(None) == []
