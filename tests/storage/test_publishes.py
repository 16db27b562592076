"""The publish queue's rows on a real database: queued and withheld posts, what is due, the per-channel count
of recent publishes, postponing, and how a publish ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapter_stores import Publish, PublishStatus, PublishStore
from storage.database import Database
from storage.publishes import SqlitePublishes
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
async def publishes(tmp_path: Path) -> AsyncIterator[PublishStore]:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        yield SqlitePublishes(db)


async def test_a_post_is_recorded_once_queued_or_withheld(publishes: PublishStore) -> None:
    await publishes.add("C1", "M1", NOW)
    await publishes.add("C1", "M1", NOW + timedelta(minutes=1))  # the same post again: left as it is
    await publishes.withhold("C2", "M2", "not the public channel", NOW)
    await publishes.withhold("C1", "M1", "too late", NOW)
    first, second = await publishes.all()
    # Ids in the order queued; PostgreSQL may skip some (an insert that did nothing still drew one).
    assert first.id < second.id
    assert [replace(first, id=0), replace(second, id=0)] == [
        Publish(0, "C1", "M1", PublishStatus.PENDING, NOW, 0, None),
        Publish(0, "C2", "M2", PublishStatus.FAILED, NOW, 0, "not the public channel"),
    ]
    assert [p.message_id for p in await publishes.due(NOW)] == ["M1"]  # a withheld post is never due
    assert await publishes.next_due() == NOW


async def test_postponing_moves_the_publish_and_counts_only_a_refused_attempt(publishes: PublishStore) -> None:
    await publishes.add("C1", "M1", NOW)
    await publishes.postpone(1, NOW + timedelta(minutes=30), "waiting for the publish limit")
    [waiting] = await publishes.all()
    assert (waiting.status, waiting.attempts, waiting.reason) == \
        (PublishStatus.PENDING, 0, "waiting for the publish limit")
    assert await publishes.due(NOW) == []
    assert await publishes.next_due() == NOW + timedelta(minutes=30)
    await publishes.postpone(1, NOW + timedelta(hours=1), "rate limited by Discord", attempts=1)
    [refused] = await publishes.all()
    assert (refused.not_before, refused.attempts) == (NOW + timedelta(hours=1), 1)


async def test_published_posts_count_per_channel_and_a_failed_one_ends(publishes: PublishStore) -> None:
    for n in range(3):
        await publishes.add("C1", f"M{n}", NOW)
    await publishes.add("C2", "other", NOW)
    await publishes.mark_published(1, NOW - timedelta(hours=2))
    await publishes.mark_published(2, NOW)
    await publishes.mark_published(4, NOW)
    await publishes.mark_failed(3, "Discord refused the publish: 10008 Unknown Message")
    assert await publishes.published_since("C1", NOW - timedelta(hours=1)) == [NOW]
    assert await publishes.published_since("C1", NOW - timedelta(hours=3)) == [NOW - timedelta(hours=2), NOW]
    ended = {p.message_id: (p.status, p.attempts, p.reason) for p in await publishes.all()}
    assert ended["M1"] == (PublishStatus.PUBLISHED, 1, None)
    assert ended["M2"] == (PublishStatus.FAILED, 1, "Discord refused the publish: 10008 Unknown Message")
    assert await publishes.due(NOW + timedelta(days=1)) == []
    assert await publishes.next_due() is None
