"""Exactly once under faults on Discord (issue 16, item 1): the real discord.py client, through the real delivery
worker, against the fake Discord with faults armed.

A connection that drops after Discord stored the post: the worker retries with the same nonce — within
Discord's nonce window Discord answers with the stored message, after it the adapter finds it in the history.
Either way one copy. And the errors tell the worker what happened (``may_have_landed``, ``rate_limited``).
"""

from __future__ import annotations

import asyncio

import pytest

from adapters.discord.client import DiscordRunner
from app.assembly import App
from bot.delivery.errors import TransientDeliveryError
from bot.delivery.model import DeliveryKind, DeliveryStatus, NewDelivery, SentMessage
from bot.delivery.payloads import NoticePayload
from bot.messages import Message
from bot.model import Identity, IdentityRecord
from tests.adapters.discord.test_discord_adapter import person_of
from tests.fakes.discord_server import BOB, GENERAL, FakeDiscord
from tests.fakes.discord_server import SentMessage as PostedMessage
from tests.fakes.faults import DROP_AFTER_STORE, ERROR_AFTER_STORE, RATE_LIMITED, Fault
from tests.support import FixedClock, english

POST_MESSAGE = "POST /channels/{channel_id}/messages"
OPEN_DM = "POST /users/@me/channels"
TEXT = "Meeting moved to Thursday"


async def queue(app: App, where: str) -> None:
    if where == "dm":
        bob = await person_of(app, BOB.id, "bob")
        await app.services.notifier.to_people([bob], Message(body=(TEXT,)), key="moved")
        return
    now = app.services.clock.now()
    await app.store.outbox.enqueue([NewDelivery(
        dedupe_key="post:moved", kind=DeliveryKind.MEETING_NOTICE, not_before=now, platform="discord",
        channel_id=str(GENERAL.id), payload=NoticePayload(Message(body=(TEXT,))))], now)


def posted(fake: FakeDiscord, where: str) -> list[PostedMessage]:
    return fake.dm_messages_to(BOB.id) if where == "dm" else fake.messages_in(GENERAL.id)


@pytest.mark.parametrize("later", [{"minutes": 1}, {"hours": 1}], ids=["nonce-window", "history-scan"])
@pytest.mark.parametrize("where", ["dm", "channel"])
async def test_a_post_stored_before_the_connection_dropped_is_sent_once(
        fake: FakeDiscord, running: tuple[App, DiscordRunner], clock: FixedClock, where: str,
        later: dict[str, float]) -> None:
    app, _ = running
    fake.faults.add(Fault(POST_MESSAGE, DROP_AFTER_STORE))
    await queue(app, where)

    await app.worker.run_due()
    [row] = await app.store.outbox.by_kind(DeliveryKind.NOTICE if where == "dm" else DeliveryKind.MEETING_NOTICE)
    assert row.status is DeliveryStatus.PENDING
    assert english(row.reason) == "Network error (ServerDisconnectedError)."
    [stored] = posted(fake, where)  # Discord has it; the bot was not told

    clock.advance(**later)
    await app.worker.run_due()
    [row] = await app.store.outbox.by_kind(DeliveryKind.NOTICE if where == "dm" else DeliveryKind.MEETING_NOTICE)
    assert row.status is DeliveryStatus.SENT
    assert row.sent == SentMessage("discord", str(stored.channel_id), (str(stored.id),))
    assert posted(fake, where) == [stored]


async def test_a_dm_opened_before_the_connection_dropped_gets_one_message(
        fake: FakeDiscord, running: tuple[App, DiscordRunner], clock: FixedClock) -> None:
    app, _ = running
    fake.faults.add(Fault(OPEN_DM, DROP_AFTER_STORE))
    await queue(app, "dm")
    await app.worker.run_due()
    [row] = await app.store.outbox.by_kind("notice")
    assert row.status is DeliveryStatus.PENDING and fake.dm_messages_to(BOB.id) == []

    clock.advance(minutes=1)
    await app.worker.run_due()
    [row] = await app.store.outbox.by_kind("notice")
    [message] = fake.dm_messages_to(BOB.id)
    assert row.status is DeliveryStatus.SENT and row.sent is not None
    assert row.sent.message_ids == (str(message.id),)


async def bob_record(app: App) -> IdentityRecord:
    await person_of(app, BOB.id, "bob")
    record = await app.store.people.identity(Identity("discord", str(BOB.id)))
    assert record is not None
    return record


async def test_errors_say_whether_the_post_may_have_landed_or_discord_asked_to_slow_down(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, runner = running
    rendered = Message(body=(TEXT,)).render(app.services.translator, "en")
    bob = await bob_record(app)

    fake.faults.add(Fault(POST_MESSAGE, RATE_LIMITED, retry_after=120))  # longer than discord.py waits
    with pytest.raises(TransientDeliveryError) as limited:  # in another channel: that channel now waits 120 s
        async with asyncio.timeout(5):
            await runner.delivery.send_channel(str(GENERAL.id), rendered, delivery_key="g")
    assert (limited.value.rate_limited, limited.value.retry_after, limited.value.may_have_landed) == (True, 120, False)
    assert limited.value.route == f"channel:{GENERAL.id}"

    fake.faults.add(Fault(POST_MESSAGE, ERROR_AFTER_STORE, status=503))  # a status discord.py does not retry
    with pytest.raises(TransientDeliveryError) as server_error:
        await runner.delivery.send_direct(bob, rendered, delivery_key="k")
    assert server_error.value.may_have_landed and not server_error.value.rate_limited

    bob = await bob_record(app)  # now with its DM channel
    fake.faults.add(Fault(POST_MESSAGE, DROP_AFTER_STORE))
    with pytest.raises(TransientDeliveryError) as dropped:
        await runner.delivery.send_direct(bob, rendered, delivery_key="k")
    assert dropped.value.may_have_landed

    sent = await runner.delivery.send_direct(bob, rendered, delivery_key="k")
    [message] = fake.dm_messages_to(BOB.id)  # three attempts stored one message: the nonce is the same
    assert sent.message_ids == (str(message.id),)
