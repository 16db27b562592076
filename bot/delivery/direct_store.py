"""What :mod:`bot.delivery.direct_channels` keeps: which people still lack a DM channel, and forgetting a stale one.

A store of its own, beside the people store: the DM channel id itself stays in the person's identity
(``PeopleStore.set_dm_channel``); this only asks the questions the background opener needs.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from bot.model import Identity


class DirectChannelStore(Protocol):
    async def lacking(self, platform: str, limit: int, *, skip: Collection[Identity] = ()) -> list[Identity]:
        """Returns up to ``limit`` identities on ``platform`` with no DM channel yet and DMs not known closed,
        of people who follow at least one topic immediately (the ones a fan-out DMs), oldest subscription
        first, leaving out ``skip``. Raises nothing of its own."""
        ...

    async def forget(self, identity: Identity, channel_id: str) -> bool:
        """Clear ``identity``'s DM channel when it still is ``channel_id`` (the platform no longer knows it), so
        it is opened again. Returns whether it was cleared. Raises nothing of its own."""
        ...
