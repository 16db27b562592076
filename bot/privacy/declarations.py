"""The privacy commands, declared where the service can build the confirmation button without importing the
router (:mod:`bot.privacy.commands` pairs them with their handlers)."""

from __future__ import annotations

from bot.commands.spec import Arg, ArgKind, Command
from bot.i18n import _

CONFIRM = "confirm"
CONFIRMATION = Arg("confirmation", _("Type “confirm” to erase at once"), ArgKind.CHOICE, required=False,
                   choices=(CONFIRM,))

MYDATA = Command(("mydata",), _("See what the bot holds about you, with a file of all of it."))
FORGET_ME = Command(("forget", "me"), _("Erase everything the bot holds about you (asks to confirm)."),
                    args=(CONFIRMATION,))
