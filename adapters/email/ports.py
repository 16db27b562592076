"""What the email adapter needs from the rest of the bot, as small protocols the composition root implements.

``EmailLinks`` is the core's port (:mod:`bot.email.links`), re-exported. ``EmailHealth`` is the adapter's part of
the bounce store, without the threshold (the composition root binds ``pause_after`` from ``[email] bounce_pause``
around ``bot.email.store.EmailHealthStore``), so the adapter only reports what the server answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from bot.email.links import EmailLinks

__all__ = ["EmailHealth", "EmailLinks", "KeyLookup", "LanguageLookup"]

KeyLookup = Callable[[str], Awaitable[str | None]]
"""A subscriber's manage/unsubscribe key by normalised address; ``None`` when the address follows nothing yet
(a confirmation mail): such a mail carries no unsubscribe header nor footer links."""

LanguageLookup = Callable[[str], Awaitable[str | None]]
"""The language chosen for an address, for what is sent without a rendered message (a withdrawal notice)."""


class EmailHealth(Protocol):
    """The bounce score of each address: refusals at sending time pause it, a delivery resets it."""

    async def refused(self, address: str, now: datetime) -> int:
        """Count one more consecutive permanent refusal. Returns the count now. Raises what the store raises."""
        ...

    async def delivered(self, address: str) -> None:
        """The server took a mail for ``address``: its count of refusals starts again from zero."""
        ...

    async def is_paused(self, address: str) -> bool:
        """Whether sending to ``address`` is paused after repeated refusals (until resumed on the manage page)."""
        ...
