"""The stores the subscriptions feature needs: who follows which topic (and who was invited), the requests
waiting for approval, and the digest queue. :class:`bot.ports.Store` names each; ``storage/subscriptions.py``,
``storage/requests.py`` and ``storage/digests.py`` implement them.

What every store method may raise beyond what it names (the database failing, a foreign key, a naive
``datetime``) is said once in :mod:`bot.ports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.subscriptions.model import (
    DeliveryMode,
    Invitation,
    MissedDigests,
    RequestStatus,
    Subscription,
    SubscriptionRequest,
)


class SubscriptionStore(Protocol):
    """Subscriptions (person, topic, delivery mode) and invitations to private topics."""

    async def get(self, person_id: int, topic_id: int) -> Subscription | None:
        """Returns the person's subscription to the topic, or ``None``. Raises nothing of its own."""
        ...

    async def put(self, person_id: int, topic_id: int, mode: DeliveryMode, now: datetime) -> None:
        """Subscribe, or change the mode of an existing subscription (its start stays). Returns nothing; raises nothing
        of its own."""
        ...

    async def remove(self, person_id: int, topic_id: int) -> bool:
        """Unsubscribe; returns False when the person was not subscribed. Raises nothing of its own."""
        ...

    async def of_person(self, person_id: int) -> list[Subscription]:
        """Returns the person's subscriptions, by topic slug. Raises nothing of its own."""
        ...

    async def of_topic(self, topic_id: int) -> list[Subscription]:
        """Returns the topic's subscriptions, by person id. Raises nothing of its own."""
        ...

    async def audience_counts(self, topic_id: int) -> list[tuple[DeliveryMode, str | None, int]]:
        """Returns (mode, preferred platform or ``None`` when the person chose none, subscribers) for the topic,
        by mode, then platform with ``None`` first: the announcement preview's audience. Raises nothing of its
        own."""
        ...

    async def add_invitation(self, person_id: int, topic_id: int, invited_by: int, now: datetime) -> bool:
        """Invite the person to the topic; returns False when they were invited already (the first invitation
        stays). Raises nothing of its own."""
        ...

    async def is_invited(self, person_id: int, topic_id: int) -> bool:
        """Returns whether the person holds an invitation to the topic. Raises nothing of its own."""
        ...

    async def invitation(self, person_id: int, topic_id: int) -> Invitation | None:
        """Returns the person's invitation to the topic, or ``None``. Raises nothing of its own."""
        ...

    async def remove_invitation(self, person_id: int, topic_id: int) -> bool:
        """Withdraw the invitation; returns False when there was none. Raises nothing of its own."""
        ...

    async def remove_invitations(self, topic_id: int) -> list[Invitation]:
        """Withdraw every open invitation to the topic (it was archived); returns what was withdrawn, by
        person id. Raises nothing of its own."""
        ...


class RequestStore(Protocol):
    """Requests to join a topic that needs approval; at most one per person and topic is pending."""

    async def create(self, person_id: int, topic_id: int, mode: DeliveryMode, now: datetime,
                     expires_at: datetime) -> SubscriptionRequest:
        """Returns a new pending request. Raises the database's integrity error for a second pending request for the
        same person and topic: callers look with :meth:`pending_for` first, in the same transaction."""
        ...

    async def get(self, request_id: int) -> SubscriptionRequest | None:
        """Returns the request in any status, or ``None`` for an unknown id. Raises nothing of its own."""
        ...

    async def pending_for(self, person_id: int, topic_id: int) -> SubscriptionRequest | None:
        """Returns the person's pending request for the topic, or ``None``. Raises nothing of its own."""
        ...

    async def pending(self, topic_ids: Sequence[int] | None) -> list[SubscriptionRequest]:
        """Returns pending requests for these topics (``None``: all topics), oldest first. Raises nothing of its own."""
        ...

    async def decide(self, request_id: int, status: RequestStatus, decided_by: int | None,
                     now: datetime) -> bool:
        """Move a pending request to ``status``; returns False when it was no longer pending (or never existed).
        Raises nothing of its own."""
        ...

    async def expire_due(self, now: datetime) -> list[SubscriptionRequest]:
        """Pending requests whose ``expires_at`` has come become ``expired``; returns them. Raises nothing of
        its own."""
        ...

    async def pending_of(self, person_id: int) -> list[SubscriptionRequest]:
        """Returns the person's own requests still waiting, oldest first. Raises nothing of its own."""
        ...

    async def set_mode(self, request_id: int, mode: DeliveryMode) -> bool:
        """Change the delivery mode a waiting request asks for; returns False when it was no longer pending. Raises
        nothing of its own."""
        ...

    async def close_pending(self, topic_id: int, status: RequestStatus, decided_by: int | None,
                            now: datetime) -> list[SubscriptionRequest]:
        """End every waiting request for the topic with ``status``; returns the requests ended, by id. Raises
        nothing of its own."""
        ...


class DigestStore(Protocol):
    """The digest queue: announcements waiting for a person's daily or weekly digest, and which digest (by
    its key) carried each. A digest's outbox rows are keyed ``<digest key>:person:<id>``."""

    async def queue(self, rows: Sequence[tuple[int, int, DeliveryMode]], now: datetime) -> None:
        """Queue each (person, announcement, digest mode); an announcement already queued for that person is
        left as it is. Returns nothing; raises nothing of its own."""
        ...

    async def pending(self) -> list[tuple[int, DeliveryMode, datetime]]:
        """Returns (person, mode, oldest item's queueing time) for everyone with items not yet in a digest, by person
        and mode. Raises nothing of its own."""
        ...

    async def items(self, person_id: int, mode: DeliveryMode, before: datetime) -> list[int]:
        """Returns the announcements queued for the person's ``mode`` digest before ``before`` and in no digest yet,
        oldest first. Raises nothing of its own."""
        ...

    async def mark_digested(self, person_id: int, announcement_ids: Sequence[int], key: str) -> None:
        """Record that the digest ``key`` carries these items; ids never queued for the person are ignored. Returns
        nothing; raises nothing of its own."""
        ...

    async def release_missed(self, now: datetime, reason: str) -> MissedDigests:
        """Digest rows still pending past their expiry (the next digest is due) become ``missed`` with
        ``reason``, and the items of every missed or failed digest go back to the queue, so the next digest
        carries them. Returns how many rows were missed now and how many items were released. Raises nothing of
        its own."""
        ...

    async def counts(self, announcement_id: int) -> tuple[int, int]:
        """Returns (queued, already in a digest) for the announcement, for a delivery report; (0, 0) when it was
        never queued. Raises nothing of its own."""
        ...

    async def drop_undigested(self, announcement_id: int) -> int:
        """Forget the announcement's items in no digest yet (it was cancelled); returns how many. Raises
        nothing of its own."""
        ...
