"""Announcement commands: ``announce new|confirm|cancel|list|edit|status|retry``."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.announcements.declarations import ANNOUNCE_CANCEL, ANNOUNCE_CONFIRM, ANNOUNCE_RETRY, ANNOUNCE_STATUS, NUMBER
from bot.announcements.report import state_label
from bot.announcements.retry import AnnouncementRetry
from bot.announcements.service import AnnouncementService
from bot.commands.context import Context
from bot.commands.invoke import invoke
from bot.commands.routes import Route, route
from bot.commands.spec import Arg, ArgKind, Option
from bot.delivery.status import OutboxReports
from bot.i18n import Text, _
from bot.messages import Action, Message, stamp
from bot.model import Role
from bot.topics.service import TopicService

TOPIC = Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC)
TEXT = Arg("text", _("The announcement text"), rest=True, max_length=4000)
WHEN = Option("when", _("now, in 2h, tomorrow 09:00, monday 14:00, 2026-12-01 14:00"), ArgKind.TIME)
ONLY_TOPIC = Arg("topic", _("Only this topic"), ArgKind.TOPIC, required=False)


@dataclass(frozen=True, slots=True)
class AnnouncementCommandDeps:
    announcements: AnnouncementService
    topics: TopicService
    retry: AnnouncementRetry
    outbox: OutboxReports
    """Read-only: the copies per platform for ``announce status``."""


async def announce_new(ctx: Context[AnnouncementCommandDeps]) -> Message:
    service = ctx.deps.announcements
    topic = await ctx.deps.topics.coordinated_topic(ctx.caller, ctx.value(TOPIC))
    when = ctx.optional_time(WHEN, max_ahead=service.config.max_ahead)
    send_at = when.instant if when is not None and when.instant > ctx.now else None  # now (or within a minute)
    announcement = await service.draft(ctx.caller, topic, ctx.value(TEXT), send_at)
    return await service.preview(ctx.caller, announcement, topic)


async def announce_confirm(ctx: Context[AnnouncementCommandDeps]) -> Message:
    return await ctx.deps.announcements.confirm(ctx.caller, ctx.number(NUMBER))


async def announce_cancel(ctx: Context[AnnouncementCommandDeps]) -> Message:
    return await ctx.deps.announcements.cancel(ctx.caller, ctx.number(NUMBER))


async def announce_edit(ctx: Context[AnnouncementCommandDeps]) -> Message:
    return await ctx.deps.announcements.edit(ctx.caller, ctx.number(NUMBER), ctx.value(TEXT))


async def announce_status(ctx: Context[AnnouncementCommandDeps]) -> Message:
    service = ctx.deps.announcements
    announcement, _topic = await service.coordinated(ctx.caller, ctx.number(NUMBER))
    report = await service.report(announcement)
    return replace(report, body=(*report.body, *await ctx.deps.outbox.announcement_lines(announcement.id)))


async def announce_retry(ctx: Context[AnnouncementCommandDeps]) -> Message:
    return await ctx.deps.retry.retry(ctx.caller, ctx.number(NUMBER))


async def announce_list(ctx: Context[AnnouncementCommandDeps]) -> Message:
    only = ctx.get(ONLY_TOPIC)
    if only:
        topic_ids: list[int] | None = [(await ctx.deps.topics.coordinated_topic(ctx.caller, only)).id]
    else:
        topic_ids = None if ctx.caller.role >= Role.COORDINATOR else sorted(ctx.caller.coordinated)
    announcements = await ctx.deps.announcements.recent(topic_ids)
    if not announcements:
        return Message(body=(_("No announcements yet."),))
    lines: list[Text | str] = []
    for a in announcements:
        topic = await ctx.deps.topics.get(a.topic_id)
        first_line = a.text.splitlines()[0][:80] if a.text else ""
        when = stamp(a.send_at or a.created_at, "f")
        lines.append(_("#{id} {topic} — {state}, {when}: {text}", id=a.id, topic=topic.slug if topic else "?",
                       state=state_label(a.state), when=when, text=first_line))
    return Message(title=_("Announcements"), body=tuple(lines),
                   actions=tuple(Action(_("Report #{id}", id=a.id), invoke(ANNOUNCE_STATUS, id=a.id))
                                 for a in announcements[:3]))


def routes() -> list[Route[AnnouncementCommandDeps]]:
    return [
        route(("announce", "new"), _("Write an announcement to a topic; you see a preview first."), announce_new,
              role=Role.COORDINATOR, topic_arg="topic", args=(TOPIC, TEXT), options=(WHEN,)),
        Route(ANNOUNCE_CONFIRM, announce_confirm),
        Route(ANNOUNCE_CANCEL, announce_cancel),
        route(("announce", "list"), _("List recent announcements."), announce_list, role=Role.COORDINATOR,
              args=(ONLY_TOPIC,)),
        route(("announce", "edit"), _("Change an announcement's text, also in copies already sent."),
              announce_edit, role=Role.COORDINATOR, args=(NUMBER, TEXT)),
        Route(ANNOUNCE_STATUS, announce_status),
        Route(ANNOUNCE_RETRY, announce_retry),
    ]
