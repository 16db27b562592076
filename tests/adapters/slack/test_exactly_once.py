"""Exactly once under faults on Slack (issue 16, item 1): the real slack_sdk clients, through the real delivery
worker, against the fake Slack with faults armed.

slack_sdk's default handler re-sent a post whose connection dropped after Slack stored it, below the worker, so
no read-back ran: one copy per fault too many. Now nothing re-sends a post inside the client; the error reaches
the worker flagged ``may_have_landed``, and the retry reads the conversation back (on by default).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from adapters.slack.settings import SlackSettings
from app.assembly import App
from bot.delivery.errors import TransientDeliveryError
from bot.delivery.model import DeliveryKind, DeliveryStatus, SentMessage
from bot.messages import Message, RenderedMessage
from bot.model import Identity
from tests.adapters.slack.test_delivery import enqueue_channel, run_until_settled, runner
from tests.adapters.slack.test_slack_adapter import slack_app
from tests.fakes.faults import (
    DROP_AFTER_STORE,
    DROP_BEFORE_STORE,
    ERROR_AFTER_STORE,
    RATE_LIMITED,
    Fault,
    FaultKind,
)
from tests.fakes.slack_server import FakeSlack
from tests.support import FixedClock, english

TEXT = "Meeting moved to Thursday"


async def queue_dm(app: App, clock: FixedClock, user_id: str, key: str) -> None:
    record = await app.store.people.ensure_identity(Identity("slack", user_id), user_id.lower(), clock.now())
    await app.services.notifier.to_people([record.person_id], Message(body=(TEXT,)), key=key)


def test_the_read_back_is_on_by_default() -> None:
    assert SlackSettings().dedupe_after_crash is True


@pytest.mark.parametrize("kind", [DROP_AFTER_STORE, ERROR_AFTER_STORE], ids=["dropped", "then-502"])
@pytest.mark.parametrize("where", ["channel", "dm"])
async def test_a_post_stored_before_the_failure_is_recorded_not_posted_again(
        tmp_path: Path, kind: FaultKind, where: str) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        fake.add_user("UMEM")
        async with slack_app(tmp_path, fake, clock) as app:
            fake.faults.add(Fault("chat.postMessage", kind))
            if where == "channel":
                await enqueue_channel(app, clock, "CPUB", Message(body=(TEXT,)), key="k")
            else:
                await queue_dm(app, clock, "UMEM", "k")
            conversation = "CPUB" if where == "channel" else fake.dm_channel("UMEM")
            row_kind = DeliveryKind.MEETING_NOTICE if where == "channel" else DeliveryKind.NOTICE

            await app.run_due()
            [row] = await app.store.outbox.by_kind(row_kind)
            assert row.status is DeliveryStatus.PENDING
            expected = "Network error (ServerDisconnectedError)." if kind is DROP_AFTER_STORE else \
                "Slack: temporary error (fatal_error)."
            assert english(row.reason) == expected
            [stored] = fake.messages(conversation)  # Slack has it; the bot was not told

            await run_until_settled(app, clock)
            [row] = await app.store.outbox.by_kind(row_kind)
            assert row.status is DeliveryStatus.SENT
            assert row.sent == SentMessage("slack", conversation, (stored["ts"],))
            assert fake.messages(conversation) == [stored]
            assert len(fake.calls_to("chat.postMessage")) == 1  # never sent again, in the client or the worker
            assert fake.faults.hits("chat.postMessage", kind) == 1
            assert len(fake.calls_to("conversations.history")) == 1


async def test_a_post_dropped_before_slack_stored_it_is_sent_once_after_the_read_back(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        async with slack_app(tmp_path, fake, clock) as app:
            fake.faults.add(Fault("chat.postMessage", DROP_BEFORE_STORE))
            await enqueue_channel(app, clock, "CPUB", Message(body=(TEXT,)), key="k")
            await app.run_due()
            assert fake.messages("CPUB") == []
            await run_until_settled(app, clock)
            [row] = await app.store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)
            [posted] = fake.messages("CPUB")
            assert row.status is DeliveryStatus.SENT and row.sent is not None
            assert row.sent.message_ids == (posted["ts"],)
            watched = ("chat.postMessage", "conversations.history")
            assert [c.method for c in fake.calls if c.method in watched] == [
                "chat.postMessage", "conversations.history", "chat.postMessage"]


async def test_a_long_rate_limit_returns_at_once_and_reaches_the_worker(tmp_path: Path) -> None:
    """No sleeping out Retry-After inside the client: the adapter raises it, the worker keeps the row."""
    clock = FixedClock()
    async with FakeSlack() as fake:
        async with slack_app(tmp_path, fake, clock) as app:
            fake.faults.add(Fault("chat.postMessage", RATE_LIMITED, retry_after=40))
            with pytest.raises(TransientDeliveryError) as raised:
                async with asyncio.timeout(5):
                    await runner(app).delivery.send_channel("CPUB", RenderedMessage(body=(TEXT,)), delivery_key="a")
            error = raised.value
            assert (error.retry_after, error.rate_limited, error.may_have_landed) == (40.0, True, False)
            assert len(fake.calls_to("chat.postMessage")) == 1 and fake.messages("CPUB") == []

            fake.faults.add(Fault("chat.postMessage", RATE_LIMITED, retry_after=40))
            await enqueue_channel(app, clock, "CPUB", Message(body=(TEXT,)), key="b")
            async with asyncio.timeout(5):
                await app.run_due()
            [row] = await app.store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)
            assert row.status is DeliveryStatus.PENDING and english(row.reason) == "Slack: rate limited."
            assert (row.not_before - clock.now()).total_seconds() >= 40
            assert len(fake.calls_to("chat.postMessage")) == 2


async def test_a_part_posted_before_a_failure_makes_the_retry_read_back(tmp_path: Path) -> None:
    """A message split in two whose second part hits a 429: the first part is in the channel, so the error says
    the delivery may have landed, and the retry records that part instead of posting it again."""
    clock = FixedClock()
    paragraph = " ".join(f"word{i}" for i in range(700))
    message = Message(body=tuple(f"{n}. {paragraph}" for n in range(30)))
    async with FakeSlack() as fake:
        async with slack_app(tmp_path, fake, clock) as app:
            delivery = runner(app).delivery
            rendered = message.render(app.services.translator, "en")
            fake.faults.add(Fault("chat.postMessage", RATE_LIMITED, skip=1, retry_after=3))
            with pytest.raises(TransientDeliveryError) as raised:
                await delivery.send_channel("CLONG", rendered, delivery_key="long")
            assert raised.value.rate_limited and raised.value.may_have_landed
            [first] = fake.messages("CLONG")
            sent = await delivery.send_channel("CLONG", rendered, delivery_key="long")
            assert [m["ts"] for m in fake.messages("CLONG")] == list(sent.message_ids)
            assert sent.message_ids[0] == first["ts"] and len(sent.message_ids) == 2


async def test_a_read_only_call_is_retried_once_after_a_dropped_connection_and_a_post_is_not(
        tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        fake.add_user("UMEM", name="mel")
        async with slack_app(tmp_path, fake) as app:
            slack = runner(app)
            for client in (slack.client, slack.delivery_client):
                fake.faults.add(Fault("users.info", DROP_BEFORE_STORE))
                before = len(fake.calls_to("users.info"))
                async with asyncio.timeout(5):
                    user = await client.users_info(user="UMEM")
                assert user["user"]["name"] == "mel"
                assert len(fake.calls_to("users.info")) == before + 2

            fake.faults.add(Fault("chat.postMessage", DROP_AFTER_STORE))
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await slack.delivery_client.chat_postMessage(channel="CPUB", text=TEXT)
            assert len(fake.calls_to("chat.postMessage")) == 1 and len(fake.messages("CPUB")) == 1


async def test_the_worker_role_check_never_waits_out_a_rate_limit(tmp_path: Path) -> None:
    """users.info goes through the interactive client (the directory is shared with commands): a 429 there
    answers at once, and the worker keeps the role it has."""
    async with FakeSlack() as fake:
        fake.add_user("UMEM", name="mel")
        async with slack_app(tmp_path, fake) as app:
            fake.faults.add(Fault("users.info", RATE_LIMITED, retry_after=40))
            async with asyncio.timeout(5):
                assert await runner(app).delivery.current_role("UMEM") is None
            assert len(fake.calls_to("users.info")) == 1


async def test_a_reply_post_is_retried_once_and_a_long_rate_limit_is_not_waited_out(tmp_path: Path) -> None:
    """Replies (the interactive client): the person is waiting, so a dropped connection or a short 429 is
    retried once; a long Retry-After comes back at once instead of holding the reply."""
    async with FakeSlack() as fake:
        async with slack_app(tmp_path, fake) as app:
            client = runner(app).client
            fake.faults.add(Fault("chat.postMessage", DROP_BEFORE_STORE))
            fake.faults.add(Fault("chat.postMessage", RATE_LIMITED, retry_after=0, skip=1))
            async with asyncio.timeout(5):
                await client.chat_postMessage(channel="DREPLY", text="first")
                await client.chat_postMessage(channel="DREPLY", text="second")
            assert [m["text"] for m in fake.messages("DREPLY")] == ["first", "second"]
            assert [c.params["text"] for c in fake.calls_to("chat.postMessage")] == ["first"] * 2 + ["second"] * 2

            fake.faults.add(Fault("chat.postMessage", RATE_LIMITED, retry_after=40))
            with pytest.raises(SlackApiError) as refused:
                async with asyncio.timeout(5):
                    await client.chat_postMessage(channel="DREPLY", text="third")
            assert refused.value.response.status_code == 429


async def test_without_the_history_scope_the_retry_says_it_may_duplicate(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An app installed from an older manifest: the read-back cannot run, so the post may be duplicated — and
    the log says so, naming the missing scope (never the message text)."""
    clock = FixedClock()
    async with FakeSlack() as fake:
        fake.add_channel("CPUB", name="general")
        async with slack_app(tmp_path, fake, clock) as app:
            fake.grant(set(fake.scopes or ()) - {"channels:history"})
            fake.faults.add(Fault("chat.postMessage", DROP_AFTER_STORE))
            await enqueue_channel(app, clock, "CPUB", Message(body=(TEXT,)), key="k")
            with caplog.at_level(logging.WARNING, logger="adapters.slack.delivery"):
                await run_until_settled(app, clock)
            [row] = await app.store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)
            assert row.status is DeliveryStatus.SENT
            assert len(fake.messages("CPUB")) == 2
            [warning] = [r.getMessage() for r in caplog.records if r.name == "adapters.slack.delivery"]
            assert "channels:history" in warning and "may duplicate" in warning and "slack-manifest" in warning
            assert TEXT not in caplog.text
