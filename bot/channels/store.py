"""The store the channels feature needs: which channel carries the public feed or a topic, on each platform.
:class:`bot.ports.Store` names it; ``storage/channels.py`` implements it.

What every store method may raise beyond what it names (the database failing, a foreign key, a naive
``datetime``) is said once in :mod:`bot.ports`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.channels.model import ChannelBinding, ChannelPurpose


class ChannelStore(Protocol):
    """Channel bindings: at most one channel per (purpose, topic, platform)."""

    async def bind(self, purpose: ChannelPurpose, topic_id: int | None, platform: str, channel_id: str,
                   now: datetime) -> None:
        """Bind ``channel_id`` for ``purpose`` (``topic_id`` ``None`` for the public feed) on ``platform``,
        replacing the channel bound there before. Returns nothing; raises nothing of its own."""
        ...

    async def bound(self, purpose: ChannelPurpose, topic_id: int | None) -> list[ChannelBinding]:
        """Returns the channels bound for ``purpose`` (``topic_id`` ``None`` for the public feed), one per platform, by
        platform; [] when none is. Raises nothing of its own."""
        ...
