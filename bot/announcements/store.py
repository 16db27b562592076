"""The store the announcements feature needs: announcements and their states. :class:`bot.ports.Store` names
it; ``storage/announcements.py`` implements it. Where an announcement goes lives elsewhere: its channels in
:class:`bot.channels.store.ChannelStore`, its digest items in :class:`bot.subscriptions.store.DigestStore`, its
outbox rows in :class:`bot.delivery.stores.OutboxStore`.

What every store method may raise beyond what it names (the database failing, a foreign key, a naive
``datetime``) is said once in :mod:`bot.ports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.announcements.model import Announcement, AnnouncementState


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom a fan-out writes rows for: the topic's subscribers. Each immediate subscriber gets an outbox row
    keyed ``key_prefix + person id`` carrying ``payload`` (the same serialised payload for all: only the
    recipient differs); each daily or weekly one a digest item."""

    announcement_id: int
    topic_id: int
    key_prefix: str
    payload: str


@dataclass(frozen=True, slots=True)
class FanOutChunk:
    """What one chunk wrote: ``dms`` new outbox rows (``announcement-copy`` rows of people who take
    announcements on every account included), ``digests`` new digest items; ``done`` when no chunk is left (the
    audience is covered, or the announcement stopped being sent)."""

    dms: int
    digests: int
    done: bool


class AnnouncementStore(Protocol):
    """Announcements, from draft to sent (or cancelled, or missed)."""

    async def create(self, topic_id: int, author_id: int, text: str, send_at: datetime | None,
                     now: datetime) -> Announcement:
        """Returns a new draft (``send_at``: when to send it once scheduled). Raises nothing of its own."""
        ...

    async def get(self, announcement_id: int) -> Announcement | None:
        """Returns the announcement, or ``None`` for an unknown id. Raises nothing of its own."""
        ...

    async def by_public_id(self, public_id: str) -> Announcement | None:
        """Returns the row whose public id (:attr:`Announcement.public_id`) this is, in any state, or ``None``. Raises
        nothing of its own."""
        ...

    async def recent(self, topic_ids: Sequence[int] | None, limit: int = 20) -> list[Announcement]:
        """Returns the newest ``limit`` announcements of these topics (``None``: all topics), newest first. Raises
        nothing of its own."""
        ...

    async def published(self, topic_ids: Sequence[int], *, limit: int, offset: int = 0) -> list[Announcement]:
        """Returns announcements of these topics that went out (``sending`` or ``sent``: not drafts, scheduled,
        cancelled or missed ones), newest first by when they went out, skipping ``offset``: the public archive
        and feeds page through it. Raises nothing of its own."""
        ...

    async def transition(self, announcement_id: int, to: AnnouncementState, expected: Sequence[AnnouncementState],
                         now: datetime) -> bool:
        """Move to ``to`` only from one of ``expected`` (stamping ``sent_at`` when ``to`` is ``sending``; never to
        ``sent`` while a fan-out is under way); returns True when it moved, False when another path got there
        first, the fan-out is incomplete or the id is unknown. Raises nothing of its own."""
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

    async def begin_fan_out(self, announcement_id: int) -> None:
        """Mark the fan-out under way, from the first subscriber (call with the move to ``sending``). Returns
        nothing; raises nothing of its own."""
        ...

    async def fan_out_chunk(self, audience: Audience, now: datetime, limit: int) -> FanOutChunk:
        """In one transaction: write the rows of the next ``limit`` subscribers after the fan-out's cursor (a
        key already queued is skipped, so a chunk re-run after a crash writes nothing twice) and move the cursor
        past them. An announcement no longer ``sending`` (cancelled) ends its fan-out instead. Returns what it
        wrote; raises nothing of its own."""
        ...

    async def unfinished_fan_outs(self) -> list[int]:
        """Returns the ids of announcements being sent whose fan-out has not finished (a crash between chunks),
        by id. Raises nothing of its own."""
        ...

    async def audience_platforms(self, topic_id: int) -> list[tuple[str | None, int]]:
        """Returns the topic's immediate subscribers counted by the platform their DM will go through (their
        preferred one, else their only identity's; ``None`` when the worker will pick), by platform. Raises
        nothing of its own."""
        ...
