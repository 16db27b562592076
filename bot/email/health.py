"""Bounce health of addresses: the port the email adapter reports refusals and acceptances through."""

from __future__ import annotations

from datetime import datetime

from bot.email.model import EmailConfig
from bot.email.store import EmailHealthStore


class EmailHealth:
    """Pauses an address after ``config.pause_after`` consecutive permanent refusals at sending time, so a dead
    mailbox stops costing sends (and the sender's reputation); the follower resumes it on the manage page."""

    def __init__(self, store: EmailHealthStore, config: EmailConfig | None = None) -> None:
        self._store = store
        self._pause_after = (config or EmailConfig()).pause_after

    async def refused(self, address: str, now: datetime) -> int:
        """Count a permanent refusal (5xx for the recipient); returns the consecutive count. Raises what the
        store raises."""
        return await self._store.refused(address, now, self._pause_after)

    async def delivered(self, address: str) -> None:
        """A mail to ``address`` was accepted: the count starts again."""
        await self._store.delivered(address)

    async def is_paused(self, address: str) -> bool:
        return await self._store.is_paused(address)

    async def resume(self, address: str) -> bool:
        """Send to ``address`` again; returns whether it was paused."""
        return await self._store.resume(address)
