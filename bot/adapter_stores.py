"""The stores platform adapters keep their own state in: button tokens, first send attempts, the publish queue
(Discord), and signed requests already accepted (Slack).

The core never calls these; they live in ``bot/`` because it is the one place both sides may import
(``tests/test_architecture.py``): ``storage/`` implements them and may import ``bot/`` but never ``adapters/``,
and an adapter uses them and may import ``bot/`` but never ``storage/``. An adapter-side module could hold the
protocols, but not the :class:`Publish` value the publish store builds. They stay out of :mod:`bot.ports`, the
core's own interface (:class:`bot.ports.Store`), because no core service needs them; the composition root hands
an adapter the ``storage/`` implementation of each, never the SQLite store itself. They name no platform type,
so another adapter needing the same state can use them.

Every method raises only what the database raises when it fails (``sqlite3.Error`` or ``psycopg.Error`` from the
implementations, which ends the adapter's handling of that event or post); none raises for a row that does
not exist, and each says what it does instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ReplayStore(Protocol):
    """Signatures of signed requests already accepted, so an exact replay is refused even after a restart."""

    async def claim(self, signature: str, request_ts: int, *, forget_before: int) -> bool:
        """Returns True the first time; False for a signature already claimed. Forgets those older than
        ``forget_before`` (Unix seconds), which no longer pass the signature's freshness check anyway. Raises
        nothing of its own."""
        ...


class ActionTokenStore(Protocol):
    """The command invocation behind each button token: a platform's button carries a short token (Discord
    allows 100 characters in a ``custom_id``, an invocation may be longer), and nothing about a button may live
    only in memory, or it would stop working after a restart."""

    async def remember(self, token: str, command: str, now: datetime) -> None:
        """Keep ``command`` under ``token``. A token already kept is left as it is: the adapter derives tokens from
        their command, so the same token always stands for the same command. Returns nothing; raises nothing of its
        own."""
        ...

    async def command_for(self, token: str) -> str | None:
        """Returns the invocation kept under ``token``; ``None`` for a token never kept (a forged or foreign button).
        Raises nothing of its own."""
        ...


class SendAttemptStore(Protocol):
    """When each delivery was first attempted: a retry after the platform's de-duplication window (Discord's
    nonce) must read the conversation back before sending again."""

    async def first_attempt(self, delivery_key: str, now: datetime) -> datetime:
        """Returns ``now`` on the first call for ``delivery_key`` (and recorded); the recorded instant on every later
        call. Raises nothing of its own."""
        ...


class PublishStatus(StrEnum):
    """Waiting (``pending``: due at ``not_before``), or ended for good."""

    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Publish:
    """One channel post forwarded (Discord: crossposted) to the servers following its channel. A row first, so
    a restart forgets none; it ends ``published``, or ``failed`` with a reason — never dropped."""

    id: int
    channel_id: str
    message_id: str
    status: PublishStatus
    not_before: datetime
    attempts: int
    reason: str | None


class PublishStore(Protocol):
    """The publish queue's rows: what waits, what was published when (the per-channel limit is counted from
    these, so a restart does not forget it), and how each publish ended."""

    async def add(self, channel_id: str, message_id: str, now: datetime) -> None:
        """Queue the post for publishing, due ``now``. A message already recorded is left as it is. Returns nothing;
        raises nothing of its own."""
        ...

    async def withhold(self, channel_id: str, message_id: str, reason: str, now: datetime) -> None:
        """Record the post as ``failed`` with ``reason`` without ever queueing it (it must not leave the
        server). A message already recorded is left as it is. Returns nothing; raises nothing of its own."""
        ...

    async def all(self) -> list[Publish]:
        """Returns every publish, oldest first. Raises nothing of its own."""
        ...

    async def due(self, now: datetime) -> list[Publish]:
        """Returns pending publishes due by ``now``, oldest first. Raises nothing of its own."""
        ...

    async def next_due(self) -> datetime | None:
        """Returns when the earliest pending publish falls due; ``None`` when none is pending. Raises nothing of its
        own."""
        ...

    async def published_since(self, channel_id: str, since: datetime) -> list[datetime]:
        """Returns when each of ``channel_id``'s posts published after ``since`` was published, earliest first. Raises
        nothing of its own."""
        ...

    async def postpone(self, publish_id: int, not_before: datetime, reason: str, *,
                       attempts: int | None = None) -> None:
        """Keep the publish pending until ``not_before``, saying why; ``attempts`` replaces its count when
        given (a refused attempt), and is left alone when not (it was never tried). An unknown id changes
        nothing; returns nothing and raises nothing of its own."""
        ...

    async def mark_published(self, publish_id: int, now: datetime) -> None:
        """End the publish ``published`` at ``now`` (counted in its channel's limit), counting the attempt. An
        unknown id changes nothing; returns nothing and raises nothing of its own."""
        ...

    async def mark_failed(self, publish_id: int, reason: str) -> None:
        """End the publish ``failed`` with ``reason``, counting the attempt; it is never tried again. An unknown
        id changes nothing; returns nothing and raises nothing of its own."""
        ...
