"""Subscription commands: ``subscribe``, ``unsubscribe``, ``mysubs``, ``requests``, ``approve``, ``deny``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.context import Context
from bot.commands.routes import Route, route
from bot.commands.spec import Arg, ArgKind, Option
from bot.i18n import Text, _, _n
from bot.messages import Action, ActionStyle, Message
from bot.model import Role
from bot.subscriptions.model import DeliveryMode
from bot.subscriptions.service import SubscriptionService
from bot.topics.service import TopicService

MODES = tuple(m.value for m in DeliveryMode)


@dataclass(frozen=True, slots=True)
class SubscriptionCommandDeps:
    subscriptions: SubscriptionService
    topics: TopicService


async def subscribe(ctx: Context[SubscriptionCommandDeps]) -> Message:
    topic = await ctx.deps.topics.find_visible(ctx.caller, ctx.arg("topic"))
    mode = DeliveryMode(ctx.opt("mode") or DeliveryMode.IMMEDIATE.value)
    return await ctx.deps.subscriptions.subscribe(ctx.caller, topic, mode)


async def unsubscribe(ctx: Context[SubscriptionCommandDeps]) -> Message:
    service = ctx.deps.subscriptions
    target = ctx.arg("topic").strip().lower()
    if target == "all":
        left = await service.unsubscribe_all(ctx.caller)
        return Message(body=(_n("You left {n} topic.", "You left {n} topics.", left),))
    topic = await service.followed_topic(ctx.caller, target) or \
        await ctx.deps.topics.find_visible(ctx.caller, target, allow_archived=True)
    if not await service.unsubscribe(ctx.caller, topic):
        return Message(body=(_("You do not follow “{topic}”. Nothing changed.", topic=topic.slug),))
    return Message(body=(_("You no longer follow “{topic}”.", topic=topic.slug),),
                   actions=(Action(_("Undo"), f"subscribe {topic.slug}"),))


async def my_subscriptions(ctx: Context[SubscriptionCommandDeps]) -> Message:
    service = ctx.deps.subscriptions
    followed = await service.followed(ctx.caller)
    if not followed:
        return Message(body=(_("You follow no topics yet. Type “topics” to see what you can follow."),))
    lines: list[Text | str] = [_n("You follow {n} topic:", "You follow {n} topics:", len(followed))]
    for topic, mode in followed:
        if topic is not None:
            lines.append(_("• {topic} — {mode}", topic=topic.slug, mode=mode.label))
    for request, requested in await service.own_requests(ctx.caller):
        lines.append(_("• {topic} — waiting for approval (request #{id})",
                       topic=requested.slug if requested else "?", id=request.id))
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
            actions += [Action(_("Approve #{id}", id=request.id), f"approve {request.id}", ActionStyle.PRIMARY),
                        Action(_("Deny #{id}", id=request.id), f"deny {request.id}", ActionStyle.DANGER)]
    return Message(title=_("Subscription requests"), body=tuple(lines), actions=tuple(actions))


async def approve(ctx: Context[SubscriptionCommandDeps]) -> Message:
    return await ctx.deps.subscriptions.decide(ctx.caller, ctx.int_arg("request"), True, None)


async def deny(ctx: Context[SubscriptionCommandDeps]) -> Message:
    return await ctx.deps.subscriptions.decide(ctx.caller, ctx.int_arg("request"), False, ctx.opt("reason"))


def routes() -> list[Route[SubscriptionCommandDeps]]:
    request = Arg("request", _("The request number, e.g. 12"), ArgKind.INTEGER, max_length=12)
    return [
        route(("subscribe",), _("Follow a topic; choose how you receive its posts."), subscribe,
              args=(Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC),),
              options=(Option("mode", _("immediate DM, daily or weekly digest, or channel only"), ArgKind.CHOICE,
                              MODES),)),
        route(("unsubscribe",), _("Stop following a topic, or “all” topics."), unsubscribe,
              args=(Arg("topic", _("The topic's short name, or “all”"), ArgKind.TOPIC),)),
        route(("mysubs",), _("Show the topics you follow and how you receive them."), my_subscriptions),
        route(("requests",), _("Show subscription requests waiting for your approval."), list_requests,
              role=Role.COORDINATOR),
        route(("approve",), _("Approve a subscription request."), approve, role=Role.COORDINATOR, args=(request,)),
        route(("deny",), _("Decline a subscription request, optionally saying why."), deny,
              role=Role.COORDINATOR, args=(request,), options=(Option("reason", _("Why, for the requester")),)),
    ]
