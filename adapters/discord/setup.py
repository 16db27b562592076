"""Channel set-up the admin commands will call (``setup public-channel``, ``setup topic-channel``).

The core has no announcements or ``setup`` commands yet, so these are capabilities with tests; whoever
adds the commands calls them from the Discord adapter. Both make a channel read-only for everyone but the
bot, through permission overwrites: the bot is allowed first, so it never locks itself out half-way.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.errors import UserError
from bot.i18n import Text, _


class SetupError(UserError):
    """Readable reason the channel cannot be set up. A :class:`UserError`, so a core handler that calls
    these through the adapter answers with it like any other refusal."""


@dataclass(frozen=True, slots=True)
class ChannelSetup:
    channel_id: int
    message: Text


async def _channel(client: discord.Client, guild_id: int, channel_id: int) -> discord.TextChannel:
    guild = client.get_guild(guild_id)
    channel: object = guild.get_channel(channel_id) if guild is not None else None
    if channel is None:
        try:
            channel = await client.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden):
            raise SetupError(_("The bot cannot see that channel.")) from None
    if not isinstance(channel, discord.TextChannel) or channel.guild.id != guild_id:
        raise SetupError(_("That is not a text channel of the coalition's server."))
    return channel


async def _bot_only(channel: discord.TextChannel) -> None:
    guild = channel.guild
    try:
        await channel.set_permissions(guild.me, view_channel=True, send_messages=True, embed_links=True,
                                      attach_files=True, manage_messages=True,
                                      reason="coalition bot: only the bot posts here")
        await channel.set_permissions(guild.default_role, send_messages=False, send_messages_in_threads=False,
                                      create_public_threads=False, create_private_threads=False,
                                      reason="coalition bot: only the bot posts here")
    except discord.Forbidden:
        raise SetupError(_("The bot needs the Manage Roles and Manage Channels permissions on that "
                           "channel.")) from None


async def setup_public_channel(client: discord.Client, guild_id: int, channel_id: int) -> ChannelSetup:
    """The public read-only channel must be an announcement channel, so other servers can Follow it."""
    channel = await _channel(client, guild_id, channel_id)
    if not channel.is_news():
        raise SetupError(_("“{channel}” is not an announcement channel. Enable Community in the server "
                           "settings, make the channel an announcement channel, then try again.",
                           channel=channel.name))
    await _bot_only(channel)
    return ChannelSetup(channel.id, _("“{channel}” is now the public channel: only the bot posts there, and "
                                      "every public announcement is published to the servers that follow it.",
                                      channel=channel.name))


async def setup_topic_channel(client: discord.Client, guild_id: int, channel_id: int) -> ChannelSetup:
    channel = await _channel(client, guild_id, channel_id)
    await _bot_only(channel)
    return ChannelSetup(channel.id, _("Only the bot posts in “{channel}” now.", channel=channel.name))
