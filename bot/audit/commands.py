"""``audit``: for admins, who did what and when, newest first and paged, filtered by a person or a topic and
by how far back. Times are in the reader's zone and language, actions in words, people by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.audit import AuditEntry, AuditFilter, AuditStore
from bot.audit.declarations import AUDIT, PAGE, SINCE, WHO_OR_WHAT
from bot.audit.words import action_words, change_words, numbered_subject
from bot.commands.context import Context
from bot.commands.invoke import InvocationError, invoke
from bot.commands.routes import Route
from bot.errors import UserError
from bot.i18n import Msg, Text, _, moment
from bot.messages import Action, ActionStyle, Message
from bot.people.service import PeopleService
from bot.topics.service import TopicService

PAGE_SIZE = 15
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class AuditCommandDeps:
    log: AuditStore
    people: PeopleService
    topics: TopicService


def _looks_like_a_person(reference: str) -> bool:
    """A mention, ``@name`` or ``platform:id`` names a person; a bare word may be either (a topic first)."""
    text = reference.strip()
    return text.startswith(("<@", "@")) or ":" in text or " " in text


async def _filter(ctx: Context[AuditCommandDeps], since: datetime | None) -> tuple[AuditFilter, Msg | None]:
    """The filter the arguments ask for, and how the title names it (``None``: everything)."""
    reference = (ctx.get(WHO_OR_WHAT) or "").strip()
    if not reference:
        return AuditFilter(since=since), None
    if not _looks_like_a_person(reference):
        try:
            topic = await ctx.deps.topics.find_visible(ctx.caller, reference, allow_archived=True)
        except UserError:
            topic = None
        if topic is not None:
            return AuditFilter(topic_id=topic.id, topic_slug=topic.slug, since=since), topic.slug
    try:
        person = await ctx.deps.people.find(reference, ctx.caller)
    except UserError:
        if _looks_like_a_person(reference):
            raise
        raise UserError(_("Nobody and no topic is called “{name}”. Name a person (a mention or platform:id) "
                          "or a topic's short name.", name=reference), show_usage=True) from None
    return AuditFilter(person_id=person.id, since=since), person.display_name


def _since(ctx: Context[AuditCommandDeps]) -> datetime | None:
    window = ctx.optional_duration(SINCE)
    if window is None:
        return None
    if not window:
        raise UserError(_("“since” must be longer than no time at all, e.g. since:7d."), show_usage=True)
    try:
        return ctx.now - window
    except OverflowError:  # further back than the calendar goes: everything
        return None


async def _line(ctx: Context[AuditCommandDeps], entry: AuditEntry) -> Text:
    if entry.actor_id is None:
        actor: Msg = _("the bot")
    else:
        actor = entry.actor_name if entry.actor_name is not None else _("a former member")
    subject: Msg = numbered_subject(entry.subject) or entry.subject
    kind, _sep, number = entry.subject.partition(":")
    if kind == "person":  # by name while they exist; an erased person is never named again
        subject = await ctx.deps.people.display_name(int(number)) if number.isascii() and number.isdigit() \
            else _("a former member")
    when = moment(entry.at, ctx.caller.zone, "f")
    change = change_words(entry.action, entry.before, entry.after)
    if change is not None:
        return _("{when} — {actor} {action}: {subject} ({change})", when=when, actor=actor,
                 action=action_words(entry.action), subject=subject, change=change)
    return _("{when} — {actor} {action}: {subject}", when=when, actor=actor, action=action_words(entry.action),
             subject=subject)


async def audit(ctx: Context[AuditCommandDeps]) -> Message:
    page = ctx.page(PAGE, MAX_PAGE)
    since = _since(ctx)
    only, named = await _filter(ctx, since)
    entries = await ctx.deps.log.listing(only, (page - 1) * PAGE_SIZE, PAGE_SIZE + 1)
    shown = {name: value for name, value in (("filter", ctx.get(WHO_OR_WHAT)), ("since", ctx.get(SINCE)))
             if value}
    title = _("Audit log about {name} — page {page}", name=named, page=page) if named is not None \
        else _("Audit log — newest first, page {page}", page=page)
    if not entries:
        body = _("Nothing was recorded.") if page == 1 else _("There are no more entries.")
        return Message(title=title, body=(body,))
    lines = [await _line(ctx, entry) for entry in entries[:PAGE_SIZE]]
    actions: list[Action] = []
    if page > 1:
        actions += _page_action(_("Previous page"), shown, page - 1, ActionStyle.DEFAULT)
    if len(entries) > PAGE_SIZE and page < MAX_PAGE:
        actions += _page_action(_("Next page"), shown, page + 1, ActionStyle.PRIMARY)
    return Message(title=title, body=tuple(lines), actions=tuple(actions))


def _page_action(label: Text, shown: dict[str, str], page: int, style: ActionStyle) -> list[Action]:
    """A button for another page with the same filters; none for a filter the grammar cannot write back."""
    try:
        return [Action(label, invoke(AUDIT, **shown, page=page), style)]
    except InvocationError:
        return []


def routes() -> list[Route[AuditCommandDeps]]:
    return [Route(AUDIT, audit)]
