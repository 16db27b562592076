"""The topic commands that buttons run, declared apart from the router (:mod:`bot.topics.commands`) so a
button names a declaration, not a string."""

from __future__ import annotations

from bot.commands.spec import Arg, ArgKind, Command
from bot.i18n import _
from bot.model import Role

TOPIC = Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC)

TOPIC_UNARCHIVE = Command(("topic", "unarchive"), _("Bring an archived topic back: listed and sent to again."),
                          role=Role.COORDINATOR, topic_arg="topic", args=(TOPIC,))
