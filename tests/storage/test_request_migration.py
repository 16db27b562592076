"""Migration 0010 widens the request statuses (a requester may withdraw) without losing or changing a row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.subscriptions.model import DeliveryMode, RequestStatus
from bot.topics.model import Policy, Visibility
from storage.database import Database, to_db_time
from storage.store import SqliteStore
from tests.support import FixedClock

# SQLite's own migration from an older schema; PostgreSQL starts at its baseline, after it.
pytestmark = pytest.mark.sqlite_only

BEFORE_WITHDRAWN = 9


async def test_requests_written_before_withdrawal_existed_survive_and_can_be_withdrawn(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    now = FixedClock().now()
    async with Database.open(path, target_version=BEFORE_WITHDRAWN) as db:
        store = SqliteStore(db)
        person = await db.insert("INSERT INTO people (display_name, created_at) VALUES ('P', ?)", (to_db_time(now),))
        topic = await store.topics.create("t", "T", "", Visibility.PUBLIC, Policy.APPROVAL, now)
        other = await store.topics.create("u", "U", "", Visibility.PUBLIC, Policy.APPROVAL, now)
        denied = await store.requests.create(person, topic.id, DeliveryMode.WEEKLY, now, now)
        await store.requests.decide(denied.id, RequestStatus.DENIED, None, now)
        pending = await store.requests.create(person, other.id, DeliveryMode.DAILY, now, now)
        before = await db.fetch_all("SELECT * FROM subscription_requests ORDER BY id")
        with pytest.raises(sqlite3.IntegrityError):  # the old schema refuses the new status
            await db.execute("UPDATE subscription_requests SET status = 'withdrawn' WHERE id = ?", (pending.id,))
    async with Database.open(path) as db:
        store = SqliteStore(db)
        after = await db.fetch_all("SELECT * FROM subscription_requests ORDER BY id")
        assert [tuple(r) for r in after] == [tuple(r) for r in before]
        with pytest.raises(sqlite3.IntegrityError):  # still at most one waiting request per person and topic
            await store.requests.create(person, other.id, DeliveryMode.DAILY, now, now)
        assert await store.requests.decide(pending.id, RequestStatus.WITHDRAWN, person, now)
        assert (await store.requests.get(pending.id)).status is RequestStatus.WITHDRAWN  # type: ignore[union-attr]
