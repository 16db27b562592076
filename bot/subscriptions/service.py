"""Subscriptions, mailing-list style: subscribe with a delivery mode, leave at any time, and requests for
topics that need a coordinator's approval."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.audit import AuditAction
from bot.clock import Clock
from bot.commands.context import Caller
from bot.commands.invoke import invoke
from bot.delivery.notify import Notifier
from bot.errors import UserError
from bot.i18n import Text, _
from bot.messages import Action, ActionStyle, Message
from bot.model import Identity
from bot.ports import Store
from bot.subscriptions.closing import close_for_archive
from bot.subscriptions.declarations import APPROVE, DENY, SUBSCRIBE, UNSUBSCRIBE
from bot.subscriptions.model import DeliveryMode, Rejoin, RequestStatus, SubscriptionRequest
from bot.topics.access import coordinates, knows_of, may_receive, needs_approval
from bot.topics.model import Topic
from bot.topics.service import archived_error, visibility_label

PersonView = Callable[[int], Awaitable[Caller]]
"""How a person looks to the bot now (roles included), for checks made on someone other than the caller."""


def leave_actions(topic: Topic, mode: DeliveryMode) -> tuple[Action, ...]:
    other = DeliveryMode.DAILY if mode is DeliveryMode.IMMEDIATE else DeliveryMode.IMMEDIATE
    return (Action(_("Unsubscribe"), invoke(UNSUBSCRIBE, topic=topic.slug), ActionStyle.DANGER),
            Action(_("Switch to {mode}", mode=other.label), invoke(SUBSCRIBE, topic=topic.slug, mode=other)))


def welcome(topic: Topic, mode: DeliveryMode) -> Message:
    body: list[Text | str] = [_("You now follow “{topic}” — {title}. Delivery: {mode}.", topic=topic.slug,
                                title=topic.title, mode=mode.label)]
    if topic.description:
        body.append(topic.description)
    body.append(_("Leave at any time with “unsubscribe {topic}”.", topic=topic.slug))
    return Message(title=_("Welcome"), body=tuple(body), actions=leave_actions(topic, mode))


class SubscriptionService:
    def __init__(self, store: Store, clock: Clock, notifier: Notifier, request_expiry: timedelta,
                 admins: frozenset[Identity], subscribed: Callable[[], None] | None = None) -> None:
        """``subscribed`` is told after someone starts following a topic immediately, so their DM channel is
        opened ahead of the next fan-out (:class:`bot.delivery.direct_channels.DirectChannels`)."""
        self._store = store
        self._subscribed = subscribed
        self._clock = clock
        self._notifier = notifier
        self._expiry = request_expiry
        self._admins = sorted(admins, key=str)

    async def unsubscribe(self, caller: Caller, topic: Topic) -> DeliveryMode | None:
        """Leave ``topic``; returns the mode the caller had (for an Undo that restores it), ``None`` when they
        did not follow it."""
        current = await self._store.subscriptions.get(caller.person.id, topic.id)
        if current is None or not await self._store.subscriptions.remove(caller.person.id, topic.id):
            return None
        return current.mode

    async def rejoin(self, caller: Caller, topic: Topic) -> Rejoin:
        """What following ``topic`` again would take now that the caller left it."""
        if topic.archived:
            return Rejoin.ARCHIVED
        invited = await self._store.subscriptions.is_invited(caller.person.id, topic.id)
        if not knows_of(topic, caller.role, caller.coordinated, subscribed=False, invited=invited):
            return Rejoin.BLOCKED
        if needs_approval(topic, caller.role, caller.coordinated, invited=invited):
            return Rejoin.APPROVAL
        return Rejoin.DIRECT

    async def withdraw(self, caller: Caller, topic: Topic) -> SubscriptionRequest | None:
        """Withdraw the caller's waiting request for ``topic``; ``None`` when there was none."""
        request = await self._store.requests.pending_for(caller.person.id, topic.id)
        if request is None or not await self._store.requests.decide(
                request.id, RequestStatus.WITHDRAWN, caller.person.id, self._clock.now()):
            return None
        return request

    async def unsubscribe_all(self, caller: Caller) -> tuple[int, int]:
        """Leave every topic and withdraw every waiting request at once; returns how many of each."""
        subscriptions = await self._store.subscriptions.of_person(caller.person.id)
        requests = await self._store.requests.pending_of(caller.person.id)
        now = self._clock.now()
        withdrawn = 0
        async with self._store.transaction():
            for subscription in subscriptions:
                await self._store.subscriptions.remove(caller.person.id, subscription.topic_id)
            for request in requests:
                withdrawn += await self._store.requests.decide(request.id, RequestStatus.WITHDRAWN,
                                                               caller.person.id, now)
        return len(subscriptions), withdrawn

    async def own_topic(self, caller: Caller, slug: str) -> Topic | None:
        """A topic the caller follows or has asked to join, even archived or no longer visible to them:
        leaving, and withdrawing a request, are always possible."""
        topic = await self._store.topics.by_slug(slug.strip().lstrip("#"))
        if topic is None:
            return None
        if await self._store.subscriptions.get(caller.person.id, topic.id) is not None \
                or await self._store.requests.pending_for(caller.person.id, topic.id) is not None:
            return topic
        return None

    async def followed(self, caller: Caller) -> list[tuple[Topic, DeliveryMode]]:
        """Every subscription of the caller with its topic."""
        followed = []
        for subscription in await self._store.subscriptions.of_person(caller.person.id):
            topic = await self._store.topics.get(subscription.topic_id)
            if topic is not None:
                followed.append((topic, subscription.mode))
        return followed

    async def own_requests(self, caller: Caller) -> list[tuple[SubscriptionRequest, Topic]]:
        """The caller's requests still waiting for a coordinator, with their topics."""
        requests = []
        for request in await self._store.requests.pending_of(caller.person.id):
            topic = await self._store.topics.get(request.topic_id)
            if topic is not None:
                requests.append((request, topic))
        return requests

    async def waiting(self, topic_ids: list[int] | None) -> list[SubscriptionRequest]:
        """Pending requests for ``topic_ids`` (``None``: every topic)."""
        return await self._store.requests.pending(topic_ids)

    async def describe_request(self, request: SubscriptionRequest) -> Text:
        person = await self._store.people.get(request.person_id)
        topic = await self._store.topics.get(request.topic_id)
        return _("#{id} {person} → {topic} ({mode})", id=request.id, person=person.display_name if person else "?",
                 topic=topic.slug if topic else "?", mode=request.mode.label)

    async def subscribe(self, caller: Caller, topic: Topic, mode: DeliveryMode) -> Message:
        """Follow ``topic``, or ask to. The check of what exists and the write are one serialised transaction:
        duplicates sent at once (a retry, a double click) then answer like duplicates sent one after another."""
        if topic.archived:
            raise archived_error(caller, topic)
        async with self._store.transaction():
            reply = await self._subscribe(caller, topic, mode)
        if mode is DeliveryMode.IMMEDIATE and self._subscribed is not None:
            self._subscribed()
        return reply

    async def _subscribe(self, caller: Caller, topic: Topic, mode: DeliveryMode) -> Message:
        store, now = self._store, self._clock.now()
        current = await store.subscriptions.get(caller.person.id, topic.id)
        if current is not None:
            if current.mode is mode:
                return Message(body=(_("You already follow “{topic}” ({mode}). Nothing changed.", topic=topic.slug,
                                       mode=mode.label),), actions=leave_actions(topic, mode))
            await store.subscriptions.put(caller.person.id, topic.id, mode, now)
            return Message(body=(_("Delivery for “{topic}” changed to {mode}.", topic=topic.slug, mode=mode.label),),
                           actions=leave_actions(topic, mode))
        invited = await store.subscriptions.is_invited(caller.person.id, topic.id)
        pending = await store.requests.pending_for(caller.person.id, topic.id)
        if not needs_approval(topic, caller.role, caller.coordinated, invited=invited):
            async with store.transaction():
                await store.subscriptions.put(caller.person.id, topic.id, mode, now)
                await store.subscriptions.remove_invitation(caller.person.id, topic.id)  # used up
                if pending is not None:  # joined without it (invited since): nobody should answer it now
                    await store.requests.decide(pending.id, RequestStatus.WITHDRAWN, caller.person.id, now)
            return welcome(topic, mode)
        if pending is not None:
            if pending.mode is not mode and await store.requests.set_mode(pending.id, mode):
                return Message(body=(_("Your request to join “{topic}” is still waiting for a coordinator; it now "
                                       "asks for {mode}.", topic=topic.slug, mode=mode.label),))
            return Message(body=(_("Your request to join “{topic}” is already waiting for a coordinator.",
                                   topic=topic.slug),))
        async with store.transaction():
            request = await store.requests.create(caller.person.id, topic.id, mode, now,
                                                  now + self._expiry)
            # A topic nobody coordinates still gets an answer: its requests go to the admins.
            coordinators = await store.grants.coordinators_of(topic.id) or await store.grants.admins(self._admins)
            await self._notifier.to_people(
                coordinators,
                Message(title=_("Subscription request"),
                        body=(_("{person} asks to join “{topic}” (request #{id}).",
                                person=caller.person.display_name, topic=topic.slug, id=request.id),),
                        actions=(Action(_("Approve"), invoke(APPROVE, request=request.id), ActionStyle.PRIMARY),
                                 Action(_("Deny"), invoke(DENY, request=request.id), ActionStyle.DANGER))),
                key=f"request:{request.id}:new", topic_id=topic.id)
        return Message(body=(_("“{topic}” needs a coordinator's approval. Your request #{id} has been sent; "
                               "you will be told the answer.", topic=topic.slug, id=request.id),))

    async def decide(self, caller: Caller, request_id: int, approve: bool, reason: str | None,
                     person_view: PersonView) -> Message:
        """Approve or deny a waiting request. Refused, changing nothing, for an archived topic, and approving
        is refused when the requester may no longer see the topic (approving would send them nothing)."""
        store, now = self._store, self._clock.now()
        request = await store.requests.get(request_id)
        topic = await store.topics.get(request.topic_id) if request else None
        if request is None or topic is None or not coordinates(caller.role, caller.coordinated, topic):
            # The same answer whether the request exists or not: request numbers must not reveal topics.
            raise UserError(_("There is no request #{id} for a topic you coordinate.", id=request_id))
        if topic.archived:
            raise UserError(_("“{topic}” is archived, so request #{id} can no longer be approved or denied. "
                              "Bring the topic back first with “topic unarchive {topic}”.",
                              topic=topic.slug, id=request_id))
        if request.status is RequestStatus.PENDING and request.expires_at <= now:
            await store.requests.expire_due(now)
            request = await store.requests.get(request_id) or request
        if request.status is not RequestStatus.PENDING:
            return Message(body=(_("Request #{id} was already {status}.", id=request_id,
                                   status=status_label(request.status)),))
        requester = await store.people.get(request.person_id)
        name = requester.display_name if requester else "?"
        if approve and not await self._may_receive(person_view, request.person_id, topic):
            raise UserError(_("{person} may no longer see “{topic}” ({visibility}), so approving would send them "
                              "nothing. Give them the role it needs first, or deny the request.", person=name,
                              topic=topic.slug, visibility=visibility_label(topic.visibility)))
        async with store.transaction():
            decided = await store.requests.decide(
                request_id, RequestStatus.APPROVED if approve else RequestStatus.DENIED, caller.person.id, now)
            if not decided:  # another coordinator answered first
                current = await store.requests.get(request_id)
                return Message(body=(_("Request #{id} was already {status}.", id=request_id,
                                       status=status_label(current.status if current else request.status)),))
            if approve:
                if await store.subscriptions.get(request.person_id, topic.id) is None:  # keep a chosen mode
                    await store.subscriptions.put(request.person_id, topic.id, request.mode, now)
                notice = welcome(topic, request.mode)
                notice = Message(title=_("Request approved"),
                                 body=(_("Your request to join “{topic}” was approved.", topic=topic.slug),
                                       *notice.body), actions=notice.actions)
            else:
                body: list[Text | str] = [_("Your request to join “{topic}” was declined.", topic=topic.slug)]
                if reason:
                    body.append(_("Reason: {reason}", reason=reason))
                notice = Message(title=_("Request declined"), body=tuple(body))
            await store.audit.record(caller.person.id,
                                     AuditAction.REQUEST_APPROVE if approve else AuditAction.REQUEST_DENY,
                                     f"request:{request_id}", "pending", reason or "", now)
            # A refusal reaches the requester even if they can no longer see the topic: it only answers
            # their own question. A welcome is re-checked like any post of the topic.
            await self._notifier.to_people([request.person_id], notice, key=f"request:{request_id}:decided",
                                           topic_id=topic.id if approve else None)
        if approve:
            return Message(body=(_("Approved: {person} now follows “{topic}”.", person=name, topic=topic.slug),))
        return Message(body=(_("Denied: {person} was told.", person=name),))

    @staticmethod
    async def _may_receive(person_view: PersonView, person_id: int, topic: Topic) -> bool:
        try:
            person = await person_view(person_id)
        except LookupError:
            return False
        return may_receive(topic, person.role, person.coordinated, subscribed=True)

    async def expire_requests(self) -> int:
        """Expire overdue requests and tell each requester; returns how many ended. First closes what still
        waits on an archived topic (archived before archiving closed it, or asked for concurrently), so those
        requesters hear "archived", not "you may ask again"."""
        now = self._clock.now()
        closed = 0
        archived = {t.id: t for t in await self._store.topics.all(include_archived=True) if t.archived}
        stranded = {r.topic_id for r in await self._store.requests.pending(sorted(archived))} if archived else set()
        for topic_id in sorted(stranded):
            async with self._store.transaction():
                closed += (await close_for_archive(self._store, self._notifier, archived[topic_id], None, now)).requests
        expired = await self._store.requests.expire_due(now)
        for request in expired:
            topic = await self._store.topics.get(request.topic_id)
            slug = topic.slug if topic else "?"
            # No topic_id: the notice only answers the requester's own question, and must reach them even if
            # the topic was hidden from them meanwhile.
            await self._notifier.to_people(
                [request.person_id],
                Message(title=_("Request expired"),
                        body=(_("Your request to join “{topic}” expired before a coordinator answered. "
                                "You may ask again.", topic=slug),),
                        actions=(Action(_("Ask again"), invoke(SUBSCRIBE, topic=slug, mode=request.mode)),)),
                key=f"request:{request.id}:expired")
        return closed + len(expired)

def status_label(status: RequestStatus) -> Text:
    return {RequestStatus.PENDING: _("pending"), RequestStatus.APPROVED: _("approved"),
            RequestStatus.DENIED: _("denied"), RequestStatus.EXPIRED: _("expired"),
            RequestStatus.WITHDRAWN: _("withdrawn by the requester")}[status]
