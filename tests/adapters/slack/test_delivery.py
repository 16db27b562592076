"""Slack deliveries through the real delivery worker and slack_sdk against the fake: DM fan-out under 429s
and 500s, DMs that fail for good, long messages split, edits and deletes, and the crash read-back (on by
default; ``tests/adapters/slack/test_exactly_once.py`` has the faults that make it necessary)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import SlackRunner
from adapters.slack.delivery import METADATA_EVENT
from app.assembly import App, build_app
from bot.delivery.model import DeliveryKind, DeliveryStatus, NewDelivery, SentMessage
from bot.delivery.payloads import NoticePayload
from bot.i18n import Translator, decode_text
from bot.messages import Message, RenderedMessage
from bot.model import Identity
from tests.adapters.slack.test_slack_adapter import (
    ADMIN,
    command,
    everyone,
    install,
    slack_app,
    slack_settings,
    text_of,
)
from tests.fakes.slack_server import FakeSlack, Reply
from tests.support import FixedClock, english

ADMINS = (ADMIN, "UADMIN2", "UADMIN3")


def runner(app: App) -> SlackRunner:
    slack = app.platform_runners[0]
    assert isinstance(slack, SlackRunner)
    return slack


@asynccontextmanager
async def slack_app_with_admins(tmp_path: Path, fake: FakeSlack, clock: FixedClock) -> AsyncIterator[App]:
    settings = slack_settings(tmp_path, fake)
    settings.coalition.admins = [f"slack:{admin}" for admin in ADMINS]
    # One send at a time: the fake answers queued errors in arrival order, and concurrent sends (with the SDK
    # retrying a 429 at once) could hand them to different rows from run to run.
    settings.delivery.concurrency = 1
    install(fake, settings)
    async with build_app(settings, clock=clock) as app:
        yield app


async def request_notices(app: App, fake: FakeSlack) -> None:
    """An approval topic and a member's request: the core queues one notice per admin."""
    for admin in ADMINS:
        fake.add_user(admin, name=admin.lower())
        await command(fake, "/coalition", "whoami", admin)
    await command(fake, "/coalition", "topic create climate Climate policy:approval", ADMIN)
    reply = await command(fake, "/subscribe", "climate", "UMEM")
    assert "needs a coordinator's approval" in text_of(reply)


async def run_until_settled(app: App, clock: FixedClock, rounds: int = 6) -> None:
    for _ in range(rounds):
        await app.run_due()
        clock.advance(hours=1)


