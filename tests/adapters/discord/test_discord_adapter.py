"""The Discord adapter end to end: the real discord.py client, started by the composition root, against the
loopback fake Discord in ``tests/fakes``. No part of the SDK is mocked."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import discord
import pytest

from adapters.discord import interactions
from adapters.discord.client import DiscordRunner
from adapters.discord.delivery import nonce_for
from adapters.discord.interactions import ACTION_PREFIX
from adapters.discord.setup import SetupError, setup_public_channel, setup_topic_channel
from app.assembly import App, build_app
from app.settings import CoalitionSettings, Settings
from bot.commands import help
from bot.commands.invoke import invoke
from bot.delivery.model import DeliveryKind, DeliveryStatus, NewDelivery
from bot.delivery.payloads import NoticePayload
from bot.errors import UserError
from bot.messages import Action, Message
from bot.model import Identity, Role
from bot.subscriptions.declarations import SUBSCRIBE
from bot.topics.commands import TITLE
from bot.topics.model import Policy, Visibility
from tests.fakes.discord_server import (
    ALICE,
    ANNOUNCEMENTS,
    BOB,
    BOT,
    CAROL,
    COORDINATOR_ROLE,
    GENERAL,
    GUILD_ID,
    MEMBER_ROLE,
    OWNER,
    FakeDiscord,
)
from tests.postgres_server import storage_settings
from tests.support import FixedClock, english

SEND_MESSAGES = 1 << 11
VIEW_CHANNEL = 1 << 10
MESSAGES = "/channels/{channel_id}/messages"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(closed_dms=[CAROL.id]) as server:
        yield server


def discord_settings(fake: FakeDiscord, tmp_path: Path, **roles: str) -> Settings:
    return Settings(
        discord={"token": fake.token, "guild_id": fake.guild_id, "api_base_url": fake.api_base,
                 "gateway_url": fake.gateway_url,
                 "member_role": roles.get("member_role", "member"),
                 "coordinator_role": roles.get("coordinator_role", str(COORDINATOR_ROLE.id))},
        storage=storage_settings(tmp_path, "bot.db"),
    )


@asynccontextmanager
async def discord_app(fake: FakeDiscord, tmp_path: Path, clock: FixedClock,
                      **roles: str) -> AsyncIterator[tuple[App, DiscordRunner]]:
    async with build_app(discord_settings(fake, tmp_path, **roles), clock=clock) as app:
        [runner] = app.platform_runners
        assert isinstance(runner, DiscordRunner)
        yield app, runner


def embed_text(data: dict[str, Any]) -> str:
    embeds = data.get("embeds") or []
    return "\n".join(filter(None, [e.get("title") for e in embeds] + [e.get("description") for e in embeds]))


async def person_of(app: App, user_id: int, name: str) -> int:
    record = await app.store.people.ensure_identity(Identity("discord", str(user_id)), name, app.services.clock.now())
    return record.person_id


async def make_topics(app: App) -> None:
    topics, now = app.store.topics, app.services.clock.now()
    await topics.create("climate", "Climate justice", "", Visibility.PUBLIC, Policy.OPEN, now)
    await topics.create("campaigns", "Member campaigns", "", Visibility.MEMBERS, Policy.OPEN, now)
    await topics.create("casework", "Confidential casework", "", Visibility.PRIVATE, Policy.OPEN, now)


# --- commands ------------------------------------------------------------------------------------------


async def test_commands_are_generated_from_the_registry_and_synced_to_the_guild(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    synced = {c["name"]: c for c in fake.synced_commands(fake.guild_id)}
    assert set(synced) == set(app.services.registry.top_level_names())
    assert fake.synced_commands(None) == []
    [create] = [o for o in synced["topic"]["options"] if o["name"] == "create"]
    options = {o["name"]: o for o in create["options"]}
    assert options["slug"]["required"] and not options["title"].get("required")  # title comes from a modal
    assert [c["value"] for c in options["visibility"]["choices"]] == ["public", "members", "private"]
    [subscribe_topic] = synced["subscribe"]["options"][:1]
    assert subscribe_topic["autocomplete"] is True
    assert all(len(c["description"]) <= 100 for c in synced.values())
    assert fake.gateway.identifies[0]["intents"] == 1  # guilds only: no members, no message content


async def test_slash_command_with_options_replies_ephemerally(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    await make_topics(app)

    handle = await fake.send_slash_command("subscribe", {"topic": "climate", "mode": "daily"}, user_id=BOB.id)

    body = await handle.callback()
    assert body["type"] == 4 and body["data"]["flags"] == 64
    assert "daily digest" in embed_text(body["data"])
    assert body["data"]["allowed_mentions"] == {"parse": []}
    pid = await person_of(app, BOB.id, "bob")
    climate = await app.store.topics.by_slug("climate")
    assert climate is not None
    subscription = await app.store.subscriptions.get(pid, climate.id)
    assert subscription is not None and subscription.mode.value == "daily"


async def test_group_subcommand_creates_a_topic_as_a_coordinator(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running

    allowed = await fake.send_slash_command(
        "topic create", {"slug": "housing", "title": "Housing rights", "visibility": "members"}, user_id=ALICE.id)
    refused = await fake.send_slash_command(
        "topic create", {"slug": "water", "title": "Water"}, user_id=BOB.id)

    assert "housing" in embed_text((await allowed.callback())["data"])
    topic = await app.store.topics.by_slug("housing")
    assert topic is not None and topic.visibility is Visibility.MEMBERS and topic.title == "Housing rights"
    refusal = (await refused.callback())["data"]
    assert "coordinator" in embed_text(refusal) and refusal["flags"] == 64
    assert await app.store.topics.by_slug("water") is None


async def test_autocomplete_offers_only_topics_the_caller_can_see(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    await make_topics(app)

    async def offered(user_id: int, prefix: str = "c") -> list[str]:
        handle = await fake.send_autocomplete("subscribe", {"topic": prefix}, focused="topic", user_id=user_id)
        body = await handle.callback()
        assert body["type"] == 8
        return sorted(choice["value"] for choice in body["data"]["choices"])

    assert await offered(OWNER.id) == ["climate"]  # in the guild without a role: an outsider
    assert await offered(BOB.id) == ["campaigns", "climate"]
    assert await offered(ALICE.id) == ["campaigns", "casework", "climate"]  # coordinators see private topics
    assert await offered(BOB.id, "camp") == ["campaigns"]
    zones = await fake.send_autocomplete("settings timezone", {"zone": "europe/par"}, focused="zone", user_id=BOB.id)
    assert [c["value"] for c in (await zones.callback())["data"]["choices"]] == ["Europe/Paris"]


async def test_commands_are_synced_globally_only_when_asked(fake: FakeDiscord, tmp_path: Path,
                                                           clock: FixedClock) -> None:
    settings = discord_settings(fake, tmp_path)
    settings.discord.global_sync = True
    async with build_app(settings, clock=clock):
        global_names = {c["name"] for c in fake.synced_commands(None)}
        assert {c["name"] for c in fake.synced_commands(fake.guild_id)} == global_names
        assert "subscribe" in global_names


async def test_meeting_and_resource_ids_are_autocompleted(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    synced = {c["name"]: c for c in fake.synced_commands(fake.guild_id)}
    show = next(o for o in synced["meeting"]["options"] if o["name"] == "show")
    assert next(o for o in show["options"] if o["name"] == "id").get("autocomplete") is True
    show = next(o for o in synced["resource"]["options"] if o["name"] == "show")
    assert next(o for o in show["options"] if o["name"] == "id").get("autocomplete") is True
    handle = await fake.send_autocomplete("resource show", {"id": ""}, focused="id", user_id=BOB.id)
    assert (await handle.callback())["type"] == 8


async def test_a_missing_rest_argument_opens_a_modal_whose_submission_runs_the_command(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running

    shown = await fake.send_slash_command("topic create", {"slug": "water", "visibility": "public"}, user_id=ALICE.id)

    body = await shown.callback()
    assert body["type"] == 9
    [row] = body["data"]["components"]
    assert row["components"][0]["custom_id"] == "title"
    submitted = await fake.send_modal_submit(body["data"]["custom_id"], {"title": "Clean water for all"})
    reply = (await submitted.callback())["data"]
    assert "water" in embed_text(reply) and reply["flags"] == 64
    topic = await app.store.topics.by_slug("water")
    assert topic is not None and topic.title == "Clean water for all" and topic.visibility is Visibility.PUBLIC


async def test_a_slow_reply_is_deferred_then_filled_in(
        fake: FakeDiscord, running: tuple[App, DiscordRunner], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interactions, "ACK_SECONDS", 0.0)

    handle = await fake.send_slash_command("whoami", user_id=BOB.id)

    assert (await handle.callback())["type"] == 5
    reply = await handle.followup()
    assert reply is handle.original and reply.ephemeral and reply.embeds[0]["title"] == "Who you are"


async def test_descriptions_are_localised_and_names_are_not(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    synced = {c["name"]: c for c in fake.synced_commands(fake.guild_id)}

    subscribe = synced["subscribe"]
    assert subscribe["description"] == "Follow a topic; choose how you receive its posts."
    assert subscribe["description_localizations"]["fr"] != subscribe["description"]
    assert not subscribe.get("name_localizations")
    assert subscribe["options"][0]["description_localizations"]["fr"]


async def test_an_unexpected_failure_still_answers_the_person(
        fake: FakeDiscord, running: tuple[App, DiscordRunner], monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = running

    async def broken(*_: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(app.dispatcher, "handle", broken)
    handle = await fake.send_slash_command("whoami", user_id=BOB.id, locale="fr")

    reply = (await handle.callback())["data"]
    assert reply["flags"] == 64 and "Something went wrong" not in embed_text(reply)  # in French
    assert reply["embeds"][0]["color"] == 0xE74C3C


# --- buttons -------------------------------------------------------------------------------------------


async def test_button_click_runs_as_the_clicker_before_and_after_a_restart(
        fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> None:
    async with discord_app(fake, tmp_path, clock) as (app, _):
        await make_topics(app)
        listed = await fake.send_slash_command("topics", user_id=BOB.id)
        await listed.callback()
        assert listed.original is not None
        message = listed.original
        buttons = {c["label"]: c["custom_id"] for row in message.components for c in row["components"]}
        climate, campaigns = buttons["Subscribe to climate"], buttons["Subscribe to campaigns"]
        assert all(c.startswith(ACTION_PREFIX) and len(c) <= 100 for c in message.custom_ids())
        clicked = await fake.send_component(climate, user_id=BOB.id, message=message)
        assert "climate" in embed_text((await clicked.callback())["data"])

    async with discord_app(fake, tmp_path, clock) as (app, _):
        clicked = await fake.send_component(campaigns, user_id=BOB.id, message=message)
        reply = (await clicked.callback())["data"]
        assert "campaigns" in embed_text(reply) and reply["flags"] == 64
        pid = await person_of(app, BOB.id, "bob")
        assert len(await app.store.subscriptions.of_person(pid)) == 2


async def test_button_clicked_in_a_dm_fetches_the_member_for_their_roles(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    await make_topics(app)
    bob = await person_of(app, BOB.id, "bob")
    owner = await person_of(app, OWNER.id, "owner")
    notice = Message(body=("Campaigns are starting.",),
                     actions=(Action("Join campaigns", invoke(SUBSCRIBE, topic="campaigns")),))
    await app.services.notifier.to_people([bob, owner], notice, key="invite")
    await app.worker.run_due()

    [to_bob] = fake.dm_messages_to(BOB.id)
    [to_owner] = fake.dm_messages_to(OWNER.id)
    [custom_id] = to_bob.custom_ids()
    assert to_owner.custom_ids() == [custom_id]  # one stored token for the same invocation

    member_click = await fake.send_component(custom_id, user_id=BOB.id, message=to_bob)
    assert "campaigns" in embed_text((await member_click.callback())["data"])
    assert fake.requests_to("GET", f"/guilds/{fake.guild_id}/members/{BOB.id}")
    outsider_click = await fake.send_component(custom_id, user_id=OWNER.id, message=to_owner)
    refused = (await outsider_click.callback())["data"]
    assert "There is no topic" in embed_text(refused)  # a members-only topic does not exist for outsiders
    campaigns = await app.store.topics.by_slug("campaigns")
    assert campaigns is not None
    assert await app.store.subscriptions.get(bob, campaigns.id) is not None
    assert await app.store.subscriptions.get(owner, campaigns.id) is None


# --- delivery ------------------------------------------------------------------------------------------


async def test_dm_fan_out_through_the_worker_survives_429_and_500(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    people = [await person_of(app, user.id, user.username) for user in (ALICE, BOB, OWNER)]
    fake.queue_failure("POST", MESSAGES, status=429, retry_after=0.1)
    fake.queue_failure("POST", MESSAGES, status=500)

    await app.services.notifier.to_people(people, Message(body=("The meeting moved to Thursday.",)), key="moved")
    await app.worker.run_due()

    for user in (ALICE, BOB, OWNER):
        [message] = fake.dm_messages_to(user.id)
        assert "Thursday" in message.embeds[0]["description"]
        assert message.enforce_nonce and message.nonce is not None and len(message.nonce) <= 25
    assert [r.status for r in fake.requests_to("POST", MESSAGES)] == [429, 500, 200, 200, 200]
    rows = await app.store.outbox.by_kind("notice")
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert all(r.sent is not None and r.sent.platform == "discord" for r in rows)

    # DM channels are cached in the database: a second fan-out opens none.
    opened = len(fake.requests_to("POST", "/users/@me/channels"))
    assert opened == 3
    await app.services.notifier.to_people(people, Message(body=("Agenda attached.",)), key="agenda")
    await app.worker.run_due()
    assert len(fake.requests_to("POST", "/users/@me/channels")) == opened
    bob = await app.store.people.identity(Identity("discord", str(BOB.id)))
    assert bob is not None and bob.dm_channel_id == str(fake.dm_channel_id(BOB.id))


async def test_a_member_who_lost_the_role_gets_no_members_only_post(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    """Without the members intent Discord never says a role changed: the worker asks when it delivers."""
    app, _ = running
    await make_topics(app)
    subscribed = await fake.send_slash_command("subscribe", {"topic": "campaigns"}, user_id=BOB.id)
    assert "You now follow" in embed_text((await subscribed.callback())["data"])
    fake.world.members[BOB.id] = dataclasses.replace(fake.world.members[BOB.id], roles=())
    campaigns = await app.store.topics.by_slug("campaigns")
    assert campaigns is not None
    bob = await person_of(app, BOB.id, BOB.username)
    await app.services.notifier.to_people([bob], Message(body=("Members only",)), key="m", topic_id=campaigns.id)
    await app.worker.run_due()
    assert fake.dm_messages_to(BOB.id) == []
    [row] = await app.store.outbox.by_kind("notice")
    assert row.status is DeliveryStatus.SKIPPED
    assert english(row.reason) == "the recipient may no longer see this topic"


async def test_a_long_rate_limit_leaves_the_delivery_queued_with_discords_retry_after(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    bob = await person_of(app, BOB.id, "bob")
    fake.queue_failure("POST", MESSAGES, status=429, retry_after=120)

    await app.services.notifier.to_people([bob], Message(body=("Hello",)), key="hello")
    await app.worker.run_due()

    [row] = await app.store.outbox.by_kind("notice")
    assert row.status is DeliveryStatus.PENDING and english(row.reason) == "Discord: rate limited."
    assert (row.not_before - app.services.clock.now()).total_seconds() >= 120
    assert fake.dm_messages_to(BOB.id) == []


async def test_closed_dms_fail_permanently_mark_the_identity_and_are_not_retried(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    carol = await person_of(app, CAROL.id, "carol")

    await app.services.notifier.to_people([carol], Message(body=("Hello",)), key="first")
    await app.worker.run_due()

    [row] = await app.store.outbox.by_kind("notice")
    assert row.status is DeliveryStatus.FAILED and "direct messages" in english(row.reason)
    identity = await app.store.people.identity(Identity("discord", str(CAROL.id)))
    assert identity is not None and identity.dm_closed_reason
    attempts = len(fake.requests_to("POST", MESSAGES))
    assert attempts == 1 and fake.invalid_request_count == 1

    await app.services.notifier.to_people([carol], Message(body=("Hello again",)), key="second")
    await app.worker.run_due()
    statuses = sorted(r.status.value for r in await app.store.outbox.by_kind("notice"))
    assert statuses == ["failed", "skipped"]
    assert len(fake.requests_to("POST", MESSAGES)) == attempts


async def test_a_retry_after_the_nonce_window_finds_the_message_already_sent(
        fake: FakeDiscord, running: tuple[App, DiscordRunner], clock: FixedClock) -> None:
    app, runner = running
    await person_of(app, BOB.id, "bob")
    bob = await app.store.people.identity(Identity("discord", str(BOB.id)))
    assert bob is not None
    fake.nonce_window = 0.0  # Discord has forgotten the nonce: only reading the channel can prevent a repost
    rendered = Message(body=("Only once",)).render(app.services.translator, "en")

    first = await runner.delivery.send_direct(bob, rendered, delivery_key="announcement:7:person:2")
    clock.advance(minutes=10)
    bob = await app.store.people.identity(Identity("discord", str(BOB.id)))
    assert bob is not None
    again = await runner.delivery.send_direct(bob, rendered, delivery_key="announcement:7:person:2")

    assert again == first
    [message] = fake.dm_messages_to(BOB.id)
    assert message.nonce == nonce_for("announcement:7:person:2", 0)
    assert fake.requests_to("GET", MESSAGES)


async def test_long_text_is_split_into_several_messages_not_cut(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    bob = await person_of(app, BOB.id, "bob")
    paragraphs = tuple(f"Paragraph {n}: " + "word " * 150 for n in range(15))  # ~11,500 characters

    button = Action("Help", invoke(help.routes()[0].command))
    await app.services.notifier.to_people([bob], Message(title="Report", body=paragraphs, actions=(button,)),
                                          key="long")
    await app.worker.run_due()

    messages = fake.dm_messages_to(BOB.id)
    assert len(messages) == 3
    descriptions = [m.embeds[0]["description"] for m in messages]
    assert all(len(d) <= 4096 for d in descriptions)
    assert " ".join(" ".join(descriptions).split()) == " ".join(" ".join(paragraphs).split())
    assert [bool(m.custom_ids()) for m in messages] == [False, False, True]  # buttons on the last part
    assert len({m.nonce for m in messages}) == 3
    [row] = await app.store.outbox.by_kind("notice")
    assert row.sent is not None and len(row.sent.message_ids) == 3


async def test_untrusted_text_pings_nobody(fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    await app.store.outbox.enqueue([NewDelivery(
        dedupe_key="post:1", kind=DeliveryKind.MEETING_NOTICE, not_before=app.services.clock.now(),
        platform="discord", channel_id=str(GENERAL.id),
        payload=NoticePayload(Message(body=(f"@everyone @here <@{BOB.id}> <@&{MEMBER_ROLE.id}>",))))],
        app.services.clock.now())
    await app.worker.run_due()

    [post] = fake.requests_to("POST", f"/channels/{GENERAL.id}/messages")
    assert post.json["allowed_mentions"] == {"parse": []}
    [message] = fake.messages_in(GENERAL.id)
    assert "@everyone" in message.embeds[0]["description"]


async def test_channel_post_edit_and_delete(fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, runner = running
    tr = app.services.translator
    sent = await runner.delivery.send_channel(str(GENERAL.id), Message(body=("v1",)).render(tr, "en"),
                                              delivery_key="post:2")
    await runner.delivery.edit(sent, Message(body=("v2",)).render(tr, "en"))
    [message] = fake.messages_in(GENERAL.id)
    assert message.embeds[0]["description"] == "v2"
    await runner.delivery.delete(sent)
    await runner.delivery.delete(sent)  # already gone: not an error
    assert fake.messages_in(GENERAL.id) == []


# --- the public announcement channel -------------------------------------------------------------------


async def post_announcements(app: App, count: int) -> None:
    """Public announcements in the coalition's public channel: the one channel whose posts are published."""
    now = app.services.clock.now()
    await app.store.channels.bind("public", None, "discord", str(ANNOUNCEMENTS.id), now)
    await app.store.outbox.enqueue([NewDelivery(
        dedupe_key=f"public:{n}", kind=DeliveryKind.MEETING_NOTICE, not_before=now, platform="discord",
        channel_id=str(ANNOUNCEMENTS.id), payload=NoticePayload(Message(body=(f"News {n}",))))
        for n in range(count)], now)
    await app.worker.run_due()


