"""``setup`` changes only the bits the bot needs in a channel's overwrites and keeps every other one.

Discord replaces an overwrite whole (PUT of one allow/deny pair), and a channel is private because its
``@everyone`` overwrite denies View Channel: writing a fresh pair made a private channel readable by the whole
server, so every later members-only post in it too. Real discord.py against the fake, which stores exactly the
pair it is sent, as Discord does.
"""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from adapters.discord.permissions import CREATE_PRIVATE_THREADS, required_value
from adapters.discord.setup import SetupError, setup_public_channel, setup_topic_channel
from tests.adapters.discord.test_setup_permissions import OVERWRITE, render, started
from tests.fakes.discord_server import ANNOUNCEMENTS, BOB, BOT, GENERAL, GUILD_ID, FakeDiscord, default_guild
from tests.support import FixedClock

VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_ROLES = 1 << 28


def overwrite(fake: FakeDiscord, channel_id: int, target_id: int) -> tuple[int, int] | None:
    """The (allow, deny) pair Discord holds, ``None`` when there is no overwrite for that target."""
    found = fake.world.overwrites.get(channel_id, {}).get(target_id)
    return None if found is None else (int(found["allow"]), int(found["deny"]))


async def test_setting_up_a_private_channel_keeps_it_private(tmp_path: Path, clock: FixedClock) -> None:
    async with started(default_guild(), tmp_path, clock) as (fake, runner):
        await fake.set_overwrite(GENERAL.id, BOT.id, allow=VIEW_CHANNEL, member=True)  # the bot was added to it
        await fake.set_overwrite(GENERAL.id, GUILD_ID, allow=READ_MESSAGE_HISTORY, deny=VIEW_CHANNEL | EMBED_LINKS)

        await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)

        allow, deny = overwrite(fake, GENERAL.id, GUILD_ID) or (0, 0)
        assert deny & VIEW_CHANNEL and deny & EMBED_LINKS and deny & SEND_MESSAGES
        assert allow == READ_MESSAGE_HISTORY
        assert not fake.world.permissions_in(BOB.id, GENERAL.id) & VIEW_CHANNEL
        channel = await runner.client.fetch_channel(GENERAL.id)  # as discord.py computes it from Discord's state
        assert isinstance(channel, discord.TextChannel)
        assert channel.permissions_for(channel.guild.default_role).view_channel is False


async def test_the_bot_keeps_what_its_own_overwrite_gave_it(tmp_path: Path, clock: FixedClock) -> None:
    """An admin gave the bot Manage Roles (and more) in this channel only: setup keeps it, and with it the right
    to write the @everyone overwrite, which its server role alone would not give (no Create Private Threads)."""
    guild = default_guild(bot_permissions=required_value() & ~CREATE_PRIVATE_THREADS.bit, everyone_permissions=0)
    async with started(guild, tmp_path, clock) as (fake, runner):
        await fake.set_overwrite(GENERAL.id, BOT.id, allow=VIEW_CHANNEL | MANAGE_ROLES | MANAGE_MESSAGES, member=True)

        await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)

        allow, deny = overwrite(fake, GENERAL.id, BOT.id) or (0, 0)
        assert allow & (MANAGE_ROLES | MANAGE_MESSAGES | VIEW_CHANNEL | SEND_MESSAGES) == \
            MANAGE_ROLES | MANAGE_MESSAGES | VIEW_CHANNEL | SEND_MESSAGES
        assert deny == 0
        _, everyone_deny = overwrite(fake, GENERAL.id, GUILD_ID) or (0, 0)
        assert everyone_deny & CREATE_PRIVATE_THREADS.bit


async def test_a_kept_bit_the_bot_does_not_hold_is_named_and_nothing_changes(tmp_path: Path,
                                                                            clock: FixedClock) -> None:
    """Discord checks every bit of the pair written, kept ones included: the refusal comes before any write."""
    guild = default_guild(bot_permissions=required_value(), everyone_permissions=0)
    async with started(guild, tmp_path, clock) as (fake, runner):
        await fake.set_overwrite(ANNOUNCEMENTS.id, GUILD_ID, deny=MANAGE_MESSAGES)

        with pytest.raises(SetupError) as refused:
            await setup_public_channel(runner.client, fake.guild_id, ANNOUNCEMENTS.id)

        assert "“Manage Messages”" in render(refused.value) and "Nothing was changed" in render(refused.value)
        assert fake.requests_to("PUT", OVERWRITE) == []
        assert overwrite(fake, ANNOUNCEMENTS.id, GUILD_ID) == (0, MANAGE_MESSAGES)
        assert overwrite(fake, ANNOUNCEMENTS.id, BOT.id) is None


@pytest.mark.parametrize("bot_had", [None, (VIEW_CHANNEL, 0)], ids=["no-overwrite", "own-overwrite"])
async def test_a_refused_second_write_puts_the_first_back(tmp_path: Path, clock: FixedClock,
                                                          bot_had: tuple[int, int] | None) -> None:
    async with started(default_guild(), tmp_path, clock) as (fake, runner):
        if bot_had is not None:
            await fake.set_overwrite(GENERAL.id, BOT.id, allow=bot_had[0], deny=bot_had[1], member=True)
        fake.queue_failure("PUT", f"/channels/{GENERAL.id}/permissions/{GUILD_ID}", status=403, code=50013,
                           message="Missing Permissions")

        with pytest.raises(SetupError) as refused:
            await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)

        assert "error 50013" in render(refused.value)
        assert overwrite(fake, GENERAL.id, BOT.id) == bot_had
        assert overwrite(fake, GENERAL.id, GUILD_ID) is None


async def test_setup_merges_into_discords_overwrites_not_a_stale_cache(tmp_path: Path, clock: FixedClock) -> None:
    """An admin made the channel private a moment ago and the gateway has not told the bot yet."""
    async with started(default_guild(), tmp_path, clock) as (fake, runner):
        await fake.set_overwrite(GENERAL.id, BOT.id, allow=VIEW_CHANNEL, member=True)
        fake.world.overwrites[GENERAL.id][GUILD_ID] = {"id": str(GUILD_ID), "type": 0, "allow": "0",
                                                       "deny": str(VIEW_CHANNEL)}  # no CHANNEL_UPDATE yet

        await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)

        _, deny = overwrite(fake, GENERAL.id, GUILD_ID) or (0, 0)
        assert deny & VIEW_CHANNEL
        assert not fake.world.permissions_in(BOB.id, GENERAL.id) & VIEW_CHANNEL
