"""Topics: who may see which, and the writes behind create, edit, archive and invite. Visibility decides who
may even learn a topic exists; every other feature finds a topic through :meth:`TopicService.find_visible`."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re

from bot.clock import Clock
from bot.commands.autocomplete import Suggestion
from bot.commands.context import Caller
from bot.delivery.notify import Notifier
from bot.errors import PermissionDenied, UserError
from bot.i18n import Text, _
from bot.messages import Action, ActionStyle, Message
from bot.model import Role
from bot.ports import Store
from bot.subscriptions.model import DeliveryMode
from bot.topics.access import can_see, coordinates
from bot.topics.model import Policy, Topic, Visibility

RESERVED_SLUGS = frozenset({"all", "help", "none", "yes", "no", "maybe"})
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


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

    async def suggestions(self, caller: Caller) -> list[Suggestion]:
        """Autocomplete candidates: the topics ``caller`` may see and that are not archived."""
        return [Suggestion(f"{t.slug} — {t.title}", t.slug) for t in await self.visible(caller) if not t.archived]

    async def get(self, topic_id: int) -> Topic | None:
        """A topic by id, for showing what a caller's grants or a resource refer to (no visibility check)."""
        return await self._store.topics.get(topic_id)

    async def modes_of(self, person_id: int) -> dict[int, DeliveryMode]:
        """How ``person_id`` follows each topic they follow, by topic id."""
        return {s.topic_id: s.mode for s in await self._store.subscriptions.of_person(person_id)}

    async def audit(self, caller: Caller, action: str, subject: str, before: object, after: object) -> None:
        await self._store.audit.record(caller.person.id, action, subject, _json(before), _json(after),
                                       self._clock.now())

    async def create(self, caller: Caller, slug: str, title: str, description: str, visibility: Visibility,
                     policy: Policy) -> Topic:
        """A new topic; a caller who is not a coordinator of all topics becomes this one's coordinator."""
        if not SLUG.match(slug):
            raise UserError(_("A topic name uses 2–40 lower-case letters, digits and dashes, such as "
                              "“whrd-safety”."), show_usage=True)
        if slug in RESERVED_SLUGS:
            raise UserError(_("“{topic}” is a word commands use; choose another topic name.", topic=slug))
        if await self._store.topics.by_slug(slug) is not None:
            # Neutral on purpose: the existing topic may be private.
            raise UserError(_("The topic name “{topic}” is taken; choose another.", topic=slug))
        now = self._clock.now()
        async with self._store.transaction():
            topic = await self._store.topics.create(slug, title, description, visibility, policy, now)
            if caller.role < Role.COORDINATOR:
                await self._store.grants.add(caller.person.id, Role.COORDINATOR, topic.id, caller.person.id, now)
            await self.audit(caller, "topic.create", slug, None, topic)
        return topic

    async def update(self, caller: Caller, before: Topic, after: Topic, action: str) -> None:
        """Store ``after`` in place of ``before``, audited as ``action`` (``topic.edit``, ``topic.archive``)."""
        async with self._store.transaction():
            await self._store.topics.update(after)
            await self.audit(caller, action, before.slug, before, after)

    async def invite(self, caller: Caller, topic: Topic, person_id: int) -> bool:
        """Invite ``person_id`` and tell them; ``False`` (and nothing changes) when they follow it already."""
        if await self._store.subscriptions.get(person_id, topic.id) is not None:
            return False
        async with self._store.transaction():
            await self._store.subscriptions.add_invitation(person_id, topic.id, caller.person.id, self._clock.now())
            await self.audit(caller, "topic.invite", topic.slug, None, {"person": person_id})
            await self._notifier.to_people(
                [person_id],
                Message(title=_("Invitation"),
                        body=(_("{inviter} invites you to the topic “{topic}”: {title}.",
                                inviter=caller.person.display_name, topic=topic.slug, title=topic.title),),
                        actions=(Action(_("Join"), f"subscribe {topic.slug}", ActionStyle.PRIMARY),)),
                key=f"invite:{topic.id}:{person_id}",
            )
        return True


def _json(value: object) -> str | None:
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def visibility_label(visibility: Visibility) -> Text:
    return {Visibility.PUBLIC: _("public"), Visibility.MEMBERS: _("members only"),
            Visibility.PRIVATE: _("private")}[visibility]