async def test_dm_fan_out_survives_429_and_500(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app_with_admins(tmp_path, fake, clock) as app, fake.socket_mode(runner(app).bolt):
            await request_notices(app, fake)
            # 1st post: a 429, which reaches the worker (the client never waits it out); 2nd: a 500, after which
            # the post may have landed; the 3rd goes through.
            fake.queue("chat.postMessage", status=429, headers={"Retry-After": "0"})
            fake.queue("chat.postMessage", status=500)
            await app.run_due()
            assert len(fake.calls_to("chat.postMessage")) == 3  # nothing re-sent inside the client
            rows = await app.store.outbox.by_kind("notice")
            assert len(rows) == 3
            assert sorted(r.status for r in rows) == [DeliveryStatus.PENDING, DeliveryStatus.PENDING,
                                                      DeliveryStatus.SENT]
            reasons = {english(r.reason) for r in rows if r.status is DeliveryStatus.PENDING}
            assert reasons == {"Slack: temporary error (fatal_error).", "Slack: rate limited."}
            limited = next(r for r in rows if english(r.reason) == "Slack: rate limited.")
            assert Translator.load().render(decode_text(limited.reason), "fr") == "Slack : limite de débit atteinte."
            assert limited.not_before >= clock.now().replace(microsecond=0)

            await run_until_settled(app, clock)
            rows = await app.store.outbox.by_kind("notice")
            assert all(r.status is DeliveryStatus.SENT for r in rows)
            for admin in ADMINS:
                dms = fake.messages(admin)
                assert len(dms) == 1, admin
                message = dms[0]
                assert "asks to join “climate”" in message["blocks"][1]["text"]["text"]
                assert [e["value"] for e in message["blocks"][-1]["elements"]] == ["approve 1", "deny 1"]
                assert message["metadata"]["event_type"] == METADATA_EVENT
            keys = {m["metadata"]["event_payload"]["delivery_key"] for a in ADMINS for m in fake.messages(a)}
            assert keys == {r.dedupe_key for r in rows}
            assert fake.ratelimited("chat.postMessage") == 1
            # Only the post cut off by the 500 was looked for before it was sent again; the 429 was not stored.
            assert len(fake.calls_to("conversations.history")) == 1


async def test_closed_dms_fail_permanently_and_are_not_retried(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        everyone(fake)
        fake.fail_dm_for("UADMIN2", "cannot_dm")
        async with slack_app_with_admins(tmp_path, fake, clock) as app, fake.socket_mode(runner(app).bolt):
            await request_notices(app, fake)
            await run_until_settled(app, clock)
            rows = {r.dedupe_key: r for r in await app.store.outbox.by_kind("notice")}
            record = await app.store.people.identity(Identity("slack", "UADMIN2"))
            assert record is not None
            closed = rows[f"request:1:new:person:{record.person_id}"]
            assert closed.status is DeliveryStatus.FAILED
            assert english(closed.reason) == "Slack: this person cannot receive direct messages from the bot."
            assert closed.attempts == 1
            assert record.dm_closed_reason == closed.reason
            opens = len(fake.calls_to("conversations.open"))

            # The next notice to them is skipped without touching Slack.
            fake.add_user("UMEM2", name="max")
            await command(fake, "/subscribe", "climate", "UMEM2")
            await run_until_settled(app, clock)
            later = [r for r in await app.store.outbox.by_kind("notice") if r.dedupe_key.startswith("request:2:")]
            skipped = next(r for r in later if r.person_id == record.person_id)
            assert skipped.status is DeliveryStatus.SKIPPED
            assert len(fake.calls_to("conversations.open")) == opens + 0
            assert all(call.params.get("users") != "UADMIN2"
                       for call in fake.calls_to("conversations.open")[opens:])


async def test_channel_errors_are_permanent_with_a_readable_reason(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        fake.add_channel("CARCH", is_archived=True)
        async with slack_app(tmp_path, fake, clock) as app:
            await enqueue_channel(app, clock, "CARCH", Message(body=("hello",)), key="c1")
            fake.add_hook(lambda call: Reply(body={"ok": False, "error": "not_in_channel"})
                          if call.params.get("channel") == "CNOTIN" else None)
            await enqueue_channel(app, clock, "CNOTIN", Message(body=("hello",)), key="c2")
            await app.run_due()
            rows = {r.dedupe_key: r for r in await app.store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)}
            assert rows["c1"].status is DeliveryStatus.FAILED
            assert english(rows["c1"].reason) == "Slack: the channel is archived."
            assert rows["c2"].status is DeliveryStatus.FAILED
            assert "not a member of the channel" in english(rows["c2"].reason)


async def enqueue_channel(app: App, clock: FixedClock, channel: str, message: Message, *, key: str) -> None:
    await app.store.outbox.enqueue([NewDelivery(dedupe_key=key, kind=DeliveryKind.MEETING_NOTICE,
                                                payload=NoticePayload(message), not_before=clock.now(),
                                                platform="slack", channel_id=channel)], clock.now())


async def test_long_text_is_split_into_several_messages_not_truncated(tmp_path: Path) -> None:
    clock = FixedClock()
    paragraph = " ".join(f"word{i}" for i in range(700))  # ~5,800 characters: two sections
    body = tuple(f"{n}. {paragraph}" for n in range(30))
    async with FakeSlack() as fake:
        async with slack_app(tmp_path, fake, clock) as app:
            await enqueue_channel(app, clock, "CLONG", Message(body=body), key="long")
            await app.run_due()
            row = (await app.store.outbox.by_kind(DeliveryKind.MEETING_NOTICE))[0]
            assert row.status is DeliveryStatus.SENT and row.sent is not None
            posted = fake.messages("CLONG")
            assert len(posted) == 2 and row.sent.message_ids == tuple(m["ts"] for m in posted)
            sections = [b["text"]["text"] for m in posted for b in m["blocks"]]
            assert all(len(m["blocks"]) <= 50 for m in posted)
            assert all(len(s) <= 3000 for s in sections)
            assert " ".join(sections).split() == " ".join(body).split()
            assert [m["metadata"]["event_payload"]["part"] for m in posted] == [0, 1]


async def test_edit_and_delete_every_part(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        async with slack_app(tmp_path, fake) as app:
            delivery = runner(app).delivery
            sent = await delivery.send_channel("CED", RenderedMessage(body=("first",)), delivery_key="e1")
            await delivery.edit(sent, RenderedMessage(body=("second <!channel>",)))
            assert fake.messages("CED")[0]["blocks"][0]["text"]["text"] == "second @\u2060channel"
            await delivery.delete(sent)
            assert fake.messages("CED") == []
            await delivery.delete(sent)  # already gone: nothing to do


async def test_crash_read_back_records_the_existing_message(tmp_path: Path) -> None:
    """A row left 'sending' whose post reached Slack is recorded on restart, not posted twice."""
    clock = FixedClock()
    message = Message(body=("Meeting moved",))
    async with FakeSlack() as fake:
        async with slack_app(tmp_path, fake, clock) as app:
            await enqueue_channel(app, clock, "CPUB", message, key="crashed")
            await enqueue_channel(app, clock, "CPUB", message, key="lost")
            claimed = await app.store.outbox.claim_due(clock.now(), 10)  # the worker took them ... then died
            assert {d.dedupe_key for d in claimed} == {"crashed", "lost"}
            # "crashed" reached Slack before the crash; "lost" did not.
            client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
            landed = await client.chat_postMessage(channel="CPUB", text="Meeting moved", metadata={
                "event_type": METADATA_EVENT, "event_payload": {"delivery_key": "crashed", "part": 0, "parts": 1}})

        posts_before = len(fake.calls_to("chat.postMessage"))
        async with slack_app(tmp_path, fake, clock) as app:
            await app.run_due()
            rows = {r.dedupe_key: r for r in await app.store.outbox.by_kind(DeliveryKind.MEETING_NOTICE)}
            assert rows["crashed"].status is DeliveryStatus.SENT
            assert rows["crashed"].sent == SentMessage("slack", "CPUB", (landed["ts"],))
            assert rows["lost"].status is DeliveryStatus.SENT
            assert len(fake.calls_to("chat.postMessage")) == posts_before + 1
            assert len(fake.messages("CPUB")) == 2
            history = fake.calls_to("conversations.history")
            assert history and all(call.params.get("include_all_metadata") in ("true", "1", True) for call in history)


async def test_without_dedupe_a_crash_can_post_twice_and_history_is_never_read(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        async with slack_app(tmp_path, fake, clock, dedupe_after_crash=False) as app:
            await enqueue_channel(app, clock, "CPUB", Message(body=("x",)), key="crashed")
            await app.store.outbox.claim_due(clock.now(), 10)
            client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
            await client.chat_postMessage(channel="CPUB", text="x", metadata={
                "event_type": METADATA_EVENT, "event_payload": {"delivery_key": "crashed", "part": 0}})
        async with slack_app(tmp_path, fake, clock, dedupe_after_crash=False) as app:
            await app.run_due()
            assert len(fake.messages("CPUB")) == 2  # the bounded duplicate the README describes
            assert fake.calls_to("conversations.history") == []


async def test_a_member_who_became_a_guest_gets_no_members_only_post(tmp_path: Path) -> None:
    """Roles are re-checked with Slack when a delivery goes out, not only when the person last spoke."""
    clock = FixedClock()
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app_with_admins(tmp_path, fake, clock) as app, fake.socket_mode(runner(app).bolt):
            await command(fake, "/coalition", "topic create wg Working group visibility:members", ADMIN)
            assert "You now follow" in text_of(await command(fake, "/subscribe", "wg", "UMEM"))
            fake.add_user("UMEM", name="mel", is_restricted=True)  # made a guest in the workspace
            runner(app).directory.forget("UMEM")
            await command(fake, "/coalition", "announce new wg Members only", ADMIN)
            await command(fake, "/coalition", "announce confirm 1", ADMIN)
            await run_until_settled(app, clock)
            assert fake.messages(fake.dm_channel("UMEM")) == []
            [row] = [d for d in await app.store.outbox.of_announcement(1) if d.person_id is not None]
            assert row.status is DeliveryStatus.SKIPPED
            assert english(row.reason) == "the recipient may no longer see this topic"


async def test_setup_topic_channel_refuses_an_open_channel_for_a_members_topic(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        everyone(fake)
        fake.add_channel("COPEN", name="general")
        fake.add_channel("CPRIV", name="wg-private", is_private=True)
        fake.add_channel("CCONNECT", name="partners", is_private=True, is_ext_shared=True)
        async with slack_app_with_admins(tmp_path, fake, clock) as app, fake.socket_mode(runner(app).bolt):
            await command(fake, "/coalition", "topic create wg Working group visibility:members", ADMIN)
            for channel in ("COPEN", "CCONNECT"):
                refused = await command(fake, "/coalition", f"setup topic-channel wg <#{channel}|x>", ADMIN)
                assert f"#{channel} can be read by everyone, but “wg” is not public" in text_of(refused)
            accepted = await command(fake, "/coalition", "setup topic-channel wg <#CPRIV|wg-private>", ADMIN)
            assert "now also go to #CPRIV" in text_of(accepted)
            topic = await app.store.topics.by_slug("wg")
            assert topic is not None
            assert [b.channel_id for b in await app.store.channels.bound("topic", topic.id)] == ["CPRIV"]
