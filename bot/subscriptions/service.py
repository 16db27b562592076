"""Subscriptions, mailing-list style: subscribe with a delivery mode, leave at any time, and requests for
topics that need a coordinator's approval."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.context import Caller, Context
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.delivery.notify import Notifier
from bot.errors import UserError
from bot.i18n import Text, _, _n
from bot.messages import Action, ActionStyle, Message
from bot.model import Identity, Role
from bot.ports import Clock, Store
from bot.subscriptions.model import DeliveryMode, RequestStatus, SubscriptionRequest
from bot.topics.access import coordinates
from bot.topics.model import Policy, Topic

MODES = tuple(m.value for m in DeliveryMode)


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

    @property
    def store(self) -> Store:
        return self._store

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


# --- handlers ---------------------------------------------------------------------------------------


async def subscribe(ctx: Context) -> Message:
    topic = await ctx.services.topics.find_visible(ctx.caller, ctx.arg("topic"))
    mode = DeliveryMode(ctx.opt("mode") or DeliveryMode.IMMEDIATE.value)
    return await ctx.services.subscriptions.subscribe(ctx.caller, topic, mode)


async def unsubscribe(ctx: Context) -> Message:
    store = ctx.services.subscriptions.store
    target = ctx.arg("topic").strip().lower()
    if target == "all":
        subscriptions = await store.subscriptions.of_person(ctx.caller.person.id)
        async with store.transaction():
            for subscription in subscriptions:
                await store.subscriptions.remove(ctx.caller.person.id, subscription.topic_id)
        return Message(body=(_n("You left {n} topic.", "You left {n} topics.", len(subscriptions)),))
    topic = await _own_subscription(ctx, target) or \
        await ctx.services.topics.find_visible(ctx.caller, target, allow_archived=True)
    if not await store.subscriptions.remove(ctx.caller.person.id, topic.id):
        return Message(body=(_("You do not follow “{topic}”. Nothing changed.", topic=topic.slug),))
    return Message(body=(_("You no longer follow “{topic}”.", topic=topic.slug),),
                   actions=(Action(_("Undo"), f"subscribe {topic.slug}"),))


async def _own_subscription(ctx: Context, slug: str) -> Topic | None:
    """A topic the caller follows, even archived or no longer visible to them: leaving is always possible."""
    store = ctx.services.subscriptions.store
    topic = await store.topics.by_slug(slug.lstrip("#"))
    if topic is not None and await store.subscriptions.get(ctx.caller.person.id, topic.id) is not None:
        return topic
    return None


async def my_subscriptions(ctx: Context) -> Message:
    store = ctx.services.subscriptions.store
    subscriptions = await store.subscriptions.of_person(ctx.caller.person.id)
    if not subscriptions:
        return Message(body=(_("You follow no topics yet. Type “topics” to see what you can follow."),))
    lines: list[Text | str] = [_n("You follow {n} topic:", "You follow {n} topics:", len(subscriptions))]
    for subscription in subscriptions:
        topic = await store.topics.get(subscription.topic_id)
        if topic is not None:
            lines.append(_("• {topic} — {mode}", topic=topic.slug, mode=subscription.mode.label))
    pending = [r for r in await store.requests.pending(None) if r.person_id == ctx.caller.person.id]
    for request in pending:
        topic = await store.topics.get(request.topic_id)
        lines.append(_("• {topic} — waiting for approval (request #{id})", topic=topic.slug if topic else "?",
                       id=request.id))
    return Message(title=_("Your subscriptions"), body=tuple(lines))


async def list_requests(ctx: Context) -> Message:
    store = ctx.services.subscriptions.store
    topic_ids = None if ctx.caller.role >= Role.COORDINATOR else sorted(ctx.caller.coordinated)
    requests = await store.requests.pending(topic_ids)
    if not requests:
        return Message(body=(_("No requests are waiting."),))
    lines: list[Text | str] = [_n("{n} request is waiting:", "{n} requests are waiting:", len(requests))]
    actions: list[Action] = []
    for request in requests:
        lines.append(await _describe_request(store, request))
        if len(actions) < 10:
            actions += [Action(_("Approve #{id}", id=request.id), f"approve {request.id}", ActionStyle.PRIMARY),
                        Action(_("Deny #{id}", id=request.id), f"deny {request.id}", ActionStyle.DANGER)]
    return Message(title=_("Subscription requests"), body=tuple(lines), actions=tuple(actions))


async def _describe_request(store: Store, request: SubscriptionRequest) -> Text:
    person = await store.people.get(request.person_id)
    topic = await store.topics.get(request.topic_id)
    return _("#{id} {person} → {topic} ({mode})", id=request.id, person=person.display_name if person else "?",
             topic=topic.slug if topic else "?", mode=request.mode.label)


async def approve(ctx: Context) -> Message:
    return await ctx.services.subscriptions.decide(ctx.caller, ctx.int_arg("request"), True, None)


async def deny(ctx: Context) -> Message:
    return await ctx.services.subscriptions.decide(ctx.caller, ctx.int_arg("request"), False, ctx.opt("reason"))


def commands() -> list[Command]:
    request = Arg("request", _("The request number, e.g. 12"), ArgKind.INTEGER, max_length=12)
    return [
        Command(("subscribe",), _("Follow a topic; choose how you receive its posts."), subscribe,
                args=(Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC),),
                options=(Option("mode", _("immediate DM, daily or weekly digest, or channel only"), ArgKind.CHOICE,
                                MODES),)),
        Command(("unsubscribe",), _("Stop following a topic, or “all” topics."), unsubscribe,
                args=(Arg("topic", _("The topic's short name, or “all”"), ArgKind.TOPIC),)),
        Command(("mysubs",), _("Show the topics you follow and how you receive them."), my_subscriptions),
        Command(("requests",), _("Show subscription requests waiting for your approval."), list_requests,
                role=Role.COORDINATOR),
        Command(("approve",), _("Approve a subscription request."), approve, role=Role.COORDINATOR, args=(request,)),
        Command(("deny",), _("Decline a subscription request, optionally saying why."), deny,
                role=Role.COORDINATOR, args=(request,), options=(Option("reason", _("Why, for the requester")),)),
    ]