async def test_announcement_channel_posts_are_published_and_a_rate_limited_publish_stays_queued(
        fake: FakeDiscord, running: tuple[App, DiscordRunner], clock: FixedClock) -> None:
    app, runner = running
    fake.publish_limit = 2  # Discord's own count says no before ours does

    await post_announcements(app, 3)
    await runner.publishes.run_due()

    assert [m.crossposted for m in fake.messages_in(ANNOUNCEMENTS.id)] == [True, True, False]
    publishes = await runner.publishes.all()
    assert [p.status for p in publishes] == ["published", "published", "pending"]
    assert publishes[2].reason == "rate limited by Discord"
    assert (publishes[2].not_before - clock.now()).total_seconds() > 3000

    fake.publish_limit = 10  # an hour later on Discord's side
    clock.advance(hours=1, seconds=1)
    assert await runner.publishes.run_due() == 1
    assert all(m.crossposted for m in fake.messages_in(ANNOUNCEMENTS.id))


async def test_publishes_are_paced_by_the_queue_before_discord_refuses(
        fake: FakeDiscord, running: tuple[App, DiscordRunner], clock: FixedClock) -> None:
    app, runner = running
    runner.publishes.per_window = 2

    await post_announcements(app, 3)
    await runner.publishes.run_due()

    assert len(fake.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/crosspost")) == 2
    assert fake.rate_limited_count == 0
    waiting = (await runner.publishes.all())[2]
    assert waiting.status == "pending" and waiting.reason == "waiting for the publish limit"
    clock.advance(hours=1, seconds=1)
    await runner.publishes.run_due()
    assert [p.status for p in await runner.publishes.all()] == ["published"] * 3


async def test_plain_channel_posts_are_not_published(fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    _, runner = running
    app = running[0]
    await runner.delivery.send_channel(str(GENERAL.id), Message(body=("hi",)).render(app.services.translator, "en"),
                                       delivery_key="general:1")
    assert await runner.publishes.all() == []


async def test_setup_public_channel_lets_only_the_bot_post(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    _, runner = running

    done = await setup_public_channel(runner.client, fake.guild_id, ANNOUNCEMENTS.id)

    assert done.channel_id == ANNOUNCEMENTS.id
    assert not fake.world.permissions_in(BOB.id, ANNOUNCEMENTS.id) & SEND_MESSAGES
    assert not fake.world.permissions_in(ALICE.id, ANNOUNCEMENTS.id) & SEND_MESSAGES
    assert fake.world.permissions_in(BOT.id, ANNOUNCEMENTS.id) & SEND_MESSAGES
    with pytest.raises(SetupError) as refused:
        await setup_public_channel(runner.client, fake.guild_id, GENERAL.id)
    assert "announcement channel" in refused.value.message.msgid
    await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)
    assert not fake.world.permissions_in(BOB.id, GENERAL.id) & SEND_MESSAGES


async def test_the_delivery_adapter_offers_channel_preparation_to_the_core(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, runner = running
    with pytest.raises(UserError):  # what a core handler would show the admin
        await runner.delivery.prepare_public_channel(str(GENERAL.id))
    with pytest.raises(UserError):
        await runner.delivery.prepare_public_channel("general")
    done = await runner.delivery.prepare_public_channel(str(ANNOUNCEMENTS.id))
    assert "announcements" in app.services.translator.render(done, "fr")
    assert not fake.world.permissions_in(BOB.id, ANNOUNCEMENTS.id) & SEND_MESSAGES


async def test_setup_topic_channel_refuses_a_channel_everyone_can_read_for_a_members_topic(
        fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> None:
    settings = discord_settings(fake, tmp_path).model_copy(
        update={"coalition": CoalitionSettings(admins=[f"discord:{OWNER.id}"])})
    async with build_app(settings, clock=clock) as app:
        [runner] = app.platform_runners
        await make_topics(app)
        assert await runner.delivery.channel_is_public(str(GENERAL.id)) is True
        assert await runner.delivery.channel_is_public("404") is None

        refused = await fake.send_slash_command(
            "setup topic-channel", {"topic": "campaigns", "channel": f"<#{GENERAL.id}>"}, user_id=OWNER.id)
        assert "can be read by everyone" in embed_text((await refused.callback())["data"])

        channel = runner.client.get_channel(GENERAL.id)
        assert isinstance(channel, discord.TextChannel)
        await channel.set_permissions(channel.guild.me, view_channel=True)  # the bot is added to the channel
        await channel.set_permissions(channel.guild.default_role, view_channel=False)
        await fake.wait_for(lambda: not channel.permissions_for(channel.guild.default_role).view_channel)
        accepted = await fake.send_slash_command(
            "setup topic-channel", {"topic": "campaigns", "channel": f"<#{GENERAL.id}>"}, user_id=OWNER.id)
        assert "now also go to" in embed_text((await accepted.callback())["data"])

        # Setting it up kept it private: @everyone still cannot view it, only the bot posts, the bot kept its own.
        now = await runner.client.fetch_channel(GENERAL.id)
        assert isinstance(now, discord.TextChannel)
        assert now.permissions_for(now.guild.default_role).view_channel is False
        assert now.permissions_for(now.guild.default_role).send_messages is False
        assert int(fake.world.overwrites[GENERAL.id][GUILD_ID]["deny"]) & VIEW_CHANNEL
        assert not fake.world.permissions_in(BOB.id, GENERAL.id) & VIEW_CHANNEL
        assert fake.world.permissions_in(BOT.id, GENERAL.id) & (VIEW_CHANNEL | SEND_MESSAGES) == \
            VIEW_CHANNEL | SEND_MESSAGES
        campaigns = await app.store.topics.by_slug("campaigns")
        assert campaigns is not None
        bound = await app.store.channels.bound("topic", campaigns.id)
        assert [b.channel_id for b in bound] == [str(GENERAL.id)]


async def test_setup_public_channel_command_checks_the_channel_and_locks_it(
        fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> None:
    settings = discord_settings(fake, tmp_path).model_copy(
        update={"coalition": CoalitionSettings(admins=[f"discord:{OWNER.id}"])})
    async with build_app(settings, clock=clock) as app:
        refused = await fake.send_slash_command("setup public-channel", {"channel": f"<#{GENERAL.id}>"},
                                                user_id=OWNER.id)
        assert "announcement channel" in embed_text((await refused.callback())["data"])
        assert await app.store.channels.bound("public", None) == []
        accepted = await fake.send_slash_command("setup public-channel", {"channel": f"<#{ANNOUNCEMENTS.id}>"},
                                                 user_id=OWNER.id)
        assert "now go to" in embed_text((await accepted.callback())["data"])
        assert [c.channel_id for c in await app.store.channels.bound("public", None)] == \
            [str(ANNOUNCEMENTS.id)]
        assert not fake.world.permissions_in(BOB.id, ANNOUNCEMENTS.id) & SEND_MESSAGES


# --- identity and roles --------------------------------------------------------------------------------


@pytest.mark.parametrize(("member_role", "coordinator_role"), [
    ("member", str(COORDINATOR_ROLE.id)),
    (str(MEMBER_ROLE.id), "Coordinator"),
], ids=["member-by-name", "coordinator-by-name"])
async def test_guild_roles_map_to_core_roles_by_name_or_id(
        fake: FakeDiscord, tmp_path: Path, clock: FixedClock, member_role: str, coordinator_role: str) -> None:
    async with discord_app(fake, tmp_path, clock, member_role=member_role,
                           coordinator_role=coordinator_role) as (app, _):
        for user in (ALICE, BOB, OWNER):
            await (await fake.send_slash_command("whoami", user_id=user.id)).callback()

        roles = {}
        for user in (ALICE, BOB, OWNER):
            record = await app.store.people.identity(Identity("discord", str(user.id)))
            assert record is not None
            roles[user.username] = record.platform_role
        assert roles == {"alice": Role.COORDINATOR, "bob": Role.MEMBER, "owner": Role.OUTSIDER}


async def test_a_modal_is_labelled_in_the_language_the_person_chose(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    """The client says en-US, the person chose French: the form's label is French, as the reply will be."""
    app, _ = running
    chose = await fake.send_slash_command("settings language", {"language": "fr"}, user_id=ALICE.id)
    await chose.callback()
    shown = await fake.send_slash_command("topic create", {"slug": "water", "visibility": "public"}, user_id=ALICE.id)
    body = await shown.callback()
    assert body["type"] == 9
    [row] = body["data"]["components"]
    french = app.services.translator.render(TITLE.help, "fr")
    assert french != "Title" and row["components"][0]["label"] == french
