"""Where a person's direct messages go: ``settings platform <platform|all>``.

Why it lives with delivery: the choice only means something to :mod:`bot.delivery.routes`, which picks the
identity a DM goes through when it is sent (the preferred platform's, falling back to another account when that
one refuses for good), and to the fan-out, which writes an extra copy per account for ``all``.
"""

from __future__ import annotations

from bot.commands.context import Caller
from bot.delivery.model import ALL_PLATFORMS
from bot.delivery.status import platform_name
from bot.errors import UserError
from bot.i18n import _, listing
from bot.ports import Store

CHOICES = ("slack", "discord", "email", ALL_PLATFORMS)
"""What ``settings platform`` accepts: a platform a person can hold an account on, or every account."""


class PreferredPlatforms:
    """Reads the caller's accounts and stores their choice; one idempotent write, so a command sent twice at
    once answers both times as it would one after the other."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def choose(self, caller: Caller, choice: str) -> str:
        """Store ``choice`` (one of :data:`CHOICES`) as the caller's preferred platform; returns it.

        Raises :class:`UserError` (nothing changed) for a platform they hold no account on, naming the
        platforms they do have and how to add one.
        """
        identities = await self._store.people.identities_of(caller.person.id)
        platforms = sorted({record.identity.platform for record in identities})
        if choice != ALL_PLATFORMS and choice not in platforms:
            raise UserError(_("You have no {platform} account with the bot, so direct messages cannot go there. "
                              "Your accounts: {accounts}. To add one, run “link” here and then “link <code>” "
                              "on {platform}.", platform=platform_name(choice),
                              accounts=listing(platform_name(p) for p in platforms)))
        await self._store.people.set_preferred_platform(caller.person.id, choice)
        return choice
