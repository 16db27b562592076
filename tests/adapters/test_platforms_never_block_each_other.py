"""Slack and Discord side by side — the real slack_sdk and discord.py clients against both loopback fakes —
with Slack answering 429 Retry-After 40: the Discord copies of the same notice go on time, Slack's wait for
Slack alone (issue 16: a 40 s Slack Retry-After used to hold the Discord copies for 40 s)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from adapters.slack.app import SlackRunner
from bot.delivery.model import DeliveryStatus
from bot.messages import Message
from bot.model import Identity
from tests.adapters.both_platforms import SLACK_USERS, both
from tests.fakes.discord_server import ALICE, BOB, FakeDiscord
from tests.fakes.faults import RATE_LIMITED, Fault
from tests.fakes.slack_server import FakeSlack
from tests.support import FixedClock, english


async def test_discord_copies_go_on_time_while_slack_asks_to_wait_40_seconds(tmp_path: Path) -> None:
    clock = FixedClock()
    start = clock.now()
    async with FakeSlack() as slack, FakeDiscord() as discord:
        for user in SLACK_USERS:
            slack.add_user(user)
        async with both(tmp_path, slack, discord, clock) as app:
            people = []
            for identity in [Identity("slack", u) for u in SLACK_USERS] + \
                    [Identity("discord", str(u.id)) for u in (ALICE, BOB)]:
                people.append((await app.store.people.ensure_identity(identity, identity.external_id, start))
                              .person_id)
            slack.faults.add(Fault("chat.postMessage", RATE_LIMITED, times=None, retry_after=40))
            await app.services.notifier.to_people(people, Message(body=("Meeting moved to Thursday",)), key="news")

            async with asyncio.timeout(10):  # a guard only: nothing in this test waits out the 40 s
                while await app.worker.run_due():
                    pass

            rows = {row.person_id: row for row in await app.store.outbox.by_kind("notice")}
            on_discord = [rows[p] for p in people[len(SLACK_USERS):]]
            on_slack = [rows[p] for p in people[:len(SLACK_USERS)]]
            assert all(row.status is DeliveryStatus.SENT and row.sent is not None and row.sent.platform == "discord"
                       for row in on_discord)
            assert [len(discord.dm_messages_to(u.id)) for u in (ALICE, BOB)] == [1, 1]
            for row in on_slack:  # held back for Slack's 40 s, without counting an attempt
                assert row.status is DeliveryStatus.PENDING and row.attempts == 0
                assert row.attempt_platform == "slack" and english(row.reason) == "Slack: rate limited."
                assert row.not_before >= start + timedelta(seconds=40)
            assert slack.faults.hits("chat.postMessage") <= len(SLACK_USERS)
            circuit = await app.store.circuits.get("slack")
            assert circuit is not None and circuit.retry_at == start + timedelta(seconds=40)
            assert circuit.failures == 0 and circuit.opened_at is None  # a rate limit is not an outage
            assert await app.store.circuits.get("discord") is None
            slack_runner = next(r for r in app.platform_runners if isinstance(r, SlackRunner))
            bucket = slack_runner.outlet.bucket
            assert bucket is not None and bucket.delay() > 30  # Slack's own pace slowed down too
