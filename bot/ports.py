"""The small interfaces the core needs from the outside world: a clock, the store, and platform adapters.

Implementations live elsewhere (``storage/`` for the store, ``adapters/`` for platforms) and are wired in
by the composition root; the core only ever sees these protocols.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.i18n import Msg
from bot.meeting_model import Answer, Meeting, MeetingState, NewMeeting, Occurrence, OccurrenceState, Rsvp
from bot.messages import RenderedMessage
from bot.model import (
    Announcement,
    AnnouncementState,
    AuditEntry,
    ChannelBinding,
    DeliveryMode,
    Grant,
    Identity,
    IdentityRecord,
    Person,
    Policy,
    RequestStatus,
    Role,
    Subscription,
    SubscriptionRequest,
    Topic,
    Visibility,
)
from bot.resource_model import Resource, ResourceFields, ResourceFilter, ResourcePage, ResourceScope
from bot.resource_terms import TermIndex


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# --- platform adapters -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Where a delivered message landed; every part of a split message keeps its id."""

    platform: str
    channel_id: str
    message_ids: tuple[str, ...]


class DeliveryError(Exception):
    """Base of the errors an adapter raises from a send."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying later (rate limit, 5xx, network); ``retry_after`` in seconds when the platform said."""

    def __init__(self, reason: Msg, retry_after: float | None = None) -> None:
        super().__init__(reason if isinstance(reason, str) else reason.msgid)
        self.reason = reason
        self.retry_after = retry_after
        self.platform: str | None = None  # filled in by the worker: whose pacing to slow down


class PermanentDeliveryError(DeliveryError):
    """Will never succeed as is (user gone, DMs closed, channel deleted). ``dm_closed`` marks the identity."""

    def __init__(self, reason: Msg, *, dm_closed: bool = False) -> None:
        super().__init__(reason if isinstance(reason, str) else reason.msgid)
        self.reason = reason
        self.dm_closed = dm_closed


class PlatformAdapter(Protocol):
    """What the delivery worker needs from a platform. Each method raises :class:`DeliveryError`."""

    @property
    def platform(self) -> str: ...

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        """DM ``recipient``. ``delivery_key`` is stable across retries, for platform-side de-duplication."""
        ...

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        ...

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None: ...

    async def delete(self, sent: SentMessage) -> None: ...


@runtime_checkable
class ChannelInspector(Protocol):
    """Adapters that can tell whether everyone can read a channel implement this."""

    async def channel_is_public(self, channel_id: str) -> bool | None: ...


@runtime_checkable
class ChannelPreparer(Protocol):
    """Adapters that can check a channel and make it read-only for everyone but the bot implement this.

    Each method raises :class:`UserError` when the channel cannot serve (wrong type, no access) and returns
    a note on what it changed.
    """

    async def prepare_public_channel(self, channel_id: str) -> Msg: ...

    async def prepare_topic_channel(self, channel_id: str) -> Msg: ...


@runtime_checkable
class PlatformRoles(Protocol):
    """Adapters that can say what role the platform gives someone *now* implement this, so a delivery to a
    members-only topic is re-checked against the platform, not only against what it said at last contact."""

    async def current_role(self, external_id: str) -> Role | None:
        """The platform role now (adapters cache briefly); ``None`` when the platform cannot tell."""
        ...


@runtime_checkable
class InFlightAware(Protocol):
    """Adapters that can look on the platform for a message an interrupted attempt may have posted.

    At start, before rows left ``sending`` by a crash are retried, the worker hands their delivery keys to
    every adapter implementing this.
    """

    def expect_in_flight(self, delivery_keys: Iterable[str]) -> None: ...


# --- storage ---------------------------------------------------------------------------------------


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


