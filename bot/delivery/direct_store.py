"""What :mod:`bot.delivery.direct_channels` keeps: which people still lack a DM channel, and forgetting a stale one.

A store of its own, beside the people store: the DM channel id itself stays in the person's identity
(``PeopleStore.set_dm_channel``); this only asks the questions the background opener needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.model import Identity


class DirectChannelStore(Protocol):
    async def lacking(self, platform: str, limit: int, *, after: str | None = None) -> list[Identity]:
        """Returns up to ``limit`` identities on ``platform`` with no DM channel yet and DMs not known closed,
        of people who follow a topic that is not archived immediately (the ones a fan-out DMs), and only where
        their DMs go through ``platform``; by external id, from just after ``after`` (keyset paging: a page
        costs the same however far into the list it is). Raises nothing of its own."""
        ...

    async def busy(self, platform: str, due_by: datetime) -> bool:
        """Returns whether a delivery going out on ``platform`` is being sent, or is pending and due by
        ``due_by`` (a row whose platform the worker will only choose when it sends counts for every platform).
        Raises nothing of its own."""
        ...

    async def forget(self, identity: Identity, channel_id: str) -> bool:
        """Clear ``identity``'s DM channel when it still is ``channel_id`` (the platform no longer knows it), so
        it is opened again. Returns whether it was cleared. Raises nothing of its own."""
        ...
