"""The retry policy (deadline, relevance, backoff) and the pacing a row waits for, as plain values."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.model import Delivery, DeliveryStatus
from bot.delivery.pacing import Pace, TokenBucket
from bot.delivery.retry import EXPIRED, GiveUp, Later, Missed, RetryPolicy, next_step
from bot.i18n import Translator

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_seconds=2.0, max_seconds=300.0, retry_for=timedelta(hours=24))


def _row(**fields: object) -> Delivery:
    values: dict[str, object] = {
        "id": 1, "dedupe_key": "k", "kind": "notice", "person_id": 1, "platform": None, "channel_id": None,
        "topic_id": None, "payload": "{}", "status": DeliveryStatus.SENDING, "attempts": 1, "not_before": NOW,
        "sent": None, "reason": None, **fields}
    return Delivery(**values)  # type: ignore[arg-type]


def _en(verdict: GiveUp | Missed) -> str:
    return Translator.load().render(verdict.reason, "en")


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempts, cap in ((1, 2.0), (2, 4.0), (5, 32.0), (9, 300.0), (200, 300.0)):
        delay = POLICY.backoff(attempts, rng)
        assert cap / 2 <= delay <= cap


def test_a_first_failure_starts_the_clock_and_retries() -> None:
    assert next_step(POLICY, _row(), NOW, NOW + timedelta(seconds=3), "boom", EXPIRED) == \
        Later(NOW + timedelta(seconds=3))


def test_the_last_retry_happens_at_the_deadline_then_the_row_gives_up() -> None:
    since = NOW - timedelta(hours=23, minutes=59)
    row = _row(retrying_since=since)
    assert next_step(POLICY, row, NOW, NOW + timedelta(minutes=5), "boom", EXPIRED) == Later(since + POLICY.retry_for)
    verdict = next_step(POLICY, row, since + POLICY.retry_for, NOW + timedelta(minutes=5), "HTTP 503", EXPIRED)
    assert isinstance(verdict, GiveUp)
    assert _en(verdict) == "gave up after retrying for 24 hours: HTTP 503"


@pytest.mark.parametrize(("span", "said"), [(timedelta(seconds=30), "30 seconds"), (timedelta(minutes=1), "60 seconds"),
                                            (timedelta(minutes=20), "20 minutes"), (timedelta(hours=1), "60 minutes"),
                                            (timedelta(hours=3), "3 hours")])
def test_how_long_it_tried_is_said_in_a_sensible_unit(span: timedelta, said: str) -> None:
    short = RetryPolicy(retry_for=span)
    verdict = next_step(short, _row(retrying_since=NOW - span), NOW, NOW, "x", EXPIRED)
    assert isinstance(verdict, GiveUp) and _en(verdict) == f"gave up after retrying for {said}: x"


def test_relevance_comes_before_the_deadline_and_pacing_only_checks_relevance() -> None:
    row = _row(expires_at=NOW + timedelta(minutes=1), retrying_since=NOW - timedelta(days=2))
    missed = next_step(POLICY, row, NOW, NOW + timedelta(minutes=1), "HTTP 503", EXPIRED)
    assert isinstance(missed, Missed)
    assert _en(missed) == "no longer relevant: it expired before it could be sent (last error: HTTP 503)"
    assert next_step(POLICY, row, NOW, NOW + timedelta(seconds=30), None, EXPIRED, streak=False) == \
        Later(NOW + timedelta(seconds=30))


class Clock:
    """A monotonic clock that moves only when told; ``sleep`` records the wait (``advance``: and lets it pass)."""

    def __init__(self, *, advance: bool = True) -> None:
        self.now = 0.0
        self.advance = advance
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.advance:
            self.now += seconds


async def test_a_bucket_serves_waiters_in_order_and_refuses_a_wait_beyond_patience() -> None:
    clock = Clock()
    bucket = TokenBucket(2.0, 1.0, monotonic=clock, sleep=clock.sleep)
    assert await bucket.acquire_within(0)  # the saved-up token
    assert not await bucket.acquire_within(0.4)  # the next one is half a second away
    assert await bucket.acquire_within(0.5)
    assert clock.slept == [0.5]
    bucket.penalise(10)  # a 429 asked for ten seconds
    assert bucket.delay() == pytest.approx(10.5)


async def test_rows_handed_back_return_one_token_apart() -> None:
    clock = Clock(advance=False)  # four rows arriving together: each reserves the next token
    pace = Pace(TokenBucket(1.0, 1.0, monotonic=clock, sleep=clock.sleep), monotonic=clock)
    assert await pace.take(2.0)
    assert await pace.take(2.0) and await pace.take(2.0)  # one and two seconds away: worth waiting
    assert clock.slept == [1.0, 2.0]
    assert not await pace.take(2.0)  # the fourth is three seconds away: it goes back to the database
    assert [round(pace.later(), 3) for _ in range(3)] == [3.0, 4.0, 5.0]


async def test_a_self_paced_platform_is_only_looked_at() -> None:
    clock = Clock()
    bucket = TokenBucket(1.0, 1.0, monotonic=clock, sleep=clock.sleep)
    pace = Pace(bucket, self_paced=True, monotonic=clock)
    bucket.penalise(30)
    assert not await pace.take(2.0) and clock.slept == []
    assert await Pace(None).take(0)
