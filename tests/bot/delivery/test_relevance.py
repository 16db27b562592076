"""Relevance caps retries: a row that can no longer go before it expires is ``missed`` with a reason — a reminder
at its meeting's start, a digest when the next one is due (which then carries the missed one's items)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery.model import Delivery, DeliveryStatus, SentMessage
from bot.messages import RenderedMessage
from bot.model import IdentityRecord, Role
from tests.bot.delivery.fakes import FaultyAdapter, app_with, drain, notify, people_on
from tests.support import FixedClock, Harness, console_settings, english, harness


@pytest.fixture
async def down(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    """The demo app with a ``test`` platform that fails (5xx) until the test says otherwise."""
    async with harness(console_settings(tmp_path), clock, FaultyAdapter(clock=clock)) as running:
        yield running


def _faulty(h: Harness) -> FaultyAdapter:
    assert isinstance(h.adapter, FaultyAdapter)
    return h.adapter


async def _bob(h: Harness, *, mode: str = "") -> int:
    reply = await h.say("bob", f"subscribe disinformation {mode}".strip(), platform="test", platform_role=Role.MEMBER)
    return reply.person_id


async def _rows_to(h: Harness, kind: str, person_id: int) -> list[Delivery]:
    return [d for d in await h.app.store.outbox.by_kind(kind) if d.person_id == person_id]


async def test_a_row_claimed_after_it_expired_is_missed_without_a_send(tmp_path: Path) -> None:
    clock = FixedClock()
    adapter = FaultyAdapter(clock=clock)
    async with app_with(tmp_path, clock, adapter) as app:
        await notify(app, await people_on(app, "test", 1), "stale", expires_at=clock.now() - timedelta(seconds=1))
        await drain(app)
        [row] = await app.store.outbox.by_kind("notice")
        assert row.status is DeliveryStatus.MISSED and adapter.calls == 0
        assert english(row.reason) == "no longer relevant: it expired before it could be sent"


async def test_a_row_whose_next_retry_falls_after_expiry_is_missed_at_once(tmp_path: Path) -> None:
    clock = FixedClock()
    adapter = FaultyAdapter(clock=clock, down_until=clock.now() + timedelta(hours=1))
    async with app_with(tmp_path, clock, adapter) as app:
        await notify(app, await people_on(app, "test", 1), "soon", expires_at=clock.now() + timedelta(seconds=1))
        await drain(app)  # the backoff after this failure is at least a second: past the expiry
        [row] = await app.store.outbox.by_kind("notice")
        assert row.status is DeliveryStatus.MISSED and adapter.calls == 1
        assert english(row.reason) == \
            "no longer relevant: it expired before it could be sent (last error: server error 503)"
        assert row.attempt_platform == "test"


async def test_a_reminder_retried_past_its_meetings_start_is_missed(down: Harness) -> None:
    h = down
    bob = await _bob(h)
    await h.say("demo-coordinator", "meeting create disinformation Standup 2026-11-23 14:00 remind:1h")
    _faulty(h).down_until = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    h.clock.current = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    while h.clock.current <= datetime(2026, 11, 23, 14, 5, tzinfo=UTC):
        await h.app.run_due()
        h.clock.advance(minutes=1)
    [reminder] = await _rows_to(h, "reminder", bob)
    assert reminder.expires_at == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert reminder.status is DeliveryStatus.MISSED
    assert english(reminder.reason) == "no longer relevant: the meeting had started (last error: server error 503)"
    assert _faulty(h).sent == []


async def test_a_missed_digest_hands_its_items_to_the_next_one(down: Harness) -> None:
    h = down
    bob = await _bob(h, mode="mode:daily")
    adapter = _faulty(h)
    await h.say("demo-coordinator", "announce new disinformation First news")
    await h.say("demo-coordinator", "announce confirm 1")
    adapter.down_until = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # down from today until after tomorrow's digest
    h.clock.current = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # bob's first digest is due (UTC, 08:00)
    await h.app.run_due()
    [first] = await _rows_to(h, "digest", bob)
    assert first.expires_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # when the next one is due
    h.clock.current = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    await h.say("demo-coordinator", "announce new disinformation Second news")
    await h.say("demo-coordinator", "announce confirm 2")
    while h.clock.current < datetime(2026, 11, 25, 10, 0, tzinfo=UTC):
        h.clock.advance(hours=1)
        await h.app.run_due()
    first, second = await _rows_to(h, "digest", bob)
    assert first.status is DeliveryStatus.MISSED
    assert english(first.reason).startswith("no longer relevant: the next digest was due")
    assert second.status is DeliveryStatus.SENT
    [digest] = adapter.dms_to("bob")
    text = digest.plain_text()
    assert "2 announcements:" in text and "First news" in text and "Second news" in text
    h.clock.advance(days=1)
    await h.app.run_due()
    assert len(adapter.dms_to("bob")) == 1  # nothing left over, nothing twice


async def test_a_digest_that_gives_up_before_it_expires_hands_its_items_to_the_next_one(tmp_path: Path,
                                                                                        clock: FixedClock) -> None:
    """The retry deadline can end before a digest's relevance does (a weekly digest lives a week): the failed
    digest's items still reach the person in the next one."""
    settings = console_settings(tmp_path).model_copy(
        update={"delivery": console_settings(tmp_path).delivery.model_copy(update={"retry_for_hours": 1.0})})
    async with harness(settings, clock, FaultyAdapter(clock=clock)) as h:
        bob = await _bob(h, mode="mode:daily")
        adapter = _faulty(h)
        await h.say("demo-coordinator", "announce new disinformation First news")
        await h.say("demo-coordinator", "announce confirm 1")
        adapter.down_until = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # down for three hours of the day
        h.clock.current = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
        while h.clock.current < datetime(2026, 11, 24, 12, 0, tzinfo=UTC):
            await h.app.run_due()
            h.clock.advance(minutes=5)
        [first] = await _rows_to(h, "digest", bob)
        assert first.status is DeliveryStatus.FAILED and first.retryable
        assert english(first.reason).startswith("gave up after retrying for 60 minutes: server error 503")
        while h.clock.current < datetime(2026, 11, 25, 9, 0, tzinfo=UTC):
            h.clock.advance(hours=1)
            await h.app.run_due()
        first, second = await _rows_to(h, "digest", bob)
        assert second.status is DeliveryStatus.SENT
        [digest] = adapter.dms_to("bob")
        assert "First news" in digest.plain_text()


async def test_a_row_that_expires_while_waiting_for_a_send_slot_is_missed_not_sent(tmp_path: Path) -> None:
    clock = FixedClock()

    class Slow(FaultyAdapter):
        async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                              delivery_key: str) -> SentMessage:
            self.clock.advance(seconds=10)  # a slow platform: each send takes ten seconds
            return await super().send_direct(recipient, message, delivery_key=delivery_key)

    adapter = Slow(clock=clock)
    async with app_with(tmp_path, clock, adapter, concurrency=1) as app:
        start = clock.now()
        await notify(app, await people_on(app, "test", 3), "k", expires_at=start + timedelta(seconds=5))
        await drain(app)
        assert adapter.sent_at == [start + timedelta(seconds=10)]  # the first went before it expired
        rows = await app.store.outbox.by_kind("notice")
        assert sorted(r.status for r in rows) == [DeliveryStatus.MISSED, DeliveryStatus.MISSED, DeliveryStatus.SENT]
