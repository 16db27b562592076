"""The fake Slack's rate limits behave as Slack's do for a fan-out of DMs: chat.postMessage one a second per
channel with short bursts under a workspace cap, conversations.open per minute (Tier 3), 429 with an integer
Retry-After, and nothing limited unless a test arms it."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import slack_limits
from tests.fakes.slack_limits import RateLimit, RateLimits, SlidingWindow, TokenBucket
from tests.fakes.slack_server import FakeSlack


def web_client(fake: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url, **kwargs)


def test_token_bucket_allows_a_short_burst_then_one_a_second() -> None:
    bucket = TokenBucket(1.0, 3)
    for _ in range(3):
        assert bucket.wait(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait(0.0) == pytest.approx(1.0)
    assert bucket.wait(0.5) == pytest.approx(0.5)
    assert bucket.wait(1.0) == 0.0
    bucket.take(1.0)
    assert bucket.wait(1.0) == pytest.approx(1.0)
    assert bucket.wait(100.0) == 0.0  # refills to the burst, never beyond
    for _ in range(3):
        bucket.take(100.0)
    assert bucket.wait(100.0) > 0


def test_sliding_window_counts_the_last_minute() -> None:
    window = SlidingWindow(50, 60.0)
    for second in range(50):
        assert window.wait(float(second)) == 0.0
        window.take(float(second))
    assert window.wait(50.0) == pytest.approx(10.0)  # the first call leaves the window at 60 s
    assert window.wait(60.0) == 0.0


def test_a_refused_call_spends_nothing_on_the_other_limits() -> None:
    limits = RateLimits()
    limits.add("chat.postMessage", RateLimit("channel", lambda: TokenBucket(1.0, 1), per_channel=True))
    limits.add("chat.postMessage", RateLimit("workspace", lambda: SlidingWindow(1, 1.0)))
    assert limits.check("chat.postMessage", "D1", 0.0) is None
    refused = limits.check("chat.postMessage", "D2", 0.1)
    assert refused is not None and refused[0] == "workspace"
    assert limits.check("chat.postMessage", "D2", 1.0) is None  # D2's own token was not spent by the 429
    assert limits.refused == {("chat.postMessage", "workspace"): 1}


def test_re_arming_a_scope_replaces_it() -> None:
    limits = RateLimits()
    limits.add("users.info", RateLimit("tier", lambda: SlidingWindow(1, 60.0)))
    assert limits.check("users.info", "", 0.0) is None
    assert limits.check("users.info", "", 0.0) is not None
    limits.add("users.info", RateLimit("tier", lambda: SlidingWindow(2, 60.0)))
    assert limits.check("users.info", "", 0.0) is None
    limits.clear("users.info")
    assert all(limits.check("users.info", "", 0.0) is None for _ in range(10))


async def test_nothing_is_rate_limited_unless_armed() -> None:
    async with FakeSlack() as fake:
        fake.add_user("U1")
        client = web_client(fake)
        for _ in range(20):
            await client.chat_postMessage(channel="U1", text="x")
        for _ in range(60):
            await client.conversations_open(users="U1")
        assert fake.ratelimited() == 0


async def test_dm_fan_out_is_limited_per_channel_not_across_channels() -> None:
    async with FakeSlack() as fake:
        users = [f"U{i}" for i in range(10)]
        for user in users:
            fake.add_user(user)
        fake.enforce_slack_limits(workspace_per_second=100)
        client = web_client(fake)
        for user in users:  # ten DMs at once: each is its own channel
            await client.chat_postMessage(channel=user, text="hello")
        # The burst of one DM is spent whether it is named by user id or by channel id.
        dm = fake.dm_channel("U0")
        await client.chat_postMessage(channel=dm, text="2")
        await client.chat_postMessage(channel="U0", text="3")
        with pytest.raises(SlackApiError) as limited:
            await client.chat_postMessage(channel=dm, text="4")
        assert limited.value.response.status_code == 429
        assert limited.value.response["error"] == "ratelimited"
        assert limited.value.response.headers["Retry-After"] == "1"
        assert fake.ratelimited("chat.postMessage") == 1
        assert fake.ratelimited("chat.postMessage", scope="channel") == 1
        assert fake.ratelimited("chat.postMessage", scope="workspace") == 0
        assert [m["text"] for m in fake.messages(dm)] == ["hello", "2", "3"]


async def test_workspace_cap_refuses_posts_to_fresh_channels() -> None:
    async with FakeSlack() as fake:
        users = [f"U{i}" for i in range(6)]
        for user in users:
            fake.add_user(user)
        fake.enforce_slack_limits(workspace_per_second=5)
        client = web_client(fake)
        for user in users[:5]:
            await client.chat_postMessage(channel=user, text="x")
        with pytest.raises(SlackApiError) as limited:
            await client.chat_postMessage(channel=users[5], text="x")
        assert int(limited.value.response.headers["Retry-After"]) >= 1
        assert fake.ratelimited("chat.postMessage", scope="workspace") == 1
        assert fake.messages(users[5]) == []


async def test_conversations_open_is_tier_3_per_minute() -> None:
    async with FakeSlack() as fake:
        per_minute = slack_limits.TIER_PER_MINUTE[slack_limits.METHOD_TIERS["conversations.open"]]
        assert per_minute == 50
        users = [f"U{i}" for i in range(per_minute + 1)]
        for user in users:
            fake.add_user(user)
        fake.enforce_slack_limits()
        client = web_client(fake)
        for user in users[:per_minute]:
            await client.conversations_open(users=user)
        with pytest.raises(SlackApiError) as limited:
            await client.conversations_open(users=users[-1])
        assert 1 <= int(limited.value.response.headers["Retry-After"]) <= 60
        assert fake.ratelimited("conversations.open", scope="tier") == 1
        assert fake.ratelimited("conversations.open") == 1
        assert fake.ratelimited("chat.postMessage") == 0
