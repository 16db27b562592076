"""Subscriptions, mailing-list style: subscribe with a delivery mode, leave at any time, and requests for
topics that need a coordinator's approval."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import Clock
from bot.commands.context import Caller
from bot.delivery.notify import Notifier
from bot.errors import UserError
from bot.i18n import Text, _
from bot.messages import Action, ActionStyle, Message
from bot.model import Identity
from bot.ports import Store
from bot.subscriptions.model import DeliveryMode, RequestStatus, SubscriptionRequest
from bot.topics.access import coordinates
from bot.topics.model import Policy, Topic


def leave_actions(topic: Topic, mode: DeliveryMode) -> tuple[Action, ...]:
    other = DeliveryMode.DAILY if mode is DeliveryMode.IMMEDIATE else DeliveryMode.IMMEDIATE
    return (Action(_("Unsubscribe"), f"unsubscribe {topic.slug}", ActionStyle.DANGER),
            Action(_("Switch to {mode}", mode=other.label), f"subscribe {topic.slug} mode:{other.value}"))


def welcome(topic: Topic, mode: DeliveryMode) -> Message:
    body: list[Text | str] = [_("You now follow “{topic}” — {title}. Delivery: {mode}.", topic=topic.slug,
                                title=topic.title, mode=mode.label)]
    if topic.description:
        body.append(topic.description)
    body.append(_("Leave at any time with “unsubscribe {topic}”.", topic=topic.slug))
    return Message(title=_("Welcome"), body=tuple(body), actions=leave_actions(topic, mode))


class SubscriptionService:
    def __init__(self, store: Store, clock: Clock, notifier: Notifier, request_expiry: timedelta,
                 admins: frozenset[Identity]) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier
        self._expiry = request_expiry
        self._admins = sorted(admins, key=str)

    async def unsubscribe(self, caller: Caller, topic: Topic) -> bool:
        """``False`` when the caller did not follow ``topic``."""
        return await self._store.subscriptions.remove(caller.person.id, topic.id)

    async def unsubscribe_all(self, caller: Caller) -> int:
        """Leave every topic at once; returns how many."""
        subscriptions = await self._store.subscriptions.of_person(caller.person.id)
        async with self._store.transaction():
            for subscription in subscriptions:
                await self._store.subscriptions.remove(caller.person.id, subscription.topic_id)
        return len(subscriptions)

    async def followed_topic(self, caller: Caller, slug: str) -> Topic | None:
        """A topic the caller follows, even archived or no longer visible to them: leaving is always possible."""
        topic = await self._store.topics.by_slug(slug.lstrip("#"))
        if topic is not None and await self._store.subscriptions.get(caller.person.id, topic.id) is not None:
            return topic
        return None

    async def followed(self, caller: Caller) -> list[tuple[Topic | None, DeliveryMode]]:
        """Every subscription of the caller with its topic (``None`` for a topic that no longer exists)."""
        return [(await self._store.topics.get(s.topic_id), s.mode)
                for s in await self._store.subscriptions.of_person(caller.person.id)]

    async def own_requests(self, caller: Caller) -> list[tuple[SubscriptionRequest, Topic | None]]:
        """The caller's requests still waiting for a coordinator."""
        return [(r, await self._store.topics.get(r.topic_id)) for r in await self._store.requests.pending(None)
                if r.person_id == caller.person.id]

    async def waiting(self, topic_ids: list[int] | None) -> list[SubscriptionRequest]:
        """Pending requests for ``topic_ids`` (``None``: every topic)."""
        return await self._store.requests.pending(topic_ids)

    async def describe_request(self, request: SubscriptionRequest) -> Text:
        person = await self._store.people.get(request.person_id)
        topic = await self._store.topics.get(request.topic_id)
        return _("#{id} {person} → {topic} ({mode})", id=request.id, person=person.display_name if person else "?",
                 topic=topic.slug if topic else "?", mode=request.mode.label)

    async def subscribe(self, caller: Caller, topic: Topic, mode: DeliveryMode) -> Message:
        store, now = self._store, self._clock.now()
        current = await store.subscriptions.get(caller.person.id, topic.id)
        if current is not None:
            if current.mode is mode:
                return Message(body=(_("You already follow “{topic}” ({mode}). Nothing changed.", topic=topic.slug,
                                       mode=mode.label),), actions=leave_actions(topic, mode))
            await store.subscriptions.put(caller.person.id, topic.id, mode, now)
            return Message(body=(_("Delivery for “{topic}” changed to {mode}.", topic=topic.slug, mode=mode.label),),
                           actions=leave_actions(topic, mode))
        needs_approval = topic.policy is Policy.APPROVAL \
            and not coordinates(caller.role, caller.coordinated, topic) \
            and not await store.subscriptions.is_invited(caller.person.id, topic.id)
        if not needs_approval:
            async with store.transaction():
                await store.subscriptions.put(caller.person.id, topic.id, mode, now)
                await store.subscriptions.remove_invitation(caller.person.id, topic.id)  # used up
            return welcome(topic, mode)
        if await store.requests.pending_for(caller.person.id, topic.id) is not None:
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
                        actions=(Action(_("Approve"), f"approve {request.id}", ActionStyle.PRIMARY),
                                 Action(_("Deny"), f"deny {request.id}", ActionStyle.DANGER))),
                key=f"request:{request.id}:new", topic_id=topic.id)
        return Message(body=(_("“{topic}” needs a coordinator's approval. Your request #{id} has been sent; "
                               "you will be told the answer.", topic=topic.slug, id=request.id),))

    async def decide(self, caller: Caller, request_id: int, approve: bool, reason: str | None) -> Message:
        store, now = self._store, self._clock.now()
        request = await store.requests.get(request_id)
        topic = await store.topics.get(request.topic_id) if request else None
        if request is None or topic is None or not coordinates(caller.role, caller.coordinated, topic):
            # The same answer whether the request exists or not: request numbers must not reveal topics.
            raise UserError(_("There is no request #{id} for a topic you coordinate.", id=request_id))
        if request.status is RequestStatus.PENDING and request.expires_at <= now:
            await store.requests.expire_due(now)
            request = await store.requests.get(request_id) or request
        if request.status is not RequestStatus.PENDING:
            return Message(body=(_("Request #{id} was already {status}.", id=request_id,
                                   status=status_label(request.status)),))
        requester = await store.people.get(request.person_id)
        name = requester.display_name if requester else "?"
        async with store.transaction():
            decided = await store.requests.decide(
                request_id, RequestStatus.APPROVED if approve else RequestStatus.DENIED, caller.person.id, now)
            if not decided:  # another coordinator answered first
                current = await store.requests.get(request_id)
                return Message(body=(_("Request #{id} was already {status}.", id=request_id,
                                       status=status_label(current.status if current else request.status)),))
            if approve:
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
            await store.audit.record(caller.person.id, "request.approve" if approve else "request.deny",
                                     f"request:{request_id}", "pending", reason or "", now)
            await self._notifier.to_people([request.person_id], notice, key=f"request:{request_id}:decided",
                                           topic_id=topic.id)
        if approve:
            return Message(body=(_("Approved: {person} now follows “{topic}”.", person=name, topic=topic.slug),))
        return Message(body=(_("Denied: {person} was told.", person=name),))

    async def expire_requests(self) -> int:
        """Expire overdue requests and tell each requester; returns how many expired."""
        expired = await self._store.requests.expire_due(self._clock.now())
        for request in expired:
            topic = await self._store.topics.get(request.topic_id)
            slug = topic.slug if topic else "?"
            await self._notifier.to_people(
                [request.person_id],
                Message(title=_("Request expired"),
                        body=(_("Your request to join “{topic}” expired before a coordinator answered. "
                                "You may ask again.", topic=slug),),
                        actions=(Action(_("Ask again"), f"subscribe {slug}"),)),
                key=f"request:{request.id}:expired", topic_id=request.topic_id)
        return len(expired)


def status_label(status: RequestStatus) -> Text:
    return {RequestStatus.PENDING: _("pending"), RequestStatus.APPROVED: _("approved"),
            RequestStatus.DENIED: _("denied"), RequestStatus.EXPIRED: _("expired")}[status]
