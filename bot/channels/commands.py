"""Channel commands: ``setup public-channel`` and ``setup topic-channel``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.channels.service import ChannelService
from bot.commands.context import Context
from bot.commands.routes import Route, route
from bot.commands.spec import Arg, ArgKind
from bot.errors import UserError
from bot.i18n import _
from bot.messages import Message
from bot.model import Role
from bot.topics.service import TopicService

_CHANNEL = re.compile(r"^<#([A-Za-z0-9]+)(?:\|[^>]*)?>$")


TOPIC = Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC)
CHANNEL = Arg("channel", _("A channel, e.g. #announcements"), max_length=100)


@dataclass(frozen=True, slots=True)
class ChannelCommandDeps:
    channels: ChannelService
    topics: TopicService


def parse_channel(reference: str) -> str:
    """``<#C123|general>`` (Slack), ``<#123>`` (Discord), ``#name`` or a bare id → the channel id."""
    reference = reference.strip()
    match = _CHANNEL.match(reference)
    if match:
        return match.group(1)
    channel = reference.lstrip("#")
    if not channel or any(c.isspace() for c in channel):
        raise UserError(_("“{channel}” is not a channel. Mention it, e.g. #announcements.", channel=reference))
    return channel


async def setup_public_channel(ctx: Context[ChannelCommandDeps]) -> Message:
    channel = parse_channel(ctx.value(CHANNEL))
    platform = ctx.caller.identity.identity.platform
    notes = await ctx.deps.channels.bind_public(ctx.caller, platform, channel)
    return Message(body=(_("Public announcements on {platform} now go to #{channel}.", platform=platform,
                           channel=channel), *notes))


async def setup_topic_channel(ctx: Context[ChannelCommandDeps]) -> Message:
    topic = await ctx.deps.topics.find_visible(ctx.caller, ctx.value(TOPIC))
    channel = parse_channel(ctx.value(CHANNEL))
    platform = ctx.caller.identity.identity.platform
    notes = await ctx.deps.channels.bind_topic(ctx.caller, topic, platform, channel)
    return Message(body=(_("Announcements to “{topic}” on {platform} now also go to #{channel}.", topic=topic.slug,
                           platform=platform, channel=channel), *notes))


def routes() -> list[Route[ChannelCommandDeps]]:
    return [
        route(("setup", "public-channel"), _("Choose the read-only channel for public announcements."),
              setup_public_channel, role=Role.ADMIN, args=(CHANNEL,)),
        route(("setup", "topic-channel"), _("Choose a channel that receives a topic's announcements."),
              setup_topic_channel, role=Role.ADMIN, args=(TOPIC, CHANNEL)),
    ]
