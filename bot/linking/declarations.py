"""The linking commands, declared where the service can build the confirmation buttons without importing the router
(:mod:`bot.linking.commands` pairs them with their handlers).

``link`` is one command whose optional argument is a code or one of the words ``confirm`` and ``cancel``: a name
cannot be both a command and a group (Discord), and a code (8 characters) is never one of those words, so
``link``, ``link ABCD-EFGH``, ``link confirm`` and ``link cancel`` all read as typed.

The buttons add the proposal's reference as a second word (``link confirm 7KQ2XM``), so a button acts on the
proposal it showed and no later one. It is read from the same argument rather than declared as a second one: the
argument takes the rest of the line so that a code typed with a space (``ABCD EFGH``) still reads, and only the
last argument can do that. The button's line stays short: Slack carries it in the button's value (2,000
characters), Discord in the database behind a token in the ``custom_id`` (``adapters/discord/tokens.py``).
"""

from __future__ import annotations

from bot.commands.spec import Arg, ArgKind, Command
from bot.i18n import _

CONFIRM = "confirm"
CANCEL = "cancel"
PLATFORMS = ("slack", "discord", "email")
"""The platforms an account can be unlinked from (the console is a single demo account)."""

CODE = Arg("code", _("The code your other account gave (such as ABCD-EFGH), or “confirm” or “cancel”"),
           required=False, rest=True, max_length=40)
PLATFORM = Arg("platform", _("slack, discord or email"), ArgKind.CHOICE, choices=PLATFORMS)

LINK = Command(("link",), _("Join your accounts on several platforms into one: “link” gives a code, “link <code>” "
                            "on your other platform uses it, and the first account confirms."), args=(CODE,))
UNLINK = Command(("unlink",), _("Split your accounts on one platform off into a separate person again."),
                 args=(PLATFORM,))
