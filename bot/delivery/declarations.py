"""The delivery command a button runs (the missed-delivery summary links to it), declared apart from the
router (:mod:`bot.delivery.commands`) so the button names a declaration, not a string."""

from __future__ import annotations

from bot.commands.spec import Command
from bot.i18n import _
from bot.model import Role

DELIVERY_STATUS = Command(("delivery", "status"), _("What is queued, paused, failed and missed, per platform and "
                                                    "kind, and whether each platform is up."), role=Role.ADMIN)
