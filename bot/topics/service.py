"""Topics: who may see which, and the writes behind create, edit, archive, unarchive and invite. Visibility
decides who may even learn a topic exists; every other feature finds a topic through
:meth:`TopicService.find_visible`, which also refuses an archived topic clearly unless the command works on one."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re

from bot.audit import AuditAction
from bot.clock import Clock
from bot.commands.autocomplete import Suggestion
from bot.commands.context import Caller
from bot.commands.invoke import invoke
from bot.delivery.notify import Notifier
from bot.errors import PermissionDenied, UserError
from bot.i18n import Text, _
from bot.messages import Action, ActionStyle, Message
from bot.model import Role
from bot.ports import Store
from bot.subscriptions.closing import Closed, close_for_archive, close_for_open_policy, invitation_key
from bot.subscriptions.declarations import SUBSCRIBE
from bot.subscriptions.model import DeliveryMode
from bot.topics.access import coordinates
from bot.topics.model import InviteOutcome, Policy, Topic, Visibility
from bot.topics.visibility import KnownTopic, known_topics

RESERVED_SLUGS = frozenset({"all", "help", "none", "yes", "no", "maybe"})
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class TopicService:
    def __init__(self, store: Store, clock: Clock, notifier: Notifier) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier

    async def visible(self, caller: Caller) -> list[Topic]:
        """Topics the caller may see: archived ones only when they coordinate them (listings mark those)."""
        return [known.topic for known in await self.known(caller) if known.visible]

    async def known(self, caller: Caller) -> list[KnownTopic]:
        """Every topic the caller may name, with whether they may see it as it is now (one query)."""
        return await known_topics(self._store.topics, caller)

    async def find_visible(self, caller: Caller, slug: str, *, allow_archived: bool = False) -> Topic:
        """The topic named ``slug`` if the caller may see it; otherwise the same answer as for no topic.

        An archived topic is returned only with ``allow_archived``, and only to whoever could see it were it
        not archived (to leave it, to filter its resources; managing it goes through
        :meth:`coordinated_topic`); without it, they are told it is archived, and its coordinators how to
        bring it back. Someone who could never see it gets the answer for no topic either way. One query
        when the topic is found; the list for suggestions is read only when it is not.
        """
        slug = slug.strip().lstrip("#").lower()
        for known in await known_topics(self._store.topics, caller, slug=slug):
            if known.topic.archived and not allow_archived:
                raise archived_error(caller, known.topic)
            return known.topic
        candidates = [k.topic.slug for k in await self.known(caller) if not k.topic.archived]
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

    async def requested_by(self, person_id: int) -> set[int]:
        """The topics ``person_id`` has asked to join and is waiting for."""
        return {r.topic_id for r in await self._store.requests.pending_of(person_id)}

    async def follower_count(self, topic: Topic) -> int:
        return len(await self._store.subscriptions.of_topic(topic.id))

    async def audit(self, caller: Caller, action: AuditAction, subject: str, before: object, after: object) -> None:
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
        now = self._clock.now()
        # The name check inside the write transaction: two creates of one name at once answer like two in a row.
        async with self._store.transaction():
            existing = await self._store.topics.by_slug(slug)
            if existing is not None:
                if existing.archived and coordinates(caller.role, caller.coordinated, existing):
                    raise UserError(_("“{topic}” is the name of an archived topic. Bring it back with "
                                      "“topic unarchive {topic}”, or choose another name.", topic=slug))
                # Neutral on purpose: the existing topic may be private.
                raise UserError(_("The topic name “{topic}” is taken; choose another.", topic=slug))
            topic = await self._store.topics.create(slug, title, description, visibility, policy, now)
            if caller.role < Role.COORDINATOR:
                await self._store.grants.add(caller.person.id, Role.COORDINATOR, topic.id, caller.person.id, now)
            await self.audit(caller, AuditAction.TOPIC_CREATE, slug, None, topic)
        return topic

    async def update(self, caller: Caller, before: Topic, after: Topic,
                     action: AuditAction = AuditAction.TOPIC_EDIT) -> int:
        """Store ``after`` in place of ``before``, audited as ``action``. A topic that stops needing approval
        closes its waiting requests (their requesters are offered a Join button); returns how many."""
        now = self._clock.now()
        async with self._store.transaction():
            await self._store.topics.update(after)
            await self.audit(caller, action, before.slug, before, after)
            if before.policy is Policy.APPROVAL and after.policy is Policy.OPEN:
                return await close_for_open_policy(self._store, self._notifier, after, caller.person.id, now)
        return 0

    async def archive(self, caller: Caller, topic: Topic) -> Closed:
        """Archive ``topic``: its waiting requests expire and its invitations are withdrawn, and each of those
        people is told, in the same transaction, so nobody is approved or invited into a topic that sends
        nothing."""
        now = self._clock.now()
        archived = dataclasses.replace(topic, archived=True)
        async with self._store.transaction():
            await self._store.topics.update(archived)
            await self.audit(caller, AuditAction.TOPIC_ARCHIVE, topic.slug, topic, archived)
            return await close_for_archive(self._store, self._notifier, archived, caller.person.id, now)

    async def unarchive(self, caller: Caller, topic: Topic) -> Topic:
        """Bring an archived topic back: listed again, and its followers (kept while archived) receive it."""
        active = dataclasses.replace(topic, archived=False)
        async with self._store.transaction():
            await self._store.topics.update(active)
            await self.audit(caller, AuditAction.TOPIC_UNARCHIVE, topic.slug, topic, active)
        return active

    async def invite(self, caller: Caller, topic: Topic, person_id: int) -> InviteOutcome:
        """Invite ``person_id`` and tell them; nothing changes when they follow it or are invited already."""
        now = self._clock.now()
        async with self._store.transaction():  # checked inside: a subscribe at the same time is seen
            if await self._store.subscriptions.get(person_id, topic.id) is not None:
                return InviteOutcome.FOLLOWS
            if not await self._store.subscriptions.add_invitation(person_id, topic.id, caller.person.id, now):
                return InviteOutcome.INVITED_ALREADY
            invitation = await self._store.subscriptions.invitation(person_id, topic.id)
            await self.audit(caller, AuditAction.TOPIC_INVITE, topic.slug, None, {"person": person_id})
            await self._notifier.to_people(
                [person_id],
                Message(title=_("Invitation"),
                        body=(_("{inviter} invites you to the topic “{topic}”: {title}.",
                                inviter=caller.person.display_name, topic=topic.slug, title=topic.title),),
                        actions=(Action(_("Join"), invoke(SUBSCRIBE, topic=topic.slug), ActionStyle.PRIMARY),)),
                key=invitation_key(topic.id, person_id, invitation.created_at if invitation else now),
            )
        return InviteOutcome.INVITED


def archived_error(caller: Caller, topic: Topic) -> UserError:
    """The refusal for acting on an archived topic; its coordinators are told how to bring it back."""
    if coordinates(caller.role, caller.coordinated, topic):
        return UserError(_("“{topic}” is archived: nothing is sent to it. Bring it back first with "
                           "“topic unarchive {topic}”.", topic=topic.slug))
    return UserError(_("“{topic}” is archived: nothing is sent to it any more.", topic=topic.slug))


def _json(value: object) -> str | None:
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def visibility_label(visibility: Visibility) -> Text:
    return {Visibility.PUBLIC: _("public"), Visibility.MEMBERS: _("members only"),
            Visibility.PRIVATE: _("private")}[visibility]


def describe_access(topic: Topic) -> Text:
    """Who may see a topic and, when it applies, that joining needs approval: "members only, needs approval"."""
    if topic.policy is Policy.APPROVAL:
        return _("{visibility}, needs approval", visibility=visibility_label(topic.visibility))
    return visibility_label(topic.visibility)
