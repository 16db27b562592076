"""Channel set-up for ``setup public-channel`` / ``setup topic-channel``: make a channel read-only for everyone
but the bot, through permission overwrites.

Discord lets a bot allow or deny in an overwrite only permissions it holds itself (403, code 50013), so before
changing anything the overwrites asked for (:mod:`adapters.discord.permissions`) are compared with what the bot
holds, from a freshly fetched member, and the refusal names exactly the missing ones: nothing is changed
half-way. The bot's own overwrite goes first, so it never locks itself out.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from adapters.discord.permissions import (
    BOT_ALLOW,
    EVERYONE_DENY,
    TO_EDIT_OVERWRITES,
    Permission,
    invite_url,
    missing,
    names,
    value_of,
)
from bot.errors import UserError
from bot.i18n import Text, _

REASON = "coalition bot: only the bot posts here"


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


async def _bot_member(client: discord.Client, guild: discord.Guild) -> discord.Member:
    """The bot as a member now: without the members intent, a role given to it later may not be cached."""
    if client.user is None:
        raise SetupError(_("The bot is not connected to Discord yet. Nothing was changed; try again in a minute."))
    try:
        return await guild.fetch_member(client.user.id)
    except discord.HTTPException:
        if guild.me is None:
            raise SetupError(_("The bot cannot see its own membership of the server. Nothing was "
                               "changed.")) from None
        return guild.me


def refused_permissions(channel: discord.TextChannel, member: discord.Member) -> tuple[Permission, ...]:
    """What the overwrites ask that Discord would refuse: Manage Roles in the channel (to edit overwrites at
    all), and every permission allowed or denied that the bot holds neither in the server nor in the channel
    — unless it has Manage Roles through an overwrite of its own in that channel, which lifts that rule."""
    in_channel = channel.permissions_for(member)
    lacking = missing(in_channel.value, TO_EDIT_OVERWRITES)
    own = [channel.overwrites_for(member), *(channel.overwrites_for(role) for role in member.roles)]
    if any(overwrite.manage_roles for overwrite in own):
        return lacking
    held = member.guild_permissions.value | in_channel.value
    return tuple(sorted({*lacking, *missing(held, (*BOT_ALLOW, *EVERYONE_DENY))}, key=lambda p: p.bit))


def _refusal(client: discord.Client, channel: discord.TextChannel, lacking: tuple[Permission, ...]) -> SetupError:
    if client.application_id is None:
        return SetupError(_("The bot lacks these permissions in “{channel}”: {permissions}. Give them to the "
                            "bot's role (Server Settings → Roles), then try again. Nothing was changed.",
                            channel=channel.name, permissions=names(lacking)))
    return SetupError(_("The bot lacks these permissions in “{channel}”: {permissions}. Give them to the bot's "
                        "role (Server Settings → Roles) or invite it again with this link, then try again. "
                        "Nothing was changed.\n{url}", channel=channel.name, permissions=names(lacking),
                        url=invite_url(client.application_id)))


async def _bot_only(client: discord.Client, channel: discord.TextChannel) -> None:
    guild = channel.guild
    member = await _bot_member(client, guild)
    lacking = refused_permissions(channel, member)
    if lacking:
        raise _refusal(client, channel, lacking)
    bot = discord.PermissionOverwrite.from_pair(discord.Permissions(value_of(BOT_ALLOW)), discord.Permissions.none())
    everyone = discord.PermissionOverwrite.from_pair(discord.Permissions.none(),
                                                     discord.Permissions(value_of(EVERYONE_DENY)))
    try:
        await channel.set_permissions(member, overwrite=bot, reason=REASON)
        await channel.set_permissions(guild.default_role, overwrite=everyone, reason=REASON)
    except discord.Forbidden as error:
        # The check above agrees with Discord's rule; this is what is left (e.g. a role above the bot's).
        raise SetupError(_("Discord refused to change the permissions of “{channel}” (error {code}: {reason}). "
                           "Check that the bot's role may manage this channel's permissions.",
                           channel=channel.name, code=error.code, reason=error.text or str(error.status))) from None


async def setup_public_channel(client: discord.Client, guild_id: int, channel_id: int) -> ChannelSetup:
    """The public read-only channel must be an announcement channel, so other servers can Follow it."""
    channel = await _channel(client, guild_id, channel_id)
    if not channel.is_news():
        raise SetupError(_("“{channel}” is not an announcement channel. Enable Community in the server "
                           "settings, make the channel an announcement channel, then try again.",
                           channel=channel.name))
    await _bot_only(client, channel)
    return ChannelSetup(channel.id, _("“{channel}” is now the public channel: only the bot posts there, and "
                                      "every public announcement is published to the servers that follow it.",
                                      channel=channel.name))


async def setup_topic_channel(client: discord.Client, guild_id: int, channel_id: int) -> ChannelSetup:
    channel = await _channel(client, guild_id, channel_id)
    await _bot_only(client, channel)
    return ChannelSetup(channel.id, _("Only the bot posts in “{channel}” now.", channel=channel.name))
