"""Subscription commands: ``subscribe``, ``unsubscribe``, ``mysubs``, ``requests``, ``approve``, ``deny``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.context import Context
from bot.commands.invoke import invoke
from bot.commands.routes import Route, route
from bot.i18n import Text, _, _n
from bot.messages import Action, ActionStyle, Message
from bot.model import Role
from bot.people.service import PeopleService
from bot.subscriptions.declarations import (
    APPROVE,
    DENY,
    MODE,
    REASON,
    REQUEST,
    SUBSCRIBE,
    SUBSCRIBE_TOPIC,
    UNSUBSCRIBE,
    UNSUBSCRIBE_TOPIC,
)
from bot.subscriptions.model import DeliveryMode, Rejoin
from bot.subscriptions.service import SubscriptionService
from bot.topics.access import may_receive
from bot.topics.service import TopicService, visibility_label


@dataclass(frozen=True, slots=True)
class SubscriptionCommandDeps:
    subscriptions: SubscriptionService
    topics: TopicService
    people: PeopleService


async def subscribe(ctx: Context[SubscriptionCommandDeps]) -> Message:
    topic = await ctx.deps.topics.find_visible(ctx.caller, ctx.value(SUBSCRIBE_TOPIC))
    mode = ctx.optional_choice(MODE, DeliveryMode) or DeliveryMode.IMMEDIATE
    return await ctx.deps.subscriptions.subscribe(ctx.caller, topic, mode)


async def unsubscribe(ctx: Context[SubscriptionCommandDeps]) -> Message:
    """Leave a topic (or withdraw a waiting request for it). The Undo restores the delivery mode the caller
    had, and is offered only when it would work as it says."""
    service = ctx.deps.subscriptions
    target = ctx.value(UNSUBSCRIBE_TOPIC).strip().lower()
    if target == "all":
        left, withdrawn = await service.unsubscribe_all(ctx.caller)
        body: list[Text | str] = [_n("You left {n} topic.", "You left {n} topics.", left)]
        if withdrawn:
            body.append(_n("{n} waiting request was withdrawn.", "{n} waiting requests were withdrawn.", withdrawn))
        return Message(body=tuple(body))
    topic = await service.own_topic(ctx.caller, target) or \
        await ctx.deps.topics.find_visible(ctx.caller, target, allow_archived=True)
    previous = await service.unsubscribe(ctx.caller, topic)
    if previous is None:
        request = await service.withdraw(ctx.caller, topic)
        if request is not None:
            return Message(body=(_("Your request #{id} to join “{topic}” is withdrawn.", id=request.id,
                                   topic=topic.slug),))
        return Message(body=(_("You do not follow “{topic}”. Nothing changed.", topic=topic.slug),))
    body = [_("You no longer follow “{topic}”.", topic=topic.slug)]
    undo = invoke(SUBSCRIBE, topic=topic.slug, mode=previous)
    rejoin = await service.rejoin(ctx.caller, topic)
    if rejoin is Rejoin.DIRECT:
        return Message(body=tuple(body), actions=(Action(_("Undo"), undo),))
    if rejoin is Rejoin.APPROVAL:
        body.append(_("Joining again needs a coordinator's approval."))
        return Message(body=tuple(body), actions=(Action(_("Ask to rejoin"), undo),))
    if rejoin is Rejoin.ARCHIVED:
        body.append(_("“{topic}” is archived, so it cannot be followed again unless a coordinator brings it "
                      "back.", topic=topic.slug))
    else:
        body.append(_("“{topic}” is {visibility}: to follow it again you will need a coordinator to invite you "
                      "or give you the role it needs.", topic=topic.slug,
                      visibility=visibility_label(topic.visibility)))
    return Message(body=tuple(body))


async def my_subscriptions(ctx: Context[SubscriptionCommandDeps]) -> Message:
    """The topics followed and the requests waiting, each counted by what is listed under it; a topic that
    sends the caller nothing any more says so rather than looking followed."""
    service, caller = ctx.deps.subscriptions, ctx.caller
    followed = await service.followed(caller)
    requests = await service.own_requests(caller)
    if not followed and not requests:
        return Message(body=(_("You follow no topics yet. Type “topics” to see what you can follow."),))
    lines: list[Text | str] = []
    if followed:
        lines.append(_n("You follow {n} topic:", "You follow {n} topics:", len(followed)))
    else:
        lines.append(_("You follow no topics yet."))
    for topic, mode in followed:
        note: Text | str = ""
        if topic.archived:
            note = _(" — archived: nothing is sent to it")
        elif not may_receive(topic, caller.role, caller.coordinated, subscribed=True):
            note = _(" — nothing reaches you: you can no longer see it")
        lines.append(_("• {topic} — {mode}{note}", topic=topic.slug, mode=mode.label, note=note))
    if requests:
        lines.append(_n("{n} request is waiting for approval:", "{n} requests are waiting for approval:",
                        len(requests)))
    for request, topic in requests:
        note = "" if may_receive(topic, caller.role, caller.coordinated, subscribed=True) else \
            _(" — cannot be approved: you can no longer see it")
        lines.append(_("• {topic} — {mode} (request #{id}){note}", topic=topic.slug, mode=request.mode.label,
                       id=request.id, note=note))
    return Message(title=_("Your subscriptions"), body=tuple(lines))


async def list_requests(ctx: Context[SubscriptionCommandDeps]) -> Message:
    service = ctx.deps.subscriptions
    topic_ids = None if ctx.caller.role >= Role.COORDINATOR else sorted(ctx.caller.coordinated)
    requests = await service.waiting(topic_ids)
    if not requests:
        return Message(body=(_("No requests are waiting."),))
    lines: list[Text | str] = [_n("{n} request is waiting:", "{n} requests are waiting:", len(requests))]
    actions: list[Action] = []
    for request in requests:
        lines.append(await service.describe_request(request))
        if len(actions) < 10:
            actions += [Action(_("Approve #{id}", id=request.id), invoke(APPROVE, request=request.id),
                               ActionStyle.PRIMARY),
                        Action(_("Deny #{id}", id=request.id), invoke(DENY, request=request.id), ActionStyle.DANGER)]
    return Message(title=_("Subscription requests"), body=tuple(lines), actions=tuple(actions))


async def approve(ctx: Context[SubscriptionCommandDeps]) -> Message:
    return await ctx.deps.subscriptions.decide(ctx.caller, ctx.number(REQUEST), True, None,
                                               ctx.deps.people.caller_for_person)


async def deny(ctx: Context[SubscriptionCommandDeps]) -> Message:
    return await ctx.deps.subscriptions.decide(ctx.caller, ctx.number(REQUEST), False, ctx.get(REASON),
                                               ctx.deps.people.caller_for_person)


def routes() -> list[Route[SubscriptionCommandDeps]]:
    return [
        Route(SUBSCRIBE, subscribe),
        Route(UNSUBSCRIBE, unsubscribe),
        route(("mysubs",), _("Show the topics you follow and how you receive them."), my_subscriptions),
        route(("requests",), _("Show subscription requests waiting for your approval."), list_requests,
              role=Role.COORDINATOR),
        Route(APPROVE, approve),
        Route(DENY, deny),
    ]
