"""The outbox's values: a delivery to queue, a queued one, its status, and what a platform returns
after sending (the ids an edit or delete needs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Where a delivered message landed; every part of a split message keeps its id."""

    platform: str
    channel_id: str
    message_ids: tuple[str, ...]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A message to queue. Exactly one of ``person_id`` or (``platform``, ``channel_id``) is the target."""

    dedupe_key: str
    kind: str
    payload: str
    not_before: datetime
    person_id: int | None = None
    platform: str | None = None
    channel_id: str | None = None
    topic_id: int | None = None
    announcement_id: int | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    dedupe_key: str
    kind: str
    person_id: int | None
    platform: str | None
    channel_id: str | None
    topic_id: int | None
    payload: str
    status: DeliveryStatus
    attempts: int
    not_before: datetime
    sent: SentMessage | None
    reason: str | None
    announcement_id: int | None = None
