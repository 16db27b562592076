"""The store the announcements feature needs: announcements and their states. :class:`bot.ports.Store` names
it; ``storage/announcements.py`` implements it. Where an announcement goes lives elsewhere: its channels in
:class:`bot.channels.store.ChannelStore`, its digest items in :class:`bot.subscriptions.store.DigestStore`, its
outbox rows in :class:`bot.delivery.stores.OutboxStore`.

What every store method may raise beyond what it names (the database failing, a foreign key, a naive
``datetime``) is said once in :mod:`bot.ports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.announcements.model import Announcement, AnnouncementState


class AnnouncementStore(Protocol):
    """Announcements, from draft to sent (or cancelled, or missed)."""

    async def create(self, topic_id: int, author_id: int, text: str, send_at: datetime | None,
                     now: datetime) -> Announcement:
        """Returns a new draft (``send_at``: when to send it once scheduled). Raises nothing of its own."""
        ...

    async def get(self, announcement_id: int) -> Announcement | None:
        """Returns the announcement, or ``None`` for an unknown id. Raises nothing of its own."""
        ...

    async def recent(self, topic_ids: Sequence[int] | None, limit: int = 20) -> list[Announcement]:
        """Returns the newest ``limit`` announcements of these topics (``None``: all topics), newest first. Raises
        nothing of its own."""
        ...

    async def transition(self, announcement_id: int, to: AnnouncementState, expected: Sequence[AnnouncementState],
                         now: datetime) -> bool:
        """Move to ``to`` only from one of ``expected`` (stamping ``sent_at`` when ``to`` is ``sending``);
        returns True when it moved, False when another path got there first or the id is unknown. Raises nothing
        of its own."""
        ...

    async def update_text(self, announcement_id: int, text: str, now: datetime) -> None:
        """Replace the text, stamping the edit and counting a revision. An unknown id changes nothing; returns nothing
        and raises nothing of its own."""
        ...

    async def set_send_at(self, announcement_id: int, send_at: datetime | None) -> None:
        """Set when to send it (``None`` clears it). An unknown id changes nothing; returns nothing and raises nothing
        of its own."""
        ...

    async def due(self, now: datetime) -> list[Announcement]:
        """Returns scheduled announcements whose ``send_at`` has come, earliest first. Raises nothing of its own."""
        ...

    async def in_state(self, state: AnnouncementState) -> list[Announcement]:
        """Returns every announcement in ``state``, by id. Raises nothing of its own."""
        ...

    async def next_scheduled(self) -> datetime | None:
        """Returns the earliest ``send_at`` of a scheduled announcement; ``None`` when none is scheduled. Raises
        nothing of its own."""
        ...
