"""Topic commands: ``topics``, ``topic create|edit|archive|unarchive|invite``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bot.audit import AuditAction
from bot.channels.service import ChannelService
from bot.commands.context import Context
from bot.commands.invoke import invoke
from bot.commands.routes import Route, route
from bot.commands.spec import Arg, ArgKind, Option
from bot.errors import UserError
from bot.i18n import Text, _, _n
from bot.messages import Action, ActionStyle, Message
from bot.model import Role
from bot.people.service import PeopleService
from bot.subscriptions.declarations import SUBSCRIBE
from bot.topics.access import knows_of, needs_approval
from bot.topics.declarations import TOPIC, TOPIC_UNARCHIVE
from bot.topics.model import InviteOutcome, Policy, Topic, Visibility
from bot.topics.service import TopicService, describe_access, visibility_label

VISIBILITIES = tuple(v.value for v in Visibility)
POLICIES = tuple(p.value for p in Policy)

SLUG = Arg("slug", _("Short name: lower-case letters, digits and dashes"), max_length=40)
TITLE = Arg("title", _("Title"), rest=True, max_length=200)
PERSON = Arg("person", _("Who: a name, a mention or platform:id"), ArgKind.PERSON)
VISIBILITY = Option("visibility", _("Who can see it"), ArgKind.CHOICE, VISIBILITIES)
POLICY = Option("policy", _("Who can join: anyone, or after approval"), ArgKind.CHOICE, POLICIES)
DESCRIPTION = Option("description", _("What the topic is about"), max_length=1000)
NEW_TITLE = Option("title", _("New title"))
NEW_DESCRIPTION = Option("description", _("New description"), max_length=1000)
MAX_BUTTONS = 5


@dataclass(frozen=True, slots=True)
class TopicCommandDeps:
    topics: TopicService
    people: PeopleService
    channels: ChannelService


async def list_topics(ctx: Context[TopicCommandDeps]) -> Message:
    """Active topics with who may see them and whether joining needs approval; below them, the archived
    topics the caller coordinates (only they can see those), so an archived topic is never lost to them."""
    service, caller = ctx.deps.topics, ctx.caller
    known = [k for k in await service.known(caller) if k.visible]
    visible = [k.topic for k in known]
    invited = {k.topic.id for k in known if k.invited}
    active = [t for t in visible if not t.archived]
    archived = [t for t in visible if t.archived]
    if not visible:
        return Message(body=(_("There are no topics yet."),))
    subscribed = await service.modes_of(caller.person.id)
    requested = await service.requested_by(caller.person.id)
    lines: list[Text | str] = [_n("{n} topic:", "{n} topics:", len(active)) if active
                               else _("No topic is active.")]
    actions: list[Action] = []
    unbuttoned = 0
    for topic in active:
        marker: Text | str = ""
        if topic.id in subscribed:
            marker = _(" — subscribed ({mode})", mode=subscribed[topic.id].label)
        elif topic.id in requested:
            marker = _(" — your request is waiting for a coordinator")
        lines.append(_("• {slug} — {title} ({visibility}){marker}", slug=topic.slug, title=topic.title,
                       visibility=describe_access(topic), marker=marker))
        if topic.id in subscribed or topic.id in requested:
            continue
        if len(actions) >= MAX_BUTTONS:
            unbuttoned += 1
        else:
            actions.append(_join_action(ctx, topic, invited=topic.id in invited))
    if unbuttoned:
        lines.append(_n("{n} more topic has no button: type “subscribe <topic>” to follow it.",
                        "{n} more topics have no button: type “subscribe <topic>” to follow them.", unbuttoned))
    if archived:
        lines.append(_n("{n} archived topic you coordinate (nothing is sent to it):",
                        "{n} archived topics you coordinate (nothing is sent to them):", len(archived)))
        lines += [_("• {slug} — {title} ({visibility}) — archived", slug=t.slug, title=t.title,
                    visibility=describe_access(t)) for t in archived]
        lines.append(_("Bring one back with “topic unarchive <topic>”."))
    return Message(title=_("Topics"), body=tuple(lines), actions=tuple(actions))


def _join_action(ctx: Context[TopicCommandDeps], topic: Topic, *, invited: bool) -> Action:
    """"Subscribe", or "Ask to join" where a click only sends a request: the button says what it will do."""
    if needs_approval(topic, ctx.caller.role, ctx.caller.coordinated, invited=invited):
        return Action(_("Ask to join {topic}", topic=topic.slug), invoke(SUBSCRIBE, topic=topic.slug))
    return Action(_("Subscribe to {topic}", topic=topic.slug), invoke(SUBSCRIBE, topic=topic.slug))


async def create_topic(ctx: Context[TopicCommandDeps]) -> Message:
    slug = ctx.value(SLUG).lower()
    visibility = ctx.optional_choice(VISIBILITY, Visibility) or Visibility.PUBLIC
    policy = ctx.optional_choice(POLICY, Policy) or Policy.OPEN
    topic = await ctx.deps.topics.create(ctx.caller, slug, ctx.value(TITLE), ctx.get(DESCRIPTION) or "",
                                         visibility, policy)
    return Message(body=(_("Topic “{topic}” created: {title} ({access}).", topic=slug, title=topic.title,
                           access=describe_access(topic)),),
                   actions=(Action(_("Subscribe"), invoke(SUBSCRIBE, topic=slug), ActionStyle.PRIMARY),))


async def edit_topic(ctx: Context[TopicCommandDeps]) -> Message:
    """An archived topic may be edited too (its coordinator may want to fix it before bringing it back)."""
    service = ctx.deps.topics
    topic = await service.coordinated_topic(ctx.caller, ctx.value(TOPIC), allow_archived=True)
    if not any(ctx.get(option) for option in ctx.command.options):
        raise UserError(_("Say what to change, e.g. title:“New title” or visibility:members."), show_usage=True)
    updated = dataclasses.replace(
        topic,
        title=ctx.get(NEW_TITLE) or topic.title,
        description=ctx.get(NEW_DESCRIPTION) or topic.description,
        visibility=ctx.optional_choice(VISIBILITY, Visibility) or topic.visibility,
        policy=ctx.optional_choice(POLICY, Policy) or topic.policy,
    )
    if updated.visibility is not Visibility.PUBLIC and topic.visibility is Visibility.PUBLIC:
        public = await ctx.deps.channels.public_topic_channel(topic.id)
        if public is not None:
            raise UserError(_("#{channel} can be read by everyone, so “{topic}” cannot stop being public "
                              "while it posts there. Bind a private channel first (setup topic-channel).",
                              channel=public, topic=topic.slug))
    closed = await service.update(ctx.caller, topic, updated, AuditAction.TOPIC_EDIT)
    body: list[Text | str] = [_("Topic “{topic}” updated.", topic=topic.slug)]
    if closed:
        body.append(_n("{n} waiting request no longer needs an answer; the requester was told they can join.",
                       "{n} waiting requests no longer need an answer; the requesters were told they can join.",
                       closed))
    return Message(body=tuple(body))


async def archive_topic(ctx: Context[TopicCommandDeps]) -> Message:
    service = ctx.deps.topics
    topic = await service.coordinated_topic(ctx.caller, ctx.value(TOPIC), allow_archived=True)
    if topic.archived:
        return Message(body=(_("Topic “{topic}” is archived already.", topic=topic.slug),))
    closed = await service.archive(ctx.caller, topic)
    body: list[Text | str] = [
        _("Topic “{topic}” is archived. Its history is kept; nothing more is sent to it.", topic=topic.slug)]
    if closed.requests:
        body.append(_n("{n} waiting request was closed and its requester told.",
                       "{n} waiting requests were closed and their requesters told.", closed.requests))
    if closed.invitations:
        body.append(_n("{n} open invitation was withdrawn and the invitee told.",
                       "{n} open invitations were withdrawn and the invitees told.", closed.invitations))
    body.append(_("Bring it back with “topic unarchive {topic}”.", topic=topic.slug))
    return Message(body=tuple(body), actions=(Action(_("Undo"), invoke(TOPIC_UNARCHIVE, topic=topic.slug)),))


async def unarchive_topic(ctx: Context[TopicCommandDeps]) -> Message:
    service = ctx.deps.topics
    topic = await service.coordinated_topic(ctx.caller, ctx.value(TOPIC), allow_archived=True)
    if not topic.archived:
        return Message(body=(_("Topic “{topic}” is not archived. Nothing changed.", topic=topic.slug),))
    await service.unarchive(ctx.caller, topic)
    followers = await service.follower_count(topic)
    return Message(body=(_("Topic “{topic}” is active again and listed in “topics”.", topic=topic.slug),
                         _n("Its {n} follower receives its posts again.", "Its {n} followers receive its posts again.",
                            followers)))


async def invite_to_topic(ctx: Context[TopicCommandDeps]) -> Message:
    service = ctx.deps.topics
    topic = await service.coordinated_topic(ctx.caller, ctx.value(TOPIC))
    person = await ctx.deps.people.find(ctx.value(PERSON), ctx.caller)
    invitee = await ctx.deps.people.caller_for_person(person.id)
    if not knows_of(topic, invitee.role, invitee.coordinated, subscribed=False, invited=True):
        # An invitation never overrides visibility: the Join button would answer "there is no topic".
        raise UserError(_("{person} cannot see “{topic}” ({visibility}), so an invitation would not let them "
                          "join. Grant them the member role first.", person=person.display_name,
                          topic=topic.slug, visibility=visibility_label(topic.visibility)))
    outcome = await service.invite(ctx.caller, topic, person.id)
    if outcome is InviteOutcome.FOLLOWS:
        return Message(body=(_("{person} already follows “{topic}”.", person=person.display_name,
                               topic=topic.slug),))
    if outcome is InviteOutcome.INVITED_ALREADY:
        return Message(body=(_("{person} is already invited to “{topic}”. Nothing changed.",
                               person=person.display_name, topic=topic.slug),))
    return Message(body=(_("{person} is invited to “{topic}” and has been told.", person=person.display_name,
                           topic=topic.slug),))


def routes() -> list[Route[TopicCommandDeps]]:
    return [
        route(("topics",), _("List the topics you can follow."), list_topics),
        route(("topic", "create"), _("Create a topic."), create_topic, role=Role.COORDINATOR,
              args=(SLUG, TITLE), options=(VISIBILITY, POLICY, DESCRIPTION)),
        route(("topic", "edit"), _("Change a topic's title, description, visibility or policy."), edit_topic,
              role=Role.COORDINATOR, topic_arg="topic", args=(TOPIC,),
              options=(NEW_TITLE, NEW_DESCRIPTION, VISIBILITY, POLICY)),
        route(("topic", "archive"), _("Archive a topic: kept, but no longer listed or sent to."), archive_topic,
              role=Role.COORDINATOR, topic_arg="topic", args=(TOPIC,)),
        Route(TOPIC_UNARCHIVE, unarchive_topic),
        route(("topic", "invite"), _("Invite someone to a topic (the way into a private topic)."),
              invite_to_topic, role=Role.COORDINATOR, topic_arg="topic",
              args=(TOPIC, PERSON)),
    ]
