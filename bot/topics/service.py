"""Topics: list, create, edit, archive and invite. Visibility decides who may even learn a topic exists."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re

from bot.commands.context import Caller, Context
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.delivery.notify import Notifier
from bot.errors import PermissionDenied, UserError
from bot.i18n import Text, _, _n
from bot.messages import Action, ActionStyle, Message
from bot.model import Role
from bot.ports import ChannelInspector, Clock, Store
from bot.topics.access import can_see, coordinates
from bot.topics.model import Policy, Topic, Visibility

RESERVED_SLUGS = frozenset({"all", "help", "none", "yes", "no", "maybe"})
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
VISIBILITIES = tuple(v.value for v in Visibility)
POLICIES = tuple(p.value for p in Policy)


class TopicService:
    def __init__(self, store: Store, clock: Clock, notifier: Notifier) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier

    async def visible(self, caller: Caller) -> list[Topic]:
        topics = await self._store.topics.all(include_archived=True)
        subscribed = {s.topic_id for s in await self._store.subscriptions.of_person(caller.person.id)}
        visible = []
        for topic in topics:
            invited = topic.visibility is Visibility.PRIVATE and \
                await self._store.subscriptions.is_invited(caller.person.id, topic.id)
            if can_see(topic, caller.role, caller.coordinated, subscribed=topic.id in subscribed, invited=invited):
                visible.append(topic)
        return visible

    async def find_visible(self, caller: Caller, slug: str, *, allow_archived: bool = False) -> Topic:
        """The topic named ``slug`` if the caller may see it; otherwise the same answer as for no topic."""
        slug = slug.strip().lstrip("#").lower()
        visible = await self.visible(caller)
        for topic in visible:
            if topic.slug == slug and (allow_archived or not topic.archived):
                return topic
        candidates = [t.slug for t in visible if not t.archived]
        close = difflib.get_close_matches(slug, candidates, n=2, cutoff=0.6)
        close += [c for c in candidates if slug and c.startswith(slug) and c not in close][:2 - len(close)]
        if close:
            raise UserError(_("There is no topic “{topic}”. Did you mean {suggestions}?", topic=slug,
                              suggestions=" / ".join(close)))
        raise UserError(_("There is no topic “{topic}”. Type “topics” to see them all.", topic=slug))

    async def coordinated_topic(self, caller: Caller, slug: str, *, allow_archived: bool = False) -> Topic:
        topic = await self.find_visible(caller, slug, allow_archived=allow_archived)
        if not coordinates(caller.role, caller.coordinated, topic):
            raise PermissionDenied(Role.COORDINATOR, topic.slug)
        return topic

    async def audit(self, caller: Caller, action: str, subject: str, before: object, after: object) -> None:
        await self._store.audit.record(caller.person.id, action, subject, _json(before), _json(after),
                                       self._clock.now())

    @property
    def store(self) -> Store:
        return self._store

    @property
    def notifier(self) -> Notifier:
        return self._notifier


def _json(value: object) -> str | None:
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def visibility_label(visibility: Visibility) -> Text:
    return {Visibility.PUBLIC: _("public"), Visibility.MEMBERS: _("members only"),
            Visibility.PRIVATE: _("private")}[visibility]


# --- handlers ---------------------------------------------------------------------------------------


async def list_topics(ctx: Context) -> Message:
    service = ctx.services.topics
    topics = [t for t in await service.visible(ctx.caller) if not t.archived]
    if not topics:
        return Message(body=(_("There are no topics yet."),))
    subscribed = {s.topic_id: s.mode for s in await service.store.subscriptions.of_person(ctx.caller.person.id)}
    lines: list[Text | str] = [_n("{n} topic:", "{n} topics:", len(topics))]
    actions: list[Action] = []
    for topic in topics:
        marker = _(" — subscribed ({mode})", mode=subscribed[topic.id].label) if topic.id in subscribed else ""
        lines.append(_("• {slug} — {title} ({visibility}){marker}", slug=topic.slug, title=topic.title,
                       visibility=visibility_label(topic.visibility), marker=marker))
        if topic.id not in subscribed and len(actions) < 5:
            actions.append(Action(_("Subscribe to {topic}", topic=topic.slug), f"subscribe {topic.slug}"))
    return Message(title=_("Topics"), body=tuple(lines), actions=tuple(actions))


async def create_topic(ctx: Context) -> Message:
    service = ctx.services.topics
    slug = ctx.arg("slug").lower()
    if not SLUG.match(slug):
        raise UserError(_("A topic name uses 2–40 lower-case letters, digits and dashes, such as “whrd-safety”."),
                        show_usage=True)
    if slug in RESERVED_SLUGS:
        raise UserError(_("“{topic}” is a word commands use; choose another topic name.", topic=slug))
    if await service.store.topics.by_slug(slug) is not None:
        # Neutral on purpose: the existing topic may be private.
        raise UserError(_("The topic name “{topic}” is taken; choose another.", topic=slug))
    visibility = Visibility(ctx.opt("visibility") or Visibility.PUBLIC.value)
    policy = Policy(ctx.opt("policy") or Policy.OPEN.value)
    async with service.store.transaction():
        topic = await service.store.topics.create(slug, ctx.arg("title"), ctx.opt("description") or "", visibility,
                                                  policy, ctx.now)
        if ctx.caller.role < Role.COORDINATOR:
            await service.store.grants.add(ctx.caller.person.id, Role.COORDINATOR, topic.id, ctx.caller.person.id,
                                           ctx.now)
        await service.audit(ctx.caller, "topic.create", slug, None, topic)
    return Message(body=(_("Topic “{topic}” created: {title} ({visibility}, {policy}).", topic=slug,
                           title=topic.title, visibility=visibility_label(visibility), policy=policy.value),),
                   actions=(Action(_("Subscribe"), f"subscribe {slug}", ActionStyle.PRIMARY),))


async def edit_topic(ctx: Context) -> Message:
    service = ctx.services.topics
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
        for binding in await service.store.announcements.channels("topic", topic.id):
            adapter = ctx.services.adapters(binding.platform)
            if isinstance(adapter, ChannelInspector) and await adapter.channel_is_public(binding.channel_id):
                raise UserError(_("#{channel} can be read by everyone, so “{topic}” cannot stop being public "
                                  "while it posts there. Bind a private channel first (setup topic-channel).",
                                  channel=binding.channel_id, topic=topic.slug))
    async with service.store.transaction():
        await service.store.topics.update(updated)
        await service.audit(ctx.caller, "topic.edit", topic.slug, topic, updated)
    return Message(body=(_("Topic “{topic}” updated.", topic=topic.slug),))


async def archive_topic(ctx: Context) -> Message:
    service = ctx.services.topics
    topic = await service.coordinated_topic(ctx.caller, ctx.arg("topic"), allow_archived=True)
    if topic.archived:
        return Message(body=(_("Topic “{topic}” is archived already.", topic=topic.slug),))
    updated = dataclasses.replace(topic, archived=True)
    async with service.store.transaction():
        await service.store.topics.update(updated)
        await service.audit(ctx.caller, "topic.archive", topic.slug, topic, updated)
    return Message(body=(_("Topic “{topic}” is archived. Its history is kept; nothing more is sent to it.",
                           topic=topic.slug),))


async def invite_to_topic(ctx: Context) -> Message:
    service = ctx.services.topics
    topic = await service.coordinated_topic(ctx.caller, ctx.arg("topic"))
    person = await ctx.services.people.find(ctx.arg("person"), ctx.caller)
    if await service.store.subscriptions.get(person.id, topic.id) is not None:
        return Message(body=(_("{person} already follows “{topic}”.", person=person.display_name,
                               topic=topic.slug),))
    async with service.store.transaction():
        await service.store.subscriptions.add_invitation(person.id, topic.id, ctx.caller.person.id, ctx.now)
        await service.audit(ctx.caller, "topic.invite", topic.slug, None, {"person": person.id})
        await service.notifier.to_people(
            [person.id],
            Message(title=_("Invitation"),
                    body=(_("{inviter} invites you to the topic “{topic}”: {title}.",
                            inviter=ctx.caller.person.display_name, topic=topic.slug, title=topic.title),),
                    actions=(Action(_("Join"), f"subscribe {topic.slug}", ActionStyle.PRIMARY),)),
            key=f"invite:{topic.id}:{person.id}",
        )
    return Message(body=(_("{person} is invited to “{topic}” and has been told.", person=person.display_name,
                           topic=topic.slug),))


def commands() -> list[Command]:
    topic = Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC)
    return [
        Command(("topics",), _("List the topics you can follow."), list_topics),
        Command(("topic", "create"), _("Create a topic."), create_topic, role=Role.COORDINATOR,
                args=(Arg("slug", _("Short name: lower-case letters, digits and dashes"), max_length=40),
                      Arg("title", _("Title"), rest=True, max_length=200)),
                options=(Option("visibility", _("Who can see it"), ArgKind.CHOICE, VISIBILITIES),
                         Option("policy", _("Who can join: anyone, or after approval"), ArgKind.CHOICE, POLICIES),
                         Option("description", _("What the topic is about"), max_length=1000))),
        Command(("topic", "edit"), _("Change a topic's title, description, visibility or policy."), edit_topic,
                role=Role.COORDINATOR, topic_arg="topic", args=(topic,),
                options=(Option("title", _("New title")),
                         Option("description", _("New description"), max_length=1000),
                         Option("visibility", _("Who can see it"), ArgKind.CHOICE, VISIBILITIES),
                         Option("policy", _("Who can join: anyone, or after approval"), ArgKind.CHOICE, POLICIES))),
        Command(("topic", "archive"), _("Archive a topic: kept, but no longer listed or sent to."), archive_topic,
                role=Role.COORDINATOR, topic_arg="topic", args=(topic,)),
        Command(("topic", "invite"), _("Invite someone to a topic (the way into a private topic)."),
                invite_to_topic, role=Role.COORDINATOR, topic_arg="topic",
                args=(topic, Arg("person", _("Who: a name, a mention or platform:id"), ArgKind.PERSON))),
    ]