class PeopleStore(Protocol):
    async def ensure_identity(self, identity: Identity, display_name: str, now: datetime) -> IdentityRecord:
        """The identity's record, creating a person for a first contact."""
        ...

    async def touch_identity(self, identity: Identity, display_name: str, platform_role: Role,
                             platform_timezone: str | None, now: datetime) -> None:
        """Record contact: refreshes name, platform role and zone, and reopens DMs marked closed."""
        ...

    async def get(self, person_id: int) -> Person | None: ...
    async def identity(self, identity: Identity) -> IdentityRecord | None: ...
    async def identities_of(self, person_id: int) -> list[IdentityRecord]: ...
    async def find_by_name(self, name: str) -> list[Person]: ...
    async def set_timezone(self, person_id: int, timezone: str | None) -> None: ...
    async def set_language(self, person_id: int, language: str | None) -> None: ...
    async def set_dm_closed(self, identity: Identity, reason: str | None) -> None: ...
    async def set_platform_role(self, identity: Identity, role: Role) -> None: ...
    async def set_dm_channel(self, identity: Identity, channel_id: str) -> None: ...
    async def count(self) -> int: ...


class TopicStore(Protocol):
    async def create(self, slug: str, title: str, description: str, visibility: Visibility, policy: Policy,
                     now: datetime) -> Topic: ...
    async def by_slug(self, slug: str) -> Topic | None: ...
    async def get(self, topic_id: int) -> Topic | None: ...
    async def all(self, *, include_archived: bool = False) -> list[Topic]: ...
    async def update(self, topic: Topic) -> None: ...


class SubscriptionStore(Protocol):
    async def get(self, person_id: int, topic_id: int) -> Subscription | None: ...
    async def put(self, person_id: int, topic_id: int, mode: DeliveryMode, now: datetime) -> None: ...
    async def remove(self, person_id: int, topic_id: int) -> bool: ...
    async def of_person(self, person_id: int) -> list[Subscription]: ...
    async def of_topic(self, topic_id: int) -> list[Subscription]: ...
    async def add_invitation(self, person_id: int, topic_id: int, invited_by: int, now: datetime) -> bool: ...
    async def is_invited(self, person_id: int, topic_id: int) -> bool: ...
    async def remove_invitation(self, person_id: int, topic_id: int) -> bool: ...


class GrantStore(Protocol):
    async def of_person(self, person_id: int) -> list[Grant]: ...
    async def add(self, person_id: int, role: Role, topic_id: int | None, granted_by: int | None,
                  now: datetime) -> bool:
        """False when the grant existed already."""
        ...

    async def remove(self, person_id: int, role: Role, topic_id: int | None) -> bool: ...
    async def coordinators_of(self, topic_id: int) -> list[int]:
        """People with a coordinator grant for this topic or for all topics."""
        ...

    async def admins(self, identities: Sequence[Identity]) -> list[int]:
        """People with an admin grant, plus the people behind ``identities`` (admins named in settings)."""
        ...


class RequestStore(Protocol):
    async def create(self, person_id: int, topic_id: int, mode: DeliveryMode, now: datetime,
                     expires_at: datetime) -> SubscriptionRequest: ...
    async def get(self, request_id: int) -> SubscriptionRequest | None: ...
    async def pending_for(self, person_id: int, topic_id: int) -> SubscriptionRequest | None: ...
    async def pending(self, topic_ids: Sequence[int] | None) -> list[SubscriptionRequest]:
        """Pending requests for these topics (``None``: all topics), oldest first."""
        ...

    async def decide(self, request_id: int, status: RequestStatus, decided_by: int | None,
                     now: datetime) -> bool:
        """Move a pending request to ``status``; False when it was no longer pending."""
        ...

    async def expire_due(self, now: datetime) -> list[SubscriptionRequest]: ...


class AuditStore(Protocol):
    async def record(self, actor_id: int | None, action: str, subject: str, before: str | None,
                     after: str | None, now: datetime) -> None: ...
    async def recent(self, limit: int = 50) -> list[AuditEntry]: ...


