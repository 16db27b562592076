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
    MISSED = "missed"
    """No longer relevant before it could be sent (a reminder after its meeting started, a digest when the
    next one is due): reported to the topic's coordinators, never sent late."""


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
    expires_at: datetime | None = None
    """When the message stops being relevant; ``None``: it never does (an announcement)."""


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
    expires_at: datetime | None = None
    uncertain: bool = False
    """An earlier attempt may have reached the platform: read the conversation back before posting."""
    retrying_since: datetime | None = None
    """The first transient failure of the current streak: the retry deadline counts from here."""
    retryable: bool = False
    """Failed for a transient reason: a coordinator may re-queue it."""
    attempt_platform: str | None = None


@dataclass(frozen=True, slots=True)
class WorkerLease:
    """A running delivery worker's claim on the rows it holds in ``sending``, renewed while it runs.

    Recovery re-queues a ``sending`` row only when its holder's lease has expired, so a worker never takes
    back rows another live one is sending. ``pid`` and ``host`` are for people reading status, not for logic.
    """

    holder: str
    pid: int
    host: str
    started_at: datetime
    expires_at: datetime
