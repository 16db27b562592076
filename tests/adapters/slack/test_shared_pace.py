"""With several processes posting for one workspace (issue 22), each keeps to its share of Slack's other limits
too: a channel's one post a second (with its short burst) and conversations.open's per-minute tier, not only the
workspace budget. The real slack_sdk client against the fake Slack; the delivery's clock and sleep are the test's,
so the waits are read exactly and nothing sleeps."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.slack.delivery import OPENS_PER_SECOND, SlackDelivery
from adapters.slack.retries import delivery_client
from bot.delivery.model import WorkerLease
from bot.messages import RenderedMessage
from bot.model import Identity
from tests.adapters.slack.test_delivery import runner
from tests.adapters.slack.test_slack_adapter import slack_app, slack_settings
from tests.bot.delivery.test_pacing_adaptive import Clock as Ticks
from tests.fakes.slack_server import FakeSlack
from tests.support import FixedClock


async def posts(tmp_path: Path, share: float) -> tuple[list[float], list[float]]:
    """The waits before 3 posts to one channel, and before 3 DM opens, at ``share`` of the limits."""
    async with FakeSlack() as fake:
        ticks = Ticks()  # the monotonic clock a sleep moves
        delivery = SlackDelivery(delivery_client(slack_settings(tmp_path, fake).slack), monotonic=ticks.monotonic,
                                 sleep=ticks.sleep)
        delivery.set_share(share)
        for number in range(3):
            await delivery.send_channel("CTOPIC", RenderedMessage(body=("News",)), delivery_key=f"post:{number}")
        channel, ticks.slept = ticks.slept, []
        for user in ("U1", "U2", "U3"):
            await delivery.open_direct(Identity("slack", user))
        assert len(fake.messages("CTOPIC")) == 3
        return channel, ticks.slept


async def test_alone_a_channel_takes_its_burst_at_once(tmp_path: Path) -> None:
    channel, opens = await posts(tmp_path, 1.0)
    assert channel == []  # a burst of three
    assert opens == pytest.approx([1 / OPENS_PER_SECOND] * 2)


async def test_one_of_two_processes_keeps_to_half_of_each_limit(tmp_path: Path) -> None:
    channel, opens = await posts(tmp_path, 0.5)
    assert channel == pytest.approx([1.0, 2.0])  # half the burst, then one post every two seconds
    assert opens == pytest.approx([2 / OPENS_PER_SECOND] * 2)


@pytest.mark.postgresql_only
async def test_the_app_gives_the_slack_delivery_its_share_beside_the_workspace_budget(tmp_path: Path) -> None:
    """The composition root hands the outlet's other pacing to the budget share with its bucket."""
    clock = FixedClock()
    async with FakeSlack() as fake, slack_app(tmp_path, fake, clock) as app:
        slack = runner(app)
        assert app.budget is not None and slack.outlet.shared == (slack.delivery,)
        now = clock.now()
        await app.store.leases.acquire(WorkerLease("other", 2, "elsewhere", now, now + timedelta(minutes=1)))
        assert await app.budget.refresh() == 2
        assert slack.outlet.bucket is not None and slack.outlet.bucket.share == 0.5
        assert slack.delivery.share == 0.5