class OutboxStore(Protocol):
    async def enqueue(self, deliveries: Sequence[NewDelivery], now: datetime) -> int:
        """Insert rows, ignoring keys already queued; returns how many were new."""
        ...

    async def claim_due(self, now: datetime, limit: int) -> list[Delivery]:
        """Atomically move due pending rows to ``sending`` and return them."""
        ...

    async def mark_sent(self, delivery_id: int, sent: SentMessage, now: datetime) -> None: ...
    async def mark_final(self, delivery_id: int, status: DeliveryStatus, reason: str, now: datetime) -> None: ...
    async def retry_later(self, delivery_id: int, not_before: datetime, reason: str) -> None: ...
    async def release(self, delivery_ids: Sequence[int]) -> None:
        """Give claimed rows back unsent (a graceful stop), without counting an attempt."""
        ...

    async def in_flight(self) -> list[Delivery]:
        """Rows in ``sending``: at start, those a crash interrupted."""
        ...

    async def recover_in_flight(self) -> int:
        """Rows left in ``sending`` by a crash go back to ``pending``; returns how many."""
        ...

    async def next_due(self) -> datetime | None: ...
    async def get(self, delivery_id: int) -> Delivery | None: ...
    async def by_kind(self, kind: str) -> list[Delivery]: ...


class ResourceStore(Protocol):
    """The resource library. Reads that serve a person take a :class:`ResourceScope` and apply it in the
    query itself; ``None`` means no restriction (import, demo data)."""

    async def add(self, fields: ResourceFields, added_by: int | None, now: datetime) -> Resource: ...
    async def update(self, resource_id: int, fields: ResourceFields, now: datetime) -> Resource:
        """Replace every field; raises ``LookupError`` when the resource does not exist."""
        ...

    async def remove(self, resource_id: int) -> bool: ...
    async def get(self, resource_id: int, scope: ResourceScope | None) -> Resource | None: ...
    async def by_url_key(self, url_key: str) -> Resource | None: ...
    async def search(self, match: str, scope: ResourceScope | None, filters: ResourceFilter, *, limit: int,
                     offset: int = 0, window: int | None = None) -> ResourcePage:
        """Best first for an FTS5 expression built from quoted tokens (never raw user input); with
        ``window``, ranks only the newest ``window`` matches."""
        ...

    async def browse(self, scope: ResourceScope | None, filters: ResourceFilter, *, limit: int,
                     offset: int = 0) -> ResourcePage: ...
    async def count_by_topic(self, scope: ResourceScope | None) -> dict[int, int]: ...
    async def terms(self) -> TermIndex:
        """How many resources hold each indexed word; current with every committed write. Read only."""
        ...


class AnnouncementStore(Protocol):
    async def create(self, topic_id: int, author_id: int, text: str, send_at: datetime | None,
                     now: datetime) -> Announcement: ...
    async def get(self, announcement_id: int) -> Announcement | None: ...
    async def recent(self, topic_ids: Sequence[int] | None, limit: int = 20) -> list[Announcement]: ...
    async def transition(self, announcement_id: int, to: AnnouncementState, expected: Sequence[AnnouncementState],
                         now: datetime) -> bool:
        """Move to ``to`` only from one of ``expected``; False when another path got there first."""
        ...

    async def update_text(self, announcement_id: int, text: str, now: datetime) -> None: ...
    async def set_send_at(self, announcement_id: int, send_at: datetime | None) -> None: ...
    async def due(self, now: datetime) -> list[Announcement]: ...
    async def in_state(self, state: AnnouncementState) -> list[Announcement]: ...
    async def next_scheduled(self) -> datetime | None: ...
    async def bind_channel(self, purpose: str, topic_id: int | None, platform: str, channel_id: str,
                           now: datetime) -> None: ...
    async def channels(self, purpose: str, topic_id: int | None) -> list[ChannelBinding]: ...
    async def queue_digest(self, rows: Sequence[tuple[int, int, DeliveryMode]], now: datetime) -> None: ...
    async def pending_digests(self) -> list[tuple[int, DeliveryMode, datetime]]: ...
    async def digest_items(self, person_id: int, mode: DeliveryMode, before: datetime) -> list[int]: ...
    async def mark_digested(self, person_id: int, announcement_ids: Sequence[int], key: str) -> None: ...
    async def digest_counts(self, announcement_id: int) -> tuple[int, int]: ...
    async def drop_undigested(self, announcement_id: int) -> int: ...
    async def deliveries(self, announcement_id: int, kind: str = "announcement") -> list[Delivery]: ...
    async def cancel_pending(self, announcement_id: int, reason: str, now: datetime) -> int: ...
    async def open_deliveries(self, announcement_id: int) -> int: ...
    async def audience_counts(self, topic_id: int) -> list[tuple[DeliveryMode, str, int]]: ...


