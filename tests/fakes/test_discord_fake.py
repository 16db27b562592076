"""The fake Discord speaks the protocol the real discord.py 2.7 expects: login, gateway, app commands,
interactions, DMs, nonces, rate limits and publish limits. No part of the SDK is mocked."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord_server import (
    ALICE,
    ANNOUNCEMENTS,
    BOB,
    BOT,
    BOT_ROLE,
    CAROL,
    GENERAL,
    GUILD_ID,
    FakeDiscord,
)
from tests.fakes.faults import DROP_AFTER_STORE, DROP_BEFORE_STORE, ERROR_AFTER_STORE, OUTAGE, RATE_LIMITED, Fault

Bot = tuple[discord.Client, app_commands.CommandTree[discord.Client]]
TOPICS = ["climate", "housing", "health"]
GUILD = discord.Object(GUILD_ID)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vote:(?P<topic>[a-z]+)"):
    def __init__(self, topic: str) -> None:
        super().__init__(discord.ui.Button(label=f"Vote {topic}", custom_id=f"vote:{topic}"))
        self.topic = topic

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteButton:
        return cls(match["topic"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"{interaction.user.name} voted {self.topic}", ephemeral=True)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(label="Text", custom_id="feedback-text")

    def __init__(self) -> None:
        super().__init__(custom_id="feedback-modal")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


def build_bot(**options: Any) -> Bot:
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.1, **options)
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    topics = app_commands.Group(name="topics", description="Topic subscriptions")

    @topics.command(name="subscribe", description="Subscribe to a topic")
    async def subscribe(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.send_message(f"subscribed to {topic}", ephemeral=True)

    @subscribe.autocomplete("topic")
    async def complete_topic(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TOPICS if t.startswith(current)]

    @tree.command(name="feedback", description="Send feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @tree.command(name="slow", description="Answers after a deferral")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("done")

    tree.add_command(topics)
    client.add_dynamic_items(VoteButton)
    return client, tree


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord, **options: Any
) -> AsyncIterator[Bot]:
    client, tree = build_bot(**options)
    async with client:
        task = asyncio.create_task(client.start(fake.token))
        try:
            async with asyncio.timeout(5):
                await client.wait_until_ready()
            yield client, tree
        finally:
            await client.close()
            async with asyncio.timeout(5):
                await task


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(closed_dms=[CAROL.id]) as server:
        with server.patch_discord():
            yield server


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[Bot]:
    async with running_bot(fake) as running:
        yield running


@pytest.fixture
async def synced(bot: Bot) -> Bot:
    """The bot with its commands copied to and synced for the guild."""
    _, tree = bot
    tree.copy_global_to(guild=GUILD)
    await tree.sync(guild=GUILD)
    return bot


def text_channel(client: discord.Client, channel_id: int) -> discord.TextChannel:
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


@pytest.mark.parametrize("zlib_stream", [True, False], ids=["zlib-stream", "plain-json"])
async def test_login_reads_ready_and_guild_create(zlib_stream: bool) -> None:
    async with FakeDiscord(zlib_stream=zlib_stream) as fake:
        with fake.patch_discord():
            async with running_bot(fake) as (client, _):
                assert client.user is not None and client.user.id == BOT.id
                guild = client.get_guild(GUILD_ID)
                assert guild is not None and guild.name == "Coalition"
                assert text_channel(client, ANNOUNCEMENTS.id).is_news()
                assert guild.me.get_role(BOT_ROLE.id) is not None
                assert guild.get_member(ALICE.id) is None  # no GUILD_PRESENCES intent: only the bot is sent

            assert [r.route for r in fake.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]
            assert fake.gateway.connect_queries[0] == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
            assert fake.gateway.identifies[0]["intents"] == discord.Intents.default().value
            assert fake.gateway.heartbeats >= 1


async def test_responses_carry_exact_json_type_and_rate_limit_headers(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bot {fake.token}"}
        async with session.get(f"{fake.api_base}/users/@me", headers=headers) as response:
            assert response.headers["Content-Type"] == "application/json"
            assert response.headers["X-RateLimit-Limit"] == "50"
            assert response.headers["X-RateLimit-Remaining"] == "49"
            assert float(response.headers["X-RateLimit-Reset-After"]) <= 1.0
            assert response.headers["X-RateLimit-Bucket"]
        async with session.get(f"{fake.api_base}/users/@me") as response:
            assert response.status == 401


async def test_sync_then_slash_command_in_guild_and_dm(fake: FakeDiscord, bot: Bot) -> None:
    _, tree = bot
    tree.copy_global_to(guild=GUILD)
    synced = await tree.sync(guild=GUILD)
    await tree.sync()

    assert {c.name for c in synced} == {"topics", "feedback", "slow"}
    assert len(fake.requests_to("PUT", "/applications/{app}/guilds/{guild}/commands")) == 1
    assert [c["id"] for c in fake.synced_commands(GUILD_ID)] == [str(c.id) for c in synced]

    in_guild = await fake.send_slash_command("topics subscribe", {"topic": "climate"}, user_id=ALICE.id)
    body = await in_guild.callback()
    assert (body["type"], body["data"]["content"], body["data"]["flags"]) == (4, "subscribed to climate", 64)
    assert in_guild.original is not None and in_guild.original.ephemeral
    assert in_guild.payload["data"]["guild_id"] == str(GUILD_ID)

    in_dm = await fake.send_slash_command("topics subscribe", {"topic": "housing"}, user_id=CAROL.id, guild=False)
    assert (await in_dm.callback())["data"]["content"] == "subscribed to housing"
    assert in_dm.payload["user"]["id"] == str(CAROL.id) and "member" not in in_dm.payload
    assert [r.interaction_id for r in fake.interaction_responses] == [in_guild.id, in_dm.id]


@pytest.mark.usefixtures("synced")
async def test_autocomplete_answers_choices(fake: FakeDiscord) -> None:
    handle = await fake.send_autocomplete("topics subscribe", {"topic": "h"}, focused="topic", user_id=BOB.id)

    body = await handle.callback()
    assert body["type"] == 8
    assert [c["value"] for c in body["data"]["choices"]] == ["housing", "health"]


async def test_dynamic_button_click_in_guild_and_dm(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("climate"))
    posted = await text_channel(client, GENERAL.id).send("Vote!", view=view)
    alice = await client.fetch_user(ALICE.id)
    dm_view = discord.ui.View(timeout=None)
    dm_view.add_item(VoteButton("health"))
    in_dm = await alice.send("Vote privately", view=dm_view)

    click = await fake.send_component("vote:climate", user_id=BOB.id, message=posted.id)
    dm_click = await fake.send_component("vote:health", user_id=ALICE.id, message=in_dm.id)

    assert (await click.callback())["data"]["content"] == "bob voted climate"
    assert (await dm_click.callback())["data"]["content"] == "alice voted health"
    assert fake.messages[posted.id].custom_ids() == ["vote:climate"]


@pytest.mark.usefixtures("synced")
async def test_modal_shown_then_submitted(fake: FakeDiscord) -> None:
    shown = await fake.send_slash_command("feedback", user_id=ALICE.id)
    assert (await shown.callback())["type"] == 9
    submitted = await fake.send_modal_submit("feedback-modal", {"feedback-text": "great work"})

    assert (await submitted.callback())["data"]["content"] == "thanks: great work"


@pytest.mark.usefixtures("synced")
async def test_deferred_reply_is_filled_in_by_first_followup(fake: FakeDiscord) -> None:
    handle = await fake.send_slash_command("slow", user_id=BOB.id)

    assert (await handle.callback())["type"] == 5
    followup = await handle.followup()
    assert followup is handle.original
    assert followup.content == "done" and followup.ephemeral and not followup.flags & 128


async def test_dm_with_enforced_nonce_posts_once(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    alice = await client.fetch_user(ALICE.id)

    first = await alice.send("Meeting moved", nonce="delivery-42")
    second = await alice.send("Meeting moved", nonce="delivery-42")

    assert first.id == second.id
    [message] = fake.dm_messages_to(ALICE.id)
    assert (message.content, message.nonce, message.enforce_nonce) == ("Meeting moved", "delivery-42", True)
    assert len(fake.requests_to("POST", "/channels/{channel_id}/messages")) == 2


async def test_closed_dms_raise_forbidden_50007(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    carol = await client.fetch_user(CAROL.id)

    with pytest.raises(discord.Forbidden) as raised:
        await carol.send("hello")

    assert raised.value.code == 50007
    assert fake.dm_messages_to(CAROL.id) == []
    assert fake.invalid_request_count == 1


async def test_queued_429_is_waited_out_then_succeeds(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    fake.queue_failure("POST", "/channels/{channel_id}/messages", status=429, retry_after=0.2)

    await text_channel(client, GENERAL.id).send("after the limit")

    attempts = fake.requests_to("POST", f"/channels/{GENERAL.id}/messages")
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.2
    assert fake.rate_limited_count == 1
    assert [m.content for m in fake.messages_in(GENERAL.id)] == ["after the limit"]


async def test_queued_500_is_retried_by_discord_py(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    fake.queue_failure("POST", "/channels/{channel_id}/messages", status=500)

    await text_channel(client, GENERAL.id).send("eventually")

    assert [r.status for r in fake.requests_to("POST", "/channels/{channel_id}/messages")] == [500, 200]


async def test_bucket_headers_make_discord_py_pace_itself(fake: FakeDiscord) -> None:
    fake.route_limits["POST /channels/{channel_id}/messages"] = (2, 0.3)
    async with running_bot(fake) as (client, _):
        channel = text_channel(client, GENERAL.id)
        started = time.monotonic()
        for n in range(3):
            await channel.send(f"message {n}")

        assert time.monotonic() - started >= 0.25
        assert fake.rate_limited_count == 0
        history = [m.content async for m in channel.history(limit=2)]
        assert history == ["message 2", "message 1"]


async def test_publish_limit_answers_429_and_discord_py_gives_up(fake: FakeDiscord) -> None:
    fake.publish_limit = 2
    async with running_bot(fake, max_ratelimit_timeout=30.0) as (client, _):
        channel = text_channel(client, ANNOUNCEMENTS.id)
        posts = [await channel.send(f"news {n}") for n in range(3)]
        await posts[0].publish()
        await posts[1].publish()

        with pytest.raises(discord.RateLimited) as raised:
            await posts[2].publish()

    assert raised.value.retry_after > 3000
    assert fake.rate_limited_count == 1
    assert [m.crossposted for m in fake.messages_in(ANNOUNCEMENTS.id)] == [True, True, False]


async def test_permission_overwrite_is_stored_and_pushed_over_gateway(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    channel = text_channel(client, ANNOUNCEMENTS.id)
    bob = await channel.guild.fetch_member(BOB.id)

    await channel.set_permissions(bob, send_messages=True)

    [put] = fake.requests_to("PUT", "/channels/{channel_id}/permissions/{overwrite_id}")
    assert (put.json["allow"], put.json["deny"], put.json["type"]) == (str(1 << 11), "0", 1)
    await fake.wait_for(lambda: channel.overwrites_for(bob).send_messages)


async def test_reconnect_resumes_the_session(fake: FakeDiscord, synced: Bot) -> None:
    client, _ = synced
    resumed = asyncio.ensure_future(client.wait_for("resumed", timeout=5))

    await fake.request_reconnect()
    await resumed

    assert len(fake.gateway.resumes) == 1 and len(fake.gateway.identifies) == 1
    handle = await fake.send_slash_command("topics subscribe", {"topic": "health"}, user_id=BOB.id)
    assert (await handle.callback())["data"]["content"] == "subscribed to health"


async def test_files_go_multipart_with_payload_json(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    agenda = discord.File(io.BytesIO(b"1. budget"), "agenda.txt")

    sent = await text_channel(client, GENERAL.id).send("agenda", file=agenda)

    [message] = fake.messages_in(GENERAL.id)
    [upload] = message.files
    assert (message.content, upload.filename, upload.content) == ("agenda", "agenda.txt", b"1. budget")
    assert sent.attachments[0].filename == "agenda.txt"


async def test_global_limit_429_is_waited_out(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    users = [await client.fetch_user(user.id) for user in (ALICE, BOB)]
    for user in users:
        await user.create_dm()
    # Two requests a second: four sent at once meet a 429 unless the third arrives over a second after the
    # first (with 3, a busy machine spreading four requests over a second made the test fail without one; with
    # 1, discord.py's five tries could run out while waiting).
    fake.global_limit = 2

    await asyncio.gather(*(user.send(f"hello {n}") for n in range(2) for user in users))

    assert fake.rate_limited_count >= 1
    assert sum(len(fake.dm_messages_to(user.id)) for user in (ALICE, BOB)) == 4


@pytest.mark.usefixtures("synced")
async def test_late_interaction_callback_is_unknown_interaction(fake: FakeDiscord) -> None:
    fake.interaction_ack_deadline = 0.0

    handle = await fake.send_slash_command("topics subscribe", {"topic": "climate"}, user_id=ALICE.id)

    [late] = await fake.wait_for(lambda: fake.requests_to("POST", "/interactions/{id}/{token}/callback"))
    assert (late.status, handle.callback_body) == (404, None)


# --- faults (tests/fakes/faults.py) ---------------------------------------------------------------------------

POST_MESSAGE = "POST /channels/{channel_id}/messages"
OPEN_DM = "POST /users/@me/channels"


async def test_a_drop_after_store_keeps_the_post_and_the_same_nonce_returns_it(fake: FakeDiscord, bot: Bot) -> None:
    """discord.py does not re-send after a dropped connection; a retry with the same nonce finds the stored post."""
    client, _ = bot
    alice = await client.fetch_user(ALICE.id)
    fake.faults.add(Fault(POST_MESSAGE, DROP_AFTER_STORE))

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await alice.send("Meeting moved", nonce="delivery-7")
    [stored] = fake.dm_messages_to(ALICE.id)
    again = await alice.send("Meeting moved", nonce="delivery-7")

    assert again.id == stored.id and fake.dm_messages_to(ALICE.id) == [stored]
    assert [r.status for r in fake.requests_to("POST", "/channels/{channel_id}/messages")] == [0, 200]
    assert fake.faults.hits(POST_MESSAGE, DROP_AFTER_STORE) == 1


async def test_opening_a_dm_can_drop_before_or_after_it_is_made(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    bob = await client.fetch_user(BOB.id)
    fake.faults.add(Fault(OPEN_DM, DROP_BEFORE_STORE))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await bob.create_dm()
    fake.faults.add(Fault(OPEN_DM, DROP_AFTER_STORE))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await bob.create_dm()
    dm = await bob.create_dm()
    assert dm.id == fake.dm_channel_id(BOB.id)
    assert [r.status for r in fake.requests_to("POST", "/users/@me/channels")] == [0, 0, 200]


async def test_an_error_after_store_keeps_the_post_and_an_outage_keeps_nothing(fake: FakeDiscord, bot: Bot) -> None:
    client, _ = bot
    channel = text_channel(client, GENERAL.id)
    fake.faults.add(Fault(POST_MESSAGE, ERROR_AFTER_STORE, status=503))  # 503: discord.py does not retry it
    with pytest.raises(discord.DiscordServerError) as stored_then_failed:
        await channel.send("stored", nonce="n1")
    assert stored_then_failed.value.status == 503
    assert [m.content for m in fake.messages_in(GENERAL.id)] == ["stored"]

    outage = fake.faults.add(Fault(POST_MESSAGE, OUTAGE, times=None,
                                   where=lambda params: params["channel_id"] == str(GENERAL.id)))
    for _ in range(2):
        with pytest.raises(discord.DiscordServerError):
            await channel.send("during the outage")
    await text_channel(client, ANNOUNCEMENTS.id).send("another channel is fine")
    fake.faults.remove(outage)
    await channel.send("after it")
    assert [m.content for m in fake.messages_in(GENERAL.id)] == ["stored", "after it"]
    assert fake.faults.hits(kind=OUTAGE) == 2


async def test_a_rate_limit_fault_answers_429_as_discord_does(fake: FakeDiscord) -> None:
    async with running_bot(fake, max_ratelimit_timeout=30.0) as (client, _):
        channel = text_channel(client, GENERAL.id)
        fake.faults.add(Fault(POST_MESSAGE, RATE_LIMITED, retry_after=120))
        with pytest.raises(discord.RateLimited) as limited:
            await channel.send("not now")
        assert limited.value.retry_after == 120
        fake.faults.add(Fault(POST_MESSAGE, RATE_LIMITED, retry_after=0.1))
        await channel.send("after a short wait")  # discord.py waits a short one out itself
    assert [m.content for m in fake.messages_in(GENERAL.id)] == ["after a short wait"]
    assert fake.rate_limited_count == 2
