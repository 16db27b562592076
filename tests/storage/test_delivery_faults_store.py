"""The outbox, circuit and lease writes the delivery worker relies on, against a real database (SQLite, or
PostgreSQL on a run with ``BOT_TEST_STORAGE=postgresql``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery.model import DeliveryKind, DeliveryStatus, NewDelivery, SentMessage, WorkerLease
from bot.delivery.payloads import NoticePayload
from bot.messages import Message
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode, MissedDigests
from bot.topics.model import Policy, Visibility
from storage.database import Database
from storage.store import SqliteStore
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POST = NoticePayload(Message(body=("news",)))
LATER = NOW + timedelta(minutes=5)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        yield SqliteStore(db)


async def _rows(store: SqliteStore, *keys: str, platform: str | None = "slack", not_before: datetime = NOW) -> None:
    await store.outbox.enqueue([NewDelivery(dedupe_key=key, kind=DeliveryKind.MEETING_NOTICE, payload=POST,
                                            not_before=not_before, platform=platform, channel_id="C1")
                                for key in keys], NOW)


async def test_a_deferral_counts_no_attempt_a_retry_does_and_uncertain_sticks_until_sent(store: SqliteStore) -> None:
    await _rows(store, "a")
    [row] = await store.outbox.claim_due(NOW, 10, "w1")
    assert row.attempts == 1
    await store.outbox.defer(row.id, LATER, platform="slack", reason="paused", since=NOW, uncertain=True)
    row = await store.outbox.get(row.id)  # type: ignore[assignment]
    assert row is not None and row.attempts == 0 and row.retrying_since == NOW and row.uncertain
    [row] = await store.outbox.claim_due(LATER, 10, "w1")
    await store.outbox.retry_later(row.id, LATER + timedelta(minutes=1), "HTTP 503", since=LATER, platform="slack")
    row = await store.outbox.get(row.id)  # type: ignore[assignment]
    assert row is not None and row.attempts == 1 and row.retrying_since == NOW  # the streak's first failure
    assert row.uncertain and row.attempt_platform == "slack" and row.reason == "HTTP 503"
    [row] = await store.outbox.claim_due(LATER + timedelta(minutes=1), 10, "w1")
    await store.outbox.mark_sent(row.id, SentMessage("slack", "C1", ("1",)), LATER)
    row = await store.outbox.get(row.id)  # type: ignore[assignment]
    assert row is not None and row.status is DeliveryStatus.SENT
    assert not row.uncertain and row.retrying_since is None and row.reason is None


@pytest.mark.postgresql_only
async def test_a_claim_passes_over_rows_another_process_is_claiming(store: SqliteStore, tmp_path: Path) -> None:
    """Several processes claim from one outbox on PostgreSQL: a row another transaction has locked is skipped,
    not waited for (nor claimed twice), and the others are claimed."""
    import psycopg

    await _rows(store, "a", "b", "c")
    async with await psycopg.AsyncConnection.connect(str(storage_target(tmp_path, "bot.db"))) as other:
        await other.execute("SELECT id FROM deliveries WHERE dedupe_key = 'a' FOR UPDATE")  # opens a transaction
        async with asyncio.timeout(10):
            claimed = await store.outbox.claim_due(NOW, 10, "w1")
        assert [row.dedupe_key for row in claimed] == ["b", "c"]
        await other.rollback()
    async with asyncio.timeout(10):
        [row] = await store.outbox.claim_due(NOW, 10, "w1")
    assert row.dedupe_key == "a"


async def test_a_deferral_leaves_a_row_no_longer_in_flight_alone(store: SqliteStore) -> None:
    await _rows(store, "a")
    [row] = await store.outbox.claim_due(NOW, 10, "w1")
    await store.outbox.mark_final(row.id, DeliveryStatus.FAILED, "gone", NOW, platform="slack", retryable=True)
    await store.outbox.defer(row.id, LATER, platform="slack")
    row = await store.outbox.get(row.id)  # type: ignore[assignment]
    assert row is not None and row.status is DeliveryStatus.FAILED and row.retryable and row.attempts == 1


async def test_recovery_takes_back_only_rows_without_a_live_lease(store: SqliteStore) -> None:
    await store.leases.acquire(WorkerLease("live", 1, "h", NOW, NOW + timedelta(minutes=1)))
    await store.leases.acquire(WorkerLease("dead", 2, "h", NOW - timedelta(hours=1), NOW - timedelta(seconds=1)))
    for holder in ("live", "dead", None):
        await _rows(store, f"row-{holder}")
        await store.outbox.claim_due(NOW, 1, holder)
    assert await store.outbox.recover_orphans(NOW) == 2
    rows = {row.dedupe_key: row for row in await store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)}
    assert rows["row-live"].status is DeliveryStatus.SENDING and not rows["row-live"].uncertain
    for key in ("row-dead", "row-None"):
        assert rows[key].status is DeliveryStatus.PENDING and rows[key].uncertain
    assert await store.leases.renew("live", NOW + timedelta(minutes=2))
    assert not await store.leases.renew("gone", NOW)
    assert await store.leases.drop_others("live") == 1
    assert [lease.holder for lease in await store.leases.all()] == ["live"]


async def test_bringing_a_platform_forward_touches_only_rows_it_held_back(store: SqliteStore) -> None:
    await _rows(store, "held", "other-platform")
    await _rows(store, "scheduled", not_before=NOW + timedelta(hours=1))
    for row in await store.outbox.claim_due(NOW, 10):
        platform = "discord" if row.dedupe_key == "other-platform" else "slack"
        await store.outbox.defer(row.id, NOW + timedelta(seconds=20), platform=platform, reason="down", since=NOW)
    assert await store.outbox.bring_forward("slack", NOW + timedelta(seconds=2)) == 1
    rows = {row.dedupe_key: row for row in await store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)}
    assert rows["held"].not_before == NOW + timedelta(seconds=2)
    assert rows["other-platform"].not_before == NOW + timedelta(seconds=20)
    assert rows["scheduled"].not_before == NOW + timedelta(hours=1)


async def test_a_circuit_counts_opens_once_probes_once_and_closes(store: SqliteStore) -> None:
    circuits = store.circuits
    for _ in range(3):
        counted = await circuits.count_failure("slack", "HTTP 503", NOW)
    assert counted.failures == 3 and counted.opened_at is None
    opened = await circuits.open("slack", 3, NOW + timedelta(seconds=1), NOW)
    assert opened is not None and opened.opened_at == NOW and opened.retry_at == NOW + timedelta(seconds=1)
    assert await circuits.open("slack", 3, NOW + timedelta(seconds=9), NOW) is None  # already open
    assert (await circuits.count_failure("slack", "HTTP 503", NOW)).failures == 3  # in flight: not counted
    assert not await circuits.claim_probe("slack", NOW, NOW + timedelta(seconds=1))  # cooling down
    probe_at = NOW + timedelta(seconds=1)
    assert await circuits.claim_probe("slack", probe_at, probe_at + timedelta(seconds=2))
    assert not await circuits.claim_probe("slack", probe_at, probe_at + timedelta(seconds=2))  # one probe only
    reopened = await circuits.reopen("slack", 4, probe_at + timedelta(seconds=2), "HTTP 502", probe_at)
    assert reopened is not None and reopened.failures == 4 and reopened.reason == "HTTP 502"
    closed, was_open = await circuits.close("slack", probe_at)
    assert was_open and closed is not None and closed.failures == 0 and closed.opened_at is None
    assert closed.retry_at is None
    assert [c.platform for c in await circuits.all()] == ["slack"]


async def test_a_pause_never_shortens_and_survives_a_success(store: SqliteStore) -> None:
    circuits = store.circuits
    await circuits.pause("slack", NOW + timedelta(seconds=40), "rate limited", NOW)
    paused = await circuits.pause("slack", NOW + timedelta(seconds=5), "rate limited", NOW)
    assert paused.retry_at == NOW + timedelta(seconds=40) and paused.failures == 0 and paused.opened_at is None
    await circuits.count_failure("slack", "HTTP 503", NOW)
    closed, was_open = await circuits.close("slack", NOW)  # a send in flight went through
    assert not was_open and closed is not None and closed.failures == 0
    assert closed.retry_at == NOW + timedelta(seconds=40)  # the platform still asked for 40 s
    assert await circuits.get("discord") is None


async def test_a_missed_digest_releases_its_items_once_the_next_is_due(store: SqliteStore) -> None:
    person = (await store.people.ensure_identity(Identity("console", "bob"), "bob", NOW)).person_id
    topic = await store.topics.create("x", "X", "", Visibility.PUBLIC, Policy.OPEN, NOW)
    announcement = await store.announcements.create(topic.id, person, "news", None, NOW)
    await store.digests.queue([(person, announcement.id, DeliveryMode.DAILY)], NOW)
    key = "digest:1:daily:2026-11-24T08:00:00+00:00"
    await store.digests.mark_digested(person, [announcement.id], key)
    expires = NOW + timedelta(days=1)
    await store.outbox.enqueue([NewDelivery(dedupe_key=f"{key}:person:{person}", kind=DeliveryKind.DIGEST,
                                            payload=POST, not_before=NOW, person_id=person, expires_at=expires)],
                               NOW)
    assert await store.digests.release_missed(expires - timedelta(seconds=1), "next due") == MissedDigests(0, 0)
    assert await store.digests.pending() == []
    assert await store.digests.release_missed(expires, "next due") == MissedDigests(1, 1)
    [row] = await store.outbox.by_kind(DeliveryKind.DIGEST)
    assert row.status is DeliveryStatus.MISSED and row.reason == "next due"
    assert await store.digests.items(person, DeliveryMode.DAILY, expires) == [announcement.id]
    assert await store.digests.release_missed(expires, "next due") == MissedDigests(0, 0)  # once

