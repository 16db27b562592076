"""The subscription commands that buttons run (join, leave, approve, deny), declared where any feature can
build such a button without importing the router (:mod:`bot.subscriptions.commands`)."""

from __future__ import annotations

from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.i18n import _
from bot.model import Role
from bot.subscriptions.model import DeliveryMode

MODES = tuple(m.value for m in DeliveryMode)
REQUEST = Arg("request", _("The request number, e.g. 12"), ArgKind.INTEGER, max_length=12)

SUBSCRIBE_TOPIC = Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC)
MODE = Option("mode", _("immediate DM, daily or weekly digest, or channel only"), ArgKind.CHOICE, MODES)
UNSUBSCRIBE_TOPIC = Arg("topic", _("The topic's short name, or “all”"), ArgKind.TOPIC)
REASON = Option("reason", _("Why, for the requester"))

SUBSCRIBE = Command(("subscribe",), _("Follow a topic; choose how you receive its posts."),
                    args=(SUBSCRIBE_TOPIC,), options=(MODE,))
UNSUBSCRIBE = Command(("unsubscribe",), _("Stop following a topic (or withdraw your request), or “all” topics."),
                      args=(UNSUBSCRIBE_TOPIC,))
APPROVE = Command(("approve",), _("Approve a subscription request."), role=Role.COORDINATOR, args=(REQUEST,))
DENY = Command(("deny",), _("Decline a subscription request, optionally saying why."), role=Role.COORDINATOR,
               args=(REQUEST,), options=(REASON,))
