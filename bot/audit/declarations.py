"""The ``audit`` command, declared apart from its handler (:mod:`bot.audit.commands`) so its paging buttons
name a declaration, not a string."""

from __future__ import annotations

from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.i18n import _
from bot.model import Role

WHO_OR_WHAT = Arg("filter", _("A person (a name, a mention or platform:id) or a topic's short name"),
                  required=False, rest=True, max_length=100)
SINCE = Option("since", _("Only the last while, e.g. 7d or 12h"), ArgKind.DURATION, max_length=12)
PAGE = Option("page", _("Page number"), ArgKind.INTEGER, max_length=4)

AUDIT = Command(("audit",), _("Who did what and when: grants, topics, announcements, approvals, resources."),
                role=Role.ADMIN, args=(WHO_OR_WHAT,), options=(SINCE, PAGE))
