"""Value objects of the core: roles, topics, people, subscriptions. Frozen, typed, platform-free."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from bot.i18n import Text, _


class Role(IntEnum):
    """Roles are ordered: a higher role can do everything a lower one can."""

    OUTSIDER = 0
    MEMBER = 1
    COORDINATOR = 2
    ADMIN = 3

    @property
    def label(self) -> Text:
        return ROLE_LABELS[self]

    @classmethod
    def parse(cls, value: str) -> Role:
        """Raises ``KeyError`` for a name that is no role."""
        return cls[value.strip().upper()]


ROLE_LABELS: dict[Role, Text] = {
    Role.OUTSIDER: _("outsider"),
    Role.MEMBER: _("member"),
    Role.COORDINATOR: _("coordinator"),
    Role.ADMIN: _("admin"),
}


class Visibility(StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"
    PRIVATE = "private"


class Policy(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"


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


@dataclass(frozen=True, slots=True)
class Identity:
    """One account on one platform, e.g. ``slack:U123`` or ``console:demo-admin``."""

    platform: str
    external_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"

    @classmethod
    def parse(cls, value: str) -> Identity:
        """Parse ``platform:id``; raises ``ValueError`` when there is no colon or an empty part."""
        platform, sep, external_id = value.strip().partition(":")
        if not sep or not platform or not external_id:
            raise ValueError(f"not an identity: {value!r}")
        return cls(platform.lower(), external_id)


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    display_name: str
    timezone: str | None
    language: str | None
    platform_timezone: str | None
    organisation: str | None
    country: str | None
    preferred_platform: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    identity: Identity
    person_id: int
    display_name: str
    platform_role: Role
    dm_closed_reason: str | None
    dm_channel_id: str | None


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    slug: str
    title: str
    description: str
    visibility: Visibility
    policy: Policy
    archived: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    person_id: int
    topic_id: int
    mode: DeliveryMode
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Grant:
    person_id: int
    role: Role
    topic_id: int | None
    granted_by: int | None
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
class AuditEntry:
    id: int
    actor_id: int | None
    action: str
    subject: str
    before: str | None
    after: str | None
    at: datetime


class AnnouncementState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Announcement:
    id: int
    topic_id: int
    author_id: int
    text: str
    state: AnnouncementState
    send_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    edited_at: datetime | None
    revision: int


@dataclass(frozen=True, slots=True)
class ChannelBinding:
    platform: str
    channel_id: str
