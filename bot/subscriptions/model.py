"""Subscriptions, their delivery modes, and requests to join approval topics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.i18n import Text, _


class DeliveryMode(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    CHANNEL = "channel"

    @property
    def label(self) -> Text:
        return MODE_LABELS[self]


MODE_LABELS: dict[DeliveryMode, Text] = {
    DeliveryMode.IMMEDIATE: _("immediate (direct message)"),
    DeliveryMode.DAILY: _("daily digest"),
    DeliveryMode.WEEKLY: _("weekly digest"),
    DeliveryMode.CHANNEL: _("channel only"),
}


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Subscription:
    person_id: int
    topic_id: int
    mode: DeliveryMode
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    id: int
    person_id: int
    topic_id: int
    mode: DeliveryMode
    status: RequestStatus
    created_at: datetime
    expires_at: datetime
    decided_by: int | None
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class Invitation:
    """Leave to join a topic without approval (and, for a private topic, to know it exists), used up on joining."""

    person_id: int
    topic_id: int
    invited_by: int | None
    created_at: datetime


class Rejoin(StrEnum):
    """What following a topic again would take, decided when someone leaves it, so the Undo offered is honest."""

    DIRECT = "direct"
    """Undo restores the subscription as it was."""
    APPROVAL = "approval"
    """Undo sends a new request: the topic needs a coordinator's approval."""
    BLOCKED = "blocked"
    """No Undo: once out, the person can no longer see the topic (private, or members only without the role)."""
    ARCHIVED = "archived"
    """No Undo: nothing is sent to an archived topic."""


@dataclass(frozen=True, slots=True)
class MissedDigests:
    """What releasing missed digests did: ``rows`` digest deliveries became ``missed`` now (operators count them),
    and ``items`` announcements went back to their readers' queues for the next digest."""

    rows: int
    items: int
