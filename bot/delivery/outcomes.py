"""What the outbox holds, counted: the values status reports and missed-delivery summaries read from the
store, and the tally that turns row counts into "queued, paused, sent, failed …" per platform or kind.

Why counts and not rows: ``delivery status`` covers every topic, members-only and private ones included, so
it must never carry a message's text; a count by platform, kind and status cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bot.delivery.model import DeliveryKind, DeliveryStatus, UnknownKind

K = TypeVar("K", bound=Hashable)

OPEN_STATUSES = frozenset({DeliveryStatus.PENDING, DeliveryStatus.SENDING})


@dataclass(frozen=True, slots=True)
class DeliveryCount:
    """How many rows share a platform, kind and status. ``platform`` is the one the row went (or will go)
    through: where it landed, else the last attempt's, else a channel row's, else the recipient's only
    identity's; ``None`` while a person with several identities has not been sent to yet."""

    platform: str | None
    kind: DeliveryKind | UnknownKind
    status: DeliveryStatus
    count: int
    retryable: int = 0
    """Of the ``failed`` ones, how many failed for a transient reason (``announce retry`` can re-queue them)."""


@dataclass(frozen=True, slots=True)
class StatusCount:
    """How many of an announcement's copies are in ``status``; ``retryable`` of them failed for a transient
    reason."""

    status: DeliveryStatus
    count: int
    retryable: int = 0


@dataclass(frozen=True, slots=True)
class Stopped:
    """The rows a cancel ended before they were sent: ``counted`` targets (channels and people, as reports count
    them) and ``copies``, the extra ``announcement-copy`` rows of people who take announcements on every account."""

    counted: int
    copies: int

    @property
    def rows(self) -> int:
        return self.counted + self.copies


@dataclass(frozen=True, slots=True)
class ProblemDelivery:
    """A copy that failed, was skipped or was missed, as a report lists it: to whom (the person's name, or the
    channel) and why (``reason`` as stored: see :func:`bot.i18n.decode_text`)."""

    id: int
    status: DeliveryStatus
    person_id: int | None
    person_name: str | None
    platform: str | None
    channel_id: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class PlatformCircuit:
    """A platform's circuit as stored: open (its queue paused) while ``retry_at`` is in the future."""

    platform: str
    failures: int
    opened_at: datetime | None
    retry_at: datetime | None
    reason: str | None

    def paused(self, now: datetime) -> bool:
        return self.retry_at is not None and self.retry_at > now

    def probing(self, now: datetime) -> bool:
        """Opened after failures, pause over: the next send is the probe that closes or re-opens it."""
        return self.opened_at is not None and not self.paused(now)


@dataclass(frozen=True, slots=True)
class MissedDelivery:
    """A ``missed`` row not yet included in a summary to the coordinators."""

    id: int
    kind: DeliveryKind | UnknownKind
    topic_id: int | None
    announcement_id: int | None
    payload: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class MissedReminder:
    """One reminder of one occurrence that was missed; ``copies`` rows were recorded for it."""

    meeting_id: int
    start: datetime
    offset_minutes: int
    reason: str | None
    copies: int


@dataclass(frozen=True, slots=True)
class Tally:
    """Rows of one platform or kind by outcome. ``paused``: pending on a platform whose circuit is open."""

    queued: int = 0
    paused: int = 0
    sent: int = 0
    failed: int = 0
    retryable: int = 0
    skipped: int = 0
    missed: int = 0
    cancelled: int = 0

    @property
    def open(self) -> int:
        return self.queued + self.paused

    @property
    def ended(self) -> int:
        return self.sent + self.failed + self.skipped + self.missed + self.cancelled

    def add(self, count: DeliveryCount, paused: bool) -> Tally:
        n = count.count
        match count.status:
            case DeliveryStatus.PENDING if paused:
                return _plus(self, paused=n)
            case DeliveryStatus.PENDING | DeliveryStatus.SENDING:
                return _plus(self, queued=n)
            case DeliveryStatus.SENT:
                return _plus(self, sent=n)
            case DeliveryStatus.FAILED:
                return _plus(self, failed=n, retryable=count.retryable)
            case DeliveryStatus.SKIPPED:
                return _plus(self, skipped=n)
            case DeliveryStatus.MISSED:
                return _plus(self, missed=n)
            case DeliveryStatus.CANCELLED:
                return _plus(self, cancelled=n)
        return self  # pragma: no cover - every status is matched above


def _plus(tally: Tally, **more: int) -> Tally:
    return Tally(**{name: getattr(tally, name) + more.get(name, 0) for name in Tally.__dataclass_fields__})


def tally_by(counts: Iterable[DeliveryCount], key: Callable[[DeliveryCount], K],
             paused_platforms: frozenset[str]) -> dict[K, Tally]:
    """Sum ``counts`` per ``key`` (a platform, a kind); pending rows of a paused platform count as paused."""
    tallies: dict[K, Tally] = {}
    for count in counts:
        paused = count.platform is not None and count.platform in paused_platforms
        tallies[key(count)] = tallies.get(key(count), Tally()).add(count, paused)
    return tallies
