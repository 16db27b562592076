"""An announcement channel forwards what the bot posts to every server that follows it, so it counts as public
whoever can view it in the coalition's server, and the bot publishes only in the coalition's public channel.
Real discord.py against the loopback fake."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord

from adapters.discord.client import DiscordRunner
from app.assembly import App, build_app
from app.settings import CoalitionSettings
from bot.messages import Message
from tests.adapters.discord.test_discord_adapter import discord_settings, embed_text, make_topics
from tests.fakes.discord_server import ANNOUNCEMENTS, BOT, GENERAL, GUILD_ID, OWNER, FakeDiscord
from tests.support import FixedClock

VIEW_CHANNEL = 1 << 10
CROSSPOST = "/channels/{channel_id}/messages/{message_id}/crosspost"
OVERWRITE = "/channels/{channel_id}/permissions/{overwrite_id}"


async def make_private(fake: FakeDiscord, runner: DiscordRunner, channel_id: int) -> None:
    """Only the bot (added by an admin) can view the channel; discord.py's cache has heard of it."""
    for target, allow, deny in ((BOT.id, VIEW_CHANNEL, 0), (GUILD_ID, 0, VIEW_CHANNEL)):
        updated = asyncio.create_task(runner.client.wait_for("guild_channel_update", timeout=fake.timeout))
        await fake.set_overwrite(channel_id, target, allow=allow, deny=deny, member=target == BOT.id)
        await updated
    channel = runner.client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    assert not channel.permissions_for(channel.guild.default_role).view_channel


async def post(app: App, runner: DiscordRunner, channel_id: int, key: str) -> None:
    message = Message(body=("Members only: the meeting moved",)).render(app.services.translator, "en")
    await runner.delivery.send_channel(str(channel_id), message, delivery_key=key)


# --- the privacy check ----------------------------------------------------------------------------------


async def test_an_announcement_channel_counts_as_public_even_when_only_members_see_it(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    _, runner = running
    await make_private(fake, runner, ANNOUNCEMENTS.id)
    await make_private(fake, runner, GENERAL.id)

    assert await runner.delivery.channel_is_public(str(ANNOUNCEMENTS.id)) is True
    assert await runner.delivery.channel_is_public(str(GENERAL.id)) is False


async def test_a_members_topic_cannot_be_bound_to_a_private_announcement_channel(
        fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> None:
    settings = discord_settings(fake, tmp_path).model_copy(
        update={"coalition": CoalitionSettings(admins=[f"discord:{OWNER.id}"])})
    async with build_app(settings, clock=clock) as app:
        [runner] = app.platform_runners
        assert isinstance(runner, DiscordRunner)
        await make_topics(app)
        await make_private(fake, runner, ANNOUNCEMENTS.id)
        writes_before = len(fake.requests_to("PUT", OVERWRITE))

        for topic in ("campaigns", "casework"):
            refused = await fake.send_slash_command(
                "setup topic-channel", {"topic": topic, "channel": f"<#{ANNOUNCEMENTS.id}>"}, user_id=OWNER.id)
            assert "can be read by everyone" in embed_text((await refused.callback())["data"])
            found = await app.store.topics.by_slug(topic)
            assert found is not None and await app.store.channels.bound("topic", found.id) == []
        assert len(fake.requests_to("PUT", OVERWRITE)) == writes_before  # the channel was not touched


async def test_the_privacy_check_asks_discord_not_the_gateway_cache(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    """An admin opened the channel a moment ago; the gateway has not told the bot yet."""
    _, runner = running
    await make_private(fake, runner, GENERAL.id)
    del fake.world.overwrites[GENERAL.id][GUILD_ID]  # no CHANNEL_UPDATE yet

    assert await runner.delivery.channel_is_public(str(GENERAL.id)) is True


# --- publishing -----------------------------------------------------------------------------------------


async def test_posts_in_an_announcement_channel_that_is_not_the_public_channel_are_not_published(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, runner = running

    await post(app, runner, ANNOUNCEMENTS.id, "channel:1")
    await runner.publishes.run_due()

    [message] = fake.messages_in(ANNOUNCEMENTS.id)  # posted, as the binding asked
    assert not message.crossposted and fake.requests_to("POST", CROSSPOST) == []
    [record] = await runner.publishes.all()  # recorded, not dropped silently
    assert record.status == "failed" and record.reason is not None and record.reason.startswith("withheld")


async def test_the_public_channel_is_not_published_while_a_topic_that_is_not_public_is_bound_to_it(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    """A binding made before announcement channels counted as public: the channel no longer carries public
    posts alone, so nothing posted there is forwarded to other servers."""
    app, runner = running
    await make_topics(app)
    now = app.services.clock.now()
    await app.store.channels.bind("public", None, "discord", str(ANNOUNCEMENTS.id), now)
    await post(app, runner, ANNOUNCEMENTS.id, "public:1")
    campaigns = await app.store.topics.by_slug("campaigns")
    assert campaigns is not None
    await app.store.channels.bind("topic", campaigns.id, "discord", str(ANNOUNCEMENTS.id), now)

    await post(app, runner, ANNOUNCEMENTS.id, "channel:2")
    await runner.publishes.run_due()

    assert [m.crossposted for m in fake.messages_in(ANNOUNCEMENTS.id)] == [True, False]
    assert [p.status for p in await runner.publishes.all()] == ["published", "failed"]
