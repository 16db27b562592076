"""The outbox's values: a delivery to queue, a queued one, its kind and status, what a platform returns
after sending (the ids an edit or delete needs), and what a row's payload must be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class DeliveryKind(StrEnum):
    """What an outbox row is. The values are the strings every earlier version stored in ``deliveries.kind``,
    so rows queued before an upgrade keep their meaning without a migration.

    Each kind's payload is one typed value, serialised and parsed by that value alone: ``announcement`` an
    ``AnnouncementPayload`` and ``report`` a ``ReportPayload`` (``bot/announcements/payloads.py``),
    ``reminder`` a ``ReminderPayload`` (``bot/meetings/payloads.py``), ``edit`` and ``delete`` a
    ``ChangePayload``, and ``notice``, ``meeting-notice`` and ``digest`` a ``NoticePayload`` — the message
    itself, composed when queued (``bot/delivery/payloads.py``).

    ``announcement-copy`` is an ``AnnouncementPayload`` too: the extra copy a person whose preferred platform is
    ``all`` gets on each platform besides the one their counted ``announcement`` row goes through. A distinct
    kind so that reports count people, not identities, while edits and deletes still reach every copy.
    """

    ANNOUNCEMENT = "announcement"
    ANNOUNCEMENT_COPY = "announcement-copy"
    REPORT = "report"
    EDIT = "edit"
    DELETE = "delete"
    REMINDER = "reminder"
    DIGEST = "digest"
    NOTICE = "notice"
    MEETING_NOTICE = "meeting-notice"


@dataclass(frozen=True, slots=True)
class UnknownKind:
    """A stored kind this version does not know (a newer version's row, or one written by hand). Reading it must
    not stop the worker: such a row is recorded failed with its kind in the reason, and counted as a notice."""

    value: str

    def __str__(self) -> str:
        return self.value


def parse_kind(stored: str) -> DeliveryKind | UnknownKind:
    """The kind of a stored row; never raises (see :class:`UnknownKind`)."""
    try:
        return DeliveryKind(stored)
    except ValueError:
        return UnknownKind(stored)


class DeliveryPayload(Protocol):
    """A row's payload as its kind's typed value; the value alone writes its JSON (and its class reads it)."""

    def to_json(self) -> str:
        """Returns the JSON stored in the row, which the class's ``from_json`` reads back. Raises nothing."""
        ...


class PayloadError(ValueError):
    """A stored payload is not what its kind needs (a corrupt or hand-edited row). Raised by every payload's
    ``from_json``; the worker records such a row failed, since reading it again gives the same answer."""


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
    kind: DeliveryKind
    payload: DeliveryPayload
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
    """A queued row as stored. ``payload`` is the stored JSON: the kind's payload type parses it when the row is
    built (so an unreadable one fails that row alone)."""

    id: int
    dedupe_key: str
    kind: DeliveryKind | UnknownKind
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


ALL_PLATFORMS = "all"
"""The preferred platform that means "every account": each announcement DM goes to every identity that can be
reached (one counted ``announcement`` row, the others ``announcement-copy`` rows pinned to their platform).
Reminders, notices and digests still go through one identity (the first reachable)."""


def counted_key(announcement_id: int, person_id: int) -> str:
    """The dedupe key of a subscriber's counted announcement row (what every earlier version wrote)."""
    return f"ann:{announcement_id}:person:{person_id}"


def copy_key(announcement_id: int, platform: str, person_id: int) -> str:
    """The dedupe key of an ``announcement-copy`` row pinned to ``platform``."""
    return f"ann:{announcement_id}:copy:{platform}:{person_id}"
