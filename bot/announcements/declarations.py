"""The announcement commands that buttons run, declared where a service can build a button without importing
the router (:mod:`bot.announcements.commands` pairs them with their handlers)."""

from __future__ import annotations

from bot.commands.spec import Arg, ArgKind, Command
from bot.i18n import _
from bot.model import Role

NUMBER = Arg("id", _("The announcement number, e.g. 12"), ArgKind.INTEGER, max_length=12)

ANNOUNCE_CONFIRM = Command(("announce", "confirm"), _("Send or schedule a previewed announcement."),
                           role=Role.COORDINATOR, args=(NUMBER,))
ANNOUNCE_CANCEL = Command(("announce", "cancel"), _("Cancel an announcement; sent copies are removed where possible."),
                          role=Role.COORDINATOR, args=(NUMBER,))
ANNOUNCE_STATUS = Command(("announce", "status"), _("The delivery report of an announcement."),
                          role=Role.COORDINATOR, args=(NUMBER,))
ANNOUNCE_RETRY = Command(("announce", "retry"),
                         _("Send again the copies of an announcement that failed during an outage."),
                         role=Role.COORDINATOR, args=(NUMBER,))
