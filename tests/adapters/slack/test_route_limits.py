"""Slack limits each Web API method on its own (issue 16, item 3): a 429 on conversations.open holds back only the
people whose DM must still be opened — DMs already open and channel posts go on, and no further
conversations.open is sent until Retry-After has passed. The real slack_sdk client, through the real delivery
worker, against the fake Slack with faults armed; nothing waits out the 40 s."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.slack.delivery import SlackDelivery
from adapters.slack.retries import delivery_client
from app.assembly import App, build_app
from bot.delivery.config import Outlet
from bot.delivery.errors import TransientDeliveryError
from bot.delivery.model import DeliveryKind, DeliveryStatus, SentMessage
from bot.delivery.pacing import TokenBucket
from bot.messages import Message, RenderedMessage
from bot.model import Identity
from tests.adapters.slack.test_delivery import enqueue_channel, runner
from tests.adapters.slack.test_slack_adapter import install, slack_settings
from tests.bot.delivery.fakes import settings_for
from tests.fakes.faults import RATE_LIMITED, Fault
from tests.fakes.slack_server import FakeSlack
from tests.support import FixedClock, english

OPEN_DM = "conversations.open"
CACHED = ("U1", "U2", "U3")
UNOPENED = ("U4", "U5", "U6")
LATE = ("U7", "U8")
TEXT = "Meeting moved to Thursday"


async def people(app: App, fake: FakeSlack, clock: FixedClock) -> dict[str, int]:
    """Everyone in CACHED and UNOPENED; the CACHED have their DM channel stored from an earlier delivery."""
    ids = {}
    for user in CACHED + UNOPENED:
        record = await app.store.people.ensure_identity(Identity("slack", user), user, clock.now())
        ids[user] = record.person_id
        if user in CACHED:
            await app.store.people.set_dm_channel(Identity("slack", user), fake.dm_channel(user))
    return ids


async def drain(app: App) -> None:
    async with asyncio.timeout(10):  # a guard only: nothing here waits for a limit to lift
        while await app.worker.run_due():
            pass


async def test_a_dm_open_limit_holds_only_the_dms_still_to_open(tmp_path: Path) -> None:
    clock = FixedClock()
    start = clock.now()
    async with FakeSlack() as fake:
        settings = slack_settings(tmp_path, fake)
        # One send at a time, so "one conversations.open" is exact: with concurrent sends, opens already in
        # flight when the first 429 comes back get their own answer; none starts once the route is limited.
        settings.delivery.concurrency = 1
        install(fake, settings)
        async with build_app(settings, clock=clock) as app:
            ids = await people(app, fake, clock)
            fake.faults.add(Fault(OPEN_DM, RATE_LIMITED, times=None, retry_after=40))
            await app.services.notifier.to_people(list(ids.values()), Message(body=(TEXT,)), key="moved")
            await enqueue_channel(app, clock, "CTOPIC", Message(body=(TEXT,)), key="topic")
            await drain(app)

            rows = {row.person_id: row for row in await app.store.outbox.by_kind("notice")}
            for user in CACHED:  # at once, through the DM channel already known
                assert rows[ids[user]].status is DeliveryStatus.SENT and len(fake.messages(user)) == 1
            [post] = await app.store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)
            assert post.status is DeliveryStatus.SENT and len(fake.messages("CTOPIC")) == 1
            for user in UNOPENED:  # each waits for the route, without an attempt or a retry deadline
                row = rows[ids[user]]
                assert row.status is DeliveryStatus.PENDING and row.attempts == 0 and row.retrying_since is None
                assert english(row.reason) == "Slack: rate limited."
                assert start + timedelta(seconds=39) <= row.not_before <= start + timedelta(seconds=40)
                assert fake.messages(user) == []
            assert len(fake.calls_to(OPEN_DM)) == 1  # the others were refused here, without a request
            assert await app.store.circuits.get("slack") is None  # Slack itself is not paused
            bucket = runner(app).outlet.bucket
            assert bucket is not None and bucket.delay() < 1  # nor slowed down


@asynccontextmanager
async def slack_with_clock(tmp_path: Path, fake: FakeSlack,
                           clock: FixedClock) -> AsyncIterator[tuple[App, SlackDelivery]]:
    """The real Slack delivery (the production client, against the fake) whose monotonic clock is the test's,
    so a limit lifts when the test moves the clock."""
    client = delivery_client(slack_settings(tmp_path, fake).slack)
    delivery = SlackDelivery(client, monotonic=lambda: clock.now().timestamp())
    async with build_app(settings_for(tmp_path), clock=clock, console_output=io.StringIO(),
                         extra_adapters=(lambda _d: Outlet(delivery, TokenBucket(50.0, 1.0)),)) as app:
        yield app, delivery


async def test_the_dms_held_back_go_once_the_limit_lifts(tmp_path: Path) -> None:
    clock = FixedClock()
    start = clock.now()
    async with FakeSlack() as fake:
        async with slack_with_clock(tmp_path, fake, clock) as (app, _):
            ids = await people(app, fake, clock)
            limit = fake.faults.add(Fault(OPEN_DM, RATE_LIMITED, times=None, retry_after=40))
            await app.services.notifier.to_people(list(ids.values()), Message(body=(TEXT,)), key="moved")
            await drain(app)
            opens = len(fake.calls_to(OPEN_DM))
            assert 1 <= opens <= len(UNOPENED)  # concurrent sends: only opens in flight before the 429 went out
            held = [row for row in await app.store.outbox.by_kind("notice") if row.status is DeliveryStatus.PENDING]
            assert len(held) == len(UNOPENED) and all(row.not_before == start + timedelta(seconds=40) for row in held)

            clock.advance(seconds=20)  # a notice to more people while the limit lasts: no further open is tried
            late = [(await app.store.people.ensure_identity(Identity("slack", u), u, clock.now())).person_id
                    for u in LATE]
            await app.services.notifier.to_people(late, Message(body=(TEXT,)), key="late")
            await drain(app)
            assert len(fake.calls_to(OPEN_DM)) == opens
            assert all(fake.messages(user) == [] for user in UNOPENED + LATE)
            assert all(row.not_before == start + timedelta(seconds=40)
                       for row in await app.store.outbox.by_kind("notice") if row.status is DeliveryStatus.PENDING)

            fake.faults.remove(limit)
            clock.advance(seconds=20)
            await drain(app)
            assert {row.status for row in await app.store.outbox.by_kind("notice")} == {DeliveryStatus.SENT}
            assert all(len(fake.messages(user)) == 1 for user in CACHED + UNOPENED + LATE)
            assert len(fake.calls_to(OPEN_DM)) == opens + len(UNOPENED + LATE)  # one each: the last round's


async def test_an_edit_limit_holds_edits_only_and_a_post_limit_stays_workspace_wide(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        async with slack_with_clock(tmp_path, fake, clock) as (_, slack):
            rendered = RenderedMessage(body=(TEXT,))
            sent = await slack.send_channel("CTOPIC", rendered, delivery_key="a")
            fake.faults.add(Fault("chat.update", RATE_LIMITED, times=None, retry_after=30))
            for _ in range(2):
                with pytest.raises(TransientDeliveryError) as limited:
                    await slack.edit(sent, RenderedMessage(body=("Moved again",)))
                assert (limited.value.route, limited.value.rate_limited) == ("chat.update", True)
            assert len(fake.calls_to("chat.update")) == 1 and limited.value.retry_after == 30
            await slack.send_channel("CTOPIC", rendered, delivery_key="b")  # posts are another method

            fake.faults.add(Fault("chat.postMessage", RATE_LIMITED, retry_after=30))
            with pytest.raises(TransientDeliveryError) as posting:
                await slack.send_channel("COTHER", rendered, delivery_key="c")
            assert posting.value.rate_limited and posting.value.route is None  # the workspace's: Slack pauses
            assert isinstance(await slack.send_channel("COTHER", rendered, delivery_key="c"), SentMessage)
