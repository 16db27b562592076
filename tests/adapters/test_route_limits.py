"""The adapters' per-route limits on an injected monotonic clock: a limited route is refused with the time left,
without a request, until its limit lifts; other routes and platform-wide limits are not its business."""

from __future__ import annotations

import logging

import pytest

from adapters.route_limits import RouteLimits
from bot.delivery.circuit import RATE_LIMIT_DEFAULT_SECONDS
from bot.delivery.errors import TransientDeliveryError


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited(route: str | None, seconds: float | None) -> TransientDeliveryError:
    return TransientDeliveryError("rate limited", seconds, rate_limited=True, route=route)


def test_a_limited_route_is_refused_with_the_time_left_until_it_lifts() -> None:
    clock = Monotonic()
    limits = RouteLimits("slack", "Slack: rate limited.", monotonic=clock)
    limits.note(limited("conversations.open", 40))
    clock.now += 15
    with pytest.raises(TransientDeliveryError) as refused:
        limits.check("conversations.open")
    error = refused.value
    assert (error.route, error.retry_after, error.rate_limited, error.may_have_landed) == \
        ("conversations.open", 25, True, False)
    assert error.reason == "Slack: rate limited."
    limits.check("chat.update")  # another route goes
    clock.now += 25
    limits.check("conversations.open")  # lifted
    assert limits.remaining("conversations.open") is None


def test_only_route_scoped_rate_limits_are_kept() -> None:
    limits = RouteLimits("discord", "Discord: rate limited.", monotonic=Monotonic())
    limits.note(limited(None, 60))  # platform-wide: the worker pauses the platform, the adapter keeps nothing
    limits.note(TransientDeliveryError("server error 503", route="dm-open"))  # not a rate limit
    limits.note(limited("dm-open", 0))  # "Retry-After: 0" asks for no wait
    assert limits.remaining("dm-open") is None


def test_a_limit_without_retry_after_lasts_the_workers_default_and_a_shorter_one_does_not_cut_it() -> None:
    clock = Monotonic()
    limits = RouteLimits("discord", "Discord: rate limited.", monotonic=clock)
    limits.note(limited("channel:1", None))
    assert limits.remaining("channel:1") == RATE_LIMIT_DEFAULT_SECONDS
    limits.note(limited("channel:2", 60))
    limits.note(limited("channel:2", 10))  # an answer from a request sent earlier
    assert limits.remaining("channel:2") == 60


def test_the_log_names_the_route_and_nothing_else(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="adapters.route_limits")
    RouteLimits("discord", "Discord: rate limited.", monotonic=Monotonic()).note(limited("dm-open", 60))
    [record] = caplog.records
    assert record.getMessage() == \
        "delivery: discord rate-limited dm-open; calls to it wait 60 s, the rest of discord goes on"
