"""Commands for announcements and for binding channels (``announce …``, ``setup …``)."""

from __future__ import annotations

import re

from bot.commands.context import Context
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.errors import UserError
from bot.i18n import Msg, Text, _
from bot.messages import Action, Message, stamp
from bot.model import Role
from bot.ports import ChannelInspector, ChannelPreparer
from bot.topics.model import Visibility
from bot.when import parse_when

_CHANNEL = re.compile(r"^<#([A-Za-z0-9]+)(?:\|[^>]*)?>$")


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


async def announce_new(ctx: Context) -> Message:
    service = ctx.services.announcements
    topic = await ctx.services.topics.coordinated_topic(ctx.caller, ctx.arg("topic"))
    when = ctx.opt("when")
    send_at = None
    if when and when.strip().lower() != "now":
        send_at = parse_when(when, ctx.caller.zone, ctx.now, max_ahead=service.config.max_ahead)
        if send_at <= ctx.now:
            send_at = None
    announcement = await service.draft(ctx.caller, topic, ctx.arg("text"), send_at)
    return await service.preview(ctx.caller, announcement, topic)


async def announce_confirm(ctx: Context) -> Message:
    return await ctx.services.announcements.confirm(ctx.caller, ctx.int_arg("id"))


async def announce_cancel(ctx: Context) -> Message:
    return await ctx.services.announcements.cancel(ctx.caller, ctx.int_arg("id"))


async def announce_edit(ctx: Context) -> Message:
    return await ctx.services.announcements.edit(ctx.caller, ctx.int_arg("id"), ctx.arg("text"))


async def announce_status(ctx: Context) -> Message:
    service = ctx.services.announcements
    announcement, _topic = await service.coordinated(ctx.caller, ctx.int_arg("id"))
    return await service.report(announcement)


async def announce_list(ctx: Context) -> Message:
    store = ctx.services.store
    if ctx.opt("topic"):
        topic_ids: list[int] | None = [(await ctx.services.topics.coordinated_topic(ctx.caller, ctx.arg("topic"))).id]
    else:
        topic_ids = None if ctx.caller.role >= Role.COORDINATOR else sorted(ctx.caller.coordinated)
    announcements = await store.announcements.recent(topic_ids)
    if not announcements:
        return Message(body=(_("No announcements yet."),))
    from bot.announcements.service import state_label

    lines: list[Text | str] = []
    for a in announcements:
        topic = await store.topics.get(a.topic_id)
        first_line = a.text.splitlines()[0][:80] if a.text else ""
        when = stamp(a.send_at or a.created_at, "f")
        lines.append(_("#{id} {topic} — {state}, {when}: {text}", id=a.id, topic=topic.slug if topic else "?",
                       state=state_label(a.state), when=when, text=first_line))
    return Message(title=_("Announcements"), body=tuple(lines),
                   actions=tuple(Action(_("Report #{id}", id=a.id), f"announce status {a.id}")
                                 for a in announcements[:3]))


async def setup_public_channel(ctx: Context) -> Message:
    channel = parse_channel(ctx.arg("channel"))
    platform = ctx.caller.identity.identity.platform
    adapter = ctx.services.adapters(platform)
    notes: list[Msg] = []
    if isinstance(adapter, ChannelPreparer):
        notes.append(await adapter.prepare_public_channel(channel))
    else:
        notes.append(_("Make sure only the bot can post there."))
    await ctx.services.store.announcements.bind_channel("public", None, platform, channel, ctx.now)
    await ctx.services.store.audit.record(ctx.caller.person.id, "setup.public-channel", f"{platform}:{channel}",
                                          None, channel, ctx.now)
    return Message(body=(_("Public announcements on {platform} now go to #{channel}.", platform=platform,
                           channel=channel), *notes))


async def setup_topic_channel(ctx: Context) -> Message:
    topic = await ctx.services.topics.find_visible(ctx.caller, ctx.arg("topic"))
    channel = parse_channel(ctx.arg("channel"))
    platform = ctx.caller.identity.identity.platform
    adapter = ctx.services.adapters(platform)
    if topic.visibility is not Visibility.PUBLIC and isinstance(adapter, ChannelInspector) \
            and await adapter.channel_is_public(channel):
        raise UserError(_("#{channel} can be read by everyone, but “{topic}” is not public. Choose a private "
                          "channel.", channel=channel, topic=topic.slug))
    notes: list[Msg] = []
    if isinstance(adapter, ChannelPreparer):
        notes.append(await adapter.prepare_topic_channel(channel))
    await ctx.services.store.announcements.bind_channel("topic", topic.id, platform, channel, ctx.now)
    await ctx.services.store.audit.record(ctx.caller.person.id, "setup.topic-channel", topic.slug, None,
                                          f"{platform}:{channel}", ctx.now)
    return Message(body=(_("Announcements to “{topic}” on {platform} now also go to #{channel}.", topic=topic.slug,
                           platform=platform, channel=channel), *notes))


def commands() -> list[Command]:
    number = Arg("id", _("The announcement number, e.g. 12"), ArgKind.INTEGER, max_length=12)
    topic = Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC)
    text = Arg("text", _("The announcement text"), rest=True, max_length=4000)
    channel = Arg("channel", _("A channel, e.g. #announcements"), max_length=100)
    return [
        Command(("announce", "new"), _("Write an announcement to a topic; you see a preview first."), announce_new,
                role=Role.COORDINATOR, topic_arg="topic", args=(topic, text),
                options=(Option("when", _("now, in 2h, tomorrow 09:00, monday 14:00, 2026-12-01 14:00")),)),
        Command(("announce", "confirm"), _("Send or schedule a previewed announcement."), announce_confirm,
                role=Role.COORDINATOR, args=(number,)),
        Command(("announce", "cancel"), _("Cancel an announcement; sent copies are removed where possible."),
                announce_cancel, role=Role.COORDINATOR, args=(number,)),
        Command(("announce", "list"), _("List recent announcements."), announce_list, role=Role.COORDINATOR,
                args=(Arg("topic", _("Only this topic"), ArgKind.TOPIC, required=False),)),
        Command(("announce", "edit"), _("Change an announcement's text, also in copies already sent."),
                announce_edit, role=Role.COORDINATOR, args=(number, text)),
        Command(("announce", "status"), _("The delivery report of an announcement."), announce_status,
                role=Role.COORDINATOR, args=(number,)),
        Command(("setup", "public-channel"), _("Choose the read-only channel for public announcements."),
                setup_public_channel, role=Role.ADMIN, args=(channel,)),
        Command(("setup", "topic-channel"), _("Choose a channel that receives a topic's announcements."),
                setup_topic_channel, role=Role.ADMIN, args=(topic, channel)),
    ]
