"""Channel set-up for ``setup public-channel`` / ``setup topic-channel``: make a channel read-only for everyone
but the bot, through permission overwrites.

Discord replaces an overwrite whole (PUT of one allow/deny pair), and a channel is private *because* of its
``@everyone`` overwrite's View Channel deny: so each overwrite written here is the channel's current one —
fetched fresh, not from the gateway cache, which may not have seen an admin's last change yet — with only the
bits this bot needs changed. Writing a fresh pair instead would make a private channel readable by the whole
server, and take from the bot what an admin gave it there.

Discord lets a bot allow or deny in an overwrite only permissions it holds itself (403, code 50013), and the
check covers every bit of the pair written, kept bits included. So before changing anything the merged
overwrites are compared with what the bot holds, from a freshly fetched member, and the refusal names exactly
the missing ones. The bot's own overwrite goes first, so it never locks itself out; if Discord still refuses
the second, the first is put back: a refusal changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import discord

from adapters.discord.permissions import (
    ADMINISTRATOR,
    BOT_ALLOW,
    EVERYONE_DENY,
    TO_EDIT_OVERWRITES,
    Permission,
    invite_url,
    missing,
    names,
    of_bits,
)
from bot.errors import UserError
from bot.i18n import Text, _

log = logging.getLogger(__name__)

REASON = "coalition bot: only the bot posts here"
UNDO_REASON = "coalition bot: set-up refused, putting the overwrite back"
_ATTRIBUTES = {bit: name for name, bit in reversed(discord.Permissions.VALID_FLAGS.items())}
"""Bit → discord.py's attribute name (the first of its aliases), to name permissions an existing overwrite sets."""


class SetupError(UserError):
    """Readable reason the channel cannot be set up. A :class:`UserError`, so a core handler that calls
    these through the adapter answers with it like any other refusal."""


@dataclass(frozen=True, slots=True)
class ChannelSetup:
    channel_id: int
    message: Text


@dataclass(frozen=True, slots=True)
class OverwriteChange:
    """One overwrite set-up writes: ``after`` is the channel's existing overwrite for ``target`` with only the
    bot's bits changed; ``before`` is what to put back if a later write is refused (``None``: there was none)."""

    target: discord.Member | discord.Role
    before: discord.PermissionOverwrite | None
    after: discord.PermissionOverwrite

    @property
    def asked(self) -> int:
        """Every bit the PUT carries, allowed or denied: what Discord checks the bot holds."""
        allow, deny = self.after.pair()
        return allow.value | deny.value


def merged(channel: discord.abc.GuildChannel, target: discord.Member | discord.Role,
           permissions: Iterable[Permission], value: bool) -> OverwriteChange:
    """The channel's overwrite for ``target`` with ``permissions`` set to allow (``True``) or deny; every other
    bit — above all ``@everyone``'s View Channel deny that makes a channel private — kept as it is."""
    before = channel.overwrites_for(target)
    after = channel.overwrites_for(target)
    after.update(**{permission.attribute: value for permission in permissions})
    existed = any(existing.id == target.id for existing in channel.overwrites)
    return OverwriteChange(target, before if existed else None, after)


async def _channel(client: discord.Client, guild_id: int, channel_id: int) -> discord.TextChannel:
    """The channel as Discord has it now. The cached copy only when Discord will not show it to the bot (no
    View Channel): then nothing can be written, and the refusal computed from it names what is missing."""
    guild = client.get_guild(guild_id)
    if guild is None:
        raise SetupError(_("The bot is not connected to Discord yet. Nothing was changed; try again in a minute."))
    channel: object
    try:
        channel = await client.fetch_channel(channel_id)
    except (discord.NotFound, discord.Forbidden):
        channel = guild.get_channel(channel_id)
        if channel is None:
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


def refused_permissions(channel: discord.TextChannel, member: discord.Member,
                        changes: Iterable[OverwriteChange]) -> tuple[Permission, ...]:
    """What Discord would refuse of ``changes``: Manage Roles in the channel (to edit overwrites at all), and
    every permission a written pair allows or denies that the bot holds neither in the server nor in the
    channel — unless it has Manage Roles through an overwrite of its own in that channel, which lifts that rule."""
    in_channel = channel.permissions_for(member)
    lacking = missing(in_channel.value, TO_EDIT_OVERWRITES)
    own = [channel.overwrites_for(member), *(channel.overwrites_for(role) for role in member.roles)]
    if any(overwrite.manage_roles for overwrite in own):
        return lacking
    held = member.guild_permissions.value | in_channel.value
    asked = 0
    for change in changes:
        asked |= change.asked
    unheld = of_bits(0 if held & ADMINISTRATOR else asked & ~held, _ATTRIBUTES)
    return tuple(sorted({p.bit: p for p in (*lacking, *unheld)}.values(), key=lambda p: p.bit))


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
    changes = (merged(channel, member, BOT_ALLOW, True), merged(channel, guild.default_role, EVERYONE_DENY, False))
    lacking = refused_permissions(channel, member, changes)
    if lacking:
        raise _refusal(client, channel, lacking)
    written: list[OverwriteChange] = []
    try:
        for change in changes:
            await channel.set_permissions(change.target, overwrite=change.after, reason=REASON)
            written.append(change)
    except Exception as error:
        await _put_back(channel, written)
        if not isinstance(error, discord.Forbidden):
            raise
        # The check above agrees with Discord's rule; this is what is left (e.g. a role above the bot's).
        raise SetupError(_("Discord refused to change the permissions of “{channel}” (error {code}: {reason}). "
                           "Check that the bot's role may manage this channel's permissions.",
                           channel=channel.name, code=error.code, reason=error.text or str(error.status))) from None


async def _put_back(channel: discord.TextChannel, written: list[OverwriteChange]) -> None:
    """Undo the overwrites already written, newest first. Only the bot's own can be among them (it goes first),
    so a failure here leaves the bot a few more permissions in the channel, never others: logged, not raised."""
    for change in reversed(written):
        try:
            await channel.set_permissions(change.target, overwrite=change.before, reason=UNDO_REASON)
        except discord.HTTPException:
            log.warning("Discord: could not put back the overwrite of %s in channel %s after a refused set-up",
                        change.target.id, channel.id, exc_info=True)


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