class MeetingStore(Protocol):
    """Meeting series, their materialised occurrences (UTC instants), RSVPs and processed reminders."""

    async def create(self, new: NewMeeting, now: datetime) -> Meeting: ...
    async def get(self, meeting_id: int) -> Meeting | None: ...
    async def active(self, topic_ids: Sequence[int] | None = None) -> list[Meeting]: ...
    async def needing_materialisation(self, horizon: datetime) -> list[Meeting]: ...
    async def set_state(self, meeting_id: int, state: MeetingState, now: datetime) -> None: ...
    async def for_calendar(self, topic_id: int, cancelled_since: datetime) -> list[Meeting]:
        """A topic's active series, and those cancelled since ``cancelled_since``."""
        ...

    async def set_start(self, meeting_id: int, start_local: datetime) -> None: ...
    async def materialise(self, meeting_id: int, starts: Sequence[datetime], until: datetime) -> None:
        """Add series occurrences; existing ones keep their cancelled/moved state."""
        ...

    async def drop_future(self, meeting_id: int, after: datetime) -> int: ...
    async def occurrences(self, meeting_id: int, after: datetime | None = None,
                          limit: int = 1000) -> list[Occurrence]: ...
    async def upcoming(self, after: datetime, before: datetime,
                       topic_ids: Sequence[int] | None = None) -> list[tuple[Meeting, Occurrence]]: ...
    async def set_occurrence(self, meeting_id: int, original_start: datetime, start: datetime,
                             state: OccurrenceState) -> None: ...
    async def next_wakes(self, now: datetime, horizon: datetime,
                         meeting_id: int | None = None) -> list[tuple[int, tuple[int, ...], datetime]]: ...
    async def put_rsvp(self, meeting_id: int, person_id: int, occurrence: datetime | None, answer: Answer,
                       now: datetime) -> None: ...
    async def rsvps(self, meeting_id: int) -> list[Rsvp]: ...
    async def record_reminder(self, occurrence: Occurrence, offset_minutes: int, outcome: str,
                              now: datetime) -> bool:
        """Claim one reminder; False when it was processed before."""
        ...

    async def processed_since(self, since: datetime) -> set[tuple[int, datetime, datetime, int]]: ...
    async def processed_reminders(self, meeting_id: int) -> list[tuple[datetime, int, str]]: ...
    async def record_skipped_delivery(self, dedupe_key: str, person_id: int, topic_id: int, payload: str,
                                      reason: str, now: datetime) -> None: ...


class Store(Protocol):
    """Everything the core keeps. ``transaction()`` groups writes so an error changes nothing."""

    @property
    def people(self) -> PeopleStore: ...
    @property
    def topics(self) -> TopicStore: ...
    @property
    def subscriptions(self) -> SubscriptionStore: ...
    @property
    def grants(self) -> GrantStore: ...
    @property
    def requests(self) -> RequestStore: ...
    @property
    def audit(self) -> AuditStore: ...
    @property
    def outbox(self) -> OutboxStore: ...
    @property
    def announcements(self) -> AnnouncementStore: ...
    @property
    def resources(self) -> ResourceStore: ...
    @property
    def meetings(self) -> MeetingStore: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...
