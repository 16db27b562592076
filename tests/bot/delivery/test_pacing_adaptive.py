"""AdaptiveBucket (issue 23): a platform budget that follows the platform's 429s — down multiplicatively at once,
up a step after each clean period, between a floor and a ceiling. The clock is injected: nothing sleeps."""

from __future__ import annotations

import pytest

from bot.delivery.pacing import AdaptiveBucket, Pace


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bucket(clock: Clock, start: float = 20.0, **kwargs: float | None) -> AdaptiveBucket:
    options: dict[str, float | None] = {"floor": 1.0, "ceiling": 40.0, "decrease": 0.5, "clean_seconds": 60.0}
    options.update(kwargs)
    return AdaptiveBucket(start, 1.0, floor=options["floor"] or 1.0, ceiling=options["ceiling"],
                          decrease=options["decrease"] or 0.5, clean_seconds=options["clean_seconds"] or 60.0,
                          monotonic=clock.monotonic, sleep=clock.sleep)


def test_a_rate_limit_cuts_the_rate_and_takes_the_waits_tokens() -> None:
    clock = Clock()
    adaptive = bucket(clock)
    adaptive.penalise(2.0)  # the worker's path for a platform-wide 429
    assert adaptive.rate == 10.0 and adaptive.decreases == 1
    assert adaptive.delay() == pytest.approx((1 + 2.0 * 10.0) / 10.0)  # the debt, at the new rate


def test_429s_that_arrive_together_count_once() -> None:
    clock = Clock()
    adaptive = bucket(clock)
    for _ in range(8):  # the requests that were in flight when the budget overshot
        adaptive.slow_down()
    assert adaptive.rate == 10.0 and adaptive.decreases == 1
    clock.now += 1.5
    adaptive.slow_down()  # a new overshoot, later
    assert adaptive.rate == 5.0 and adaptive.decreases == 2


def test_the_rate_never_drops_below_the_floor() -> None:
    clock = Clock()
    adaptive = bucket(clock, floor=4.0)
    for _ in range(5):
        clock.now += 2
        adaptive.slow_down()
    assert adaptive.rate == 4.0


async def test_the_rate_creeps_up_after_each_clean_period_up_to_the_ceiling() -> None:
    clock = Clock()
    adaptive = bucket(clock, start=20.0, ceiling=22.0)
    adaptive.slow_down()
    assert adaptive.rate == 10.0
    clock.now += 59.0
    await adaptive.acquire()
    assert adaptive.rate == 10.0  # not clean for a minute yet
    clock.now += 1.0
    await adaptive.acquire()
    assert adaptive.rate == 11.0  # +max(1, 5 %)
    for _ in range(30):
        clock.now += 60.0
        await adaptive.acquire()
    assert adaptive.rate == 22.0  # the ceiling, never beyond


async def test_a_high_rate_creeps_up_by_five_percent_and_without_ceiling_keeps_going() -> None:
    clock = Clock()
    adaptive = bucket(clock, start=100.0, ceiling=None)
    clock.now += 60.0
    await adaptive.acquire()
    assert adaptive.rate == pytest.approx(105.0)


async def test_a_429_restarts_the_clean_period() -> None:
    clock = Clock()
    adaptive = bucket(clock, start=20.0)
    adaptive.slow_down()
    clock.now += 50.0
    adaptive.slow_down()
    assert adaptive.rate == 5.0
    clock.now += 30.0
    await adaptive.acquire()
    assert adaptive.rate == 5.0  # 80 s since the first 429, but only 30 since the last


async def test_paced_sends_follow_the_learnt_rate() -> None:
    clock = Clock()
    adaptive = bucket(clock, start=20.0)
    for _ in range(21):
        await adaptive.acquire()
    assert clock.now == pytest.approx(1.0)  # 20 a second, after a burst of one
    adaptive.slow_down()
    started = clock.now
    for _ in range(10):
        await adaptive.acquire()
    assert clock.now - started == pytest.approx(1.0, abs=0.11)  # now 10 a second


def test_the_workers_hand_back_spacing_reads_the_current_rate() -> None:
    clock = Clock()
    adaptive = bucket(clock, start=20.0)
    pace = Pace(adaptive, monotonic=clock.monotonic)
    first = pace.later(0.0)
    second = pace.later(0.0)
    assert second - first == pytest.approx(1 / 20)
    adaptive.slow_down()
    third = pace.later(0.0)
    assert third - second == pytest.approx(1 / 20)  # spaced after the last at the old rate …
    assert pace.later(0.0) - third == pytest.approx(1 / 10)  # … and from then on at the new one


async def test_spare_says_whether_the_budget_is_unused() -> None:
    clock = Clock()
    adaptive = bucket(clock, start=10.0)
    assert adaptive.spare()
    await adaptive.acquire()
    assert not adaptive.spare()
    clock.now += 0.2
    assert adaptive.spare()


def test_impossible_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        AdaptiveBucket(10.0, 1.0, floor=20.0)
    with pytest.raises(ValueError):
        AdaptiveBucket(10.0, 1.0, floor=1.0, ceiling=5.0)
    with pytest.raises(ValueError):
        AdaptiveBucket(10.0, 1.0, floor=1.0, decrease=1.0)
