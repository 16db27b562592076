"""Topic commands: ``topics``, ``topic create|edit|archive|invite``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bot.channels.service import ChannelService
from bot.commands.context import Context
from bot.commands.routes import Route, route
from bot.commands.spec import Arg, ArgKind, Option
from bot.errors import UserError
from bot.i18n import Text, _, _n
from bot.messages import Action, ActionStyle, Message
from bot.model import Role
from bot.people.service import PeopleService
from bot.topics.model import Policy, Visibility
from bot.topics.service import TopicService, visibility_label

VISIBILITIES = tuple(v.value for v in Visibility)
POLICIES = tuple(p.value for p in Policy)


@dataclass(frozen=True, slots=True)
class TopicCommandDeps:
    topics: TopicService
    people: PeopleService
    channels: ChannelService


async def list_topics(ctx: Context[TopicCommandDeps]) -> Message:
    service = ctx.deps.topics
    topics = [t for t in await service.visible(ctx.caller) if not t.archived]
    if not topics:
        return Message(body=(_("There are no topics yet."),))
    subscribed = await service.modes_of(ctx.caller.person.id)
    lines: list[Text | str] = [_n("{n} topic:", "{n} topics:", len(topics))]
    actions: list[Action] = []
    for topic in topics:
        marker = _(" — subscribed ({mode})", mode=subscribed[topic.id].label) if topic.id in subscribed else ""
        lines.append(_("• {slug} — {title} ({visibility}){marker}", slug=topic.slug, title=topic.title,
                       visibility=visibility_label(topic.visibility), marker=marker))
        if topic.id not in subscribed and len(actions) < 5:
            actions.append(Action(_("Subscribe to {topic}", topic=topic.slug), f"subscribe {topic.slug}"))
    return Message(title=_("Topics"), body=tuple(lines), actions=tuple(actions))


async def create_topic(ctx: Context[TopicCommandDeps]) -> Message:
    slug = ctx.arg("slug").lower()
    visibility = Visibility(ctx.opt("visibility") or Visibility.PUBLIC.value)
    policy = Policy(ctx.opt("policy") or Policy.OPEN.value)
    topic = await ctx.deps.topics.create(ctx.caller, slug, ctx.arg("title"), ctx.opt("description") or "",
                                         visibility, policy)
    return Message(body=(_("Topic “{topic}” created: {title} ({visibility}, {policy}).", topic=slug,
                           title=topic.title, visibility=visibility_label(visibility), policy=policy.value),),
                   actions=(Action(_("Subscribe"), f"subscribe {slug}", ActionStyle.PRIMARY),))


async def edit_topic(ctx: Context[TopicCommandDeps]) -> Message:
    service = ctx.deps.topics
    topic = await service.coordinated_topic(ctx.caller, ctx.arg("topic"))
    changes = {key: ctx.opt(key) for key in ("title", "description", "visibility", "policy") if ctx.opt(key)}
    if not changes:
        raise UserError(_("Say what to change, e.g. title:“New title” or visibility:members."), show_usage=True)
    updated = dataclasses.replace(
        topic,
        title=changes.get("title") or topic.title,
        description=changes.get("description") or topic.description,
        visibility=Visibility(changes.get("visibility") or topic.visibility),
        policy=Policy(changes.get("policy") or topic.policy),
    )
    if updated.visibility is not Visibility.PUBLIC and topic.visibility is Visibility.PUBLIC:
        public = await ctx.deps.channels.public_topic_channel(topic.id)
        if public is not None:
            raise UserError(_("#{channel} can be read by everyone, so “{topic}” cannot stop being public "
                              "while it posts there. Bind a private channel first (setup topic-channel).",
                              channel=public, topic=topic.slug))
    await service.update(ctx.caller, topic, updated, "topic.edit")
    return Message(body=(_("Topic “{topic}” updated.", topic=topic.slug),))


async def archive_topic(ctx: Context[TopicCommandDeps]) -> Message:
    service = ctx.deps.topics
    topic = await service.coordinated_topic(ctx.caller, ctx.arg("topic"), allow_archived=True)
    if topic.archived:
        return Message(body=(_("Topic “{topic}” is archived already.", topic=topic.slug),))
    updated = dataclasses.replace(topic, archived=True)
    await service.update(ctx.caller, topic, updated, "topic.archive")
    return Message(body=(_("Topic “{topic}” is archived. Its history is kept; nothing more is sent to it.",
                           topic=topic.slug),))


async def invite_to_topic(ctx: Context[TopicCommandDeps]) -> Message:
    service = ctx.deps.topics
    topic = await service.coordinated_topic(ctx.caller, ctx.arg("topic"))
    person = await ctx.deps.people.find(ctx.arg("person"), ctx.caller)
    if not await service.invite(ctx.caller, topic, person.id):
        return Message(body=(_("{person} already follows “{topic}”.", person=person.display_name,
                               topic=topic.slug),))
    return Message(body=(_("{person} is invited to “{topic}” and has been told.", person=person.display_name,
                           topic=topic.slug),))


def routes() -> list[Route[TopicCommandDeps]]:
    topic = Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC)
    return [
        route(("topics",), _("List the topics you can follow."), list_topics),
        route(("topic", "create"), _("Create a topic."), create_topic, role=Role.COORDINATOR,
              args=(Arg("slug", _("Short name: lower-case letters, digits and dashes"), max_length=40),
                    Arg("title", _("Title"), rest=True, max_length=200)),
              options=(Option("visibility", _("Who can see it"), ArgKind.CHOICE, VISIBILITIES),
                       Option("policy", _("Who can join: anyone, or after approval"), ArgKind.CHOICE, POLICIES),
                       Option("description", _("What the topic is about"), max_length=1000))),
        route(("topic", "edit"), _("Change a topic's title, description, visibility or policy."), edit_topic,
              role=Role.COORDINATOR, topic_arg="topic", args=(topic,),
              options=(Option("title", _("New title")),
                       Option("description", _("New description"), max_length=1000),
                       Option("visibility", _("Who can see it"), ArgKind.CHOICE, VISIBILITIES),
                       Option("policy", _("Who can join: anyone, or after approval"), ArgKind.CHOICE, POLICIES))),
        route(("topic", "archive"), _("Archive a topic: kept, but no longer listed or sent to."), archive_topic,
              role=Role.COORDINATOR, topic_arg="topic", args=(topic,)),
        route(("topic", "invite"), _("Invite someone to a topic (the way into a private topic)."),
              invite_to_topic, role=Role.COORDINATOR, topic_arg="topic",
              args=(topic, Arg("person", _("Who: a name, a mention or platform:id"), ArgKind.PERSON))),
    ]
