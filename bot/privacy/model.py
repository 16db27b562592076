"""The values of a data export and of an erasure, and the export's JSON form.

The export is what a person can take away: every row that names them, read in one go, as frozen values the
chat summary and the JSON file are both built from, so the two never disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.i18n import _

SCHEMA = "coalition-bot/mydata"
SCHEMA_VERSION = 1
"""Raised whenever a key is renamed or removed (adding one keeps it): a reader of an older export can tell."""

FORMER_MEMBER = _("a former member")
"""How an erased author is named wherever an author's name is shown."""

FORMER_PERSON_ID = 0
"""The one ``people`` row every erased author's announcements and meetings are attributed to: they stay, their
author's id does not (ids start at 1, so it can never be a real person's). No identity ever joins it."""

ERASED_SUBJECT = "person:former"
"""What an older audit entry about an erased person says instead of ``person:<id>``."""


@dataclass(frozen=True, slots=True)
class IdentityData:
    platform: str
    external_id: str
    display_name: str
    platform_role: str
    platform_locale: str | None
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class GrantData:
    role: str
    topic: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionData:
    topic: str
    mode: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RequestData:
    id: int
    topic: str
    mode: str
    status: str
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class InvitationData:
    topic: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RsvpData:
    meeting_id: int
    meeting: str
    topic: str
    occurrence: str
    """The occurrence's original start (UTC, ISO-8601), or empty for every occurrence."""
    answer: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AuthoredData:
    """An announcement or meeting the person wrote (``kind``: ``announcement`` or ``meeting``)."""

    kind: str
    id: int
    topic: str
    state: str
    created_at: datetime
    send_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryData:
    """A message addressed to the person; what it said is not repeated (it was the sender's text)."""

    id: int
    kind: str
    status: str
    platform: str | None
    announcement_id: int | None
    topic: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class SignupData:
    """An email sign-up (a confirmation mail asked for): never its token, which is the link's secret.
    ``state``: ``confirmed``, ``waiting`` (for the link to be followed) or ``expired``."""

    address: str
    topic: str
    mode: str
    language: str
    zone: str
    state: str
    created_at: datetime
    expires_at: datetime
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class EmailKeyData:
    """That an address has a manage key and since when — never the key, which opens the manage page."""

    address: str
    created_at: datetime
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ResourceData:
    """A resource the person added to the library."""

    id: int
    title: str
    url: str
    topics: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DigestItemData:
    """An announcement waiting for the person's next daily or weekly digest."""

    announcement_id: int
    topic: str
    mode: str
    queued_at: datetime


@dataclass(frozen=True, slots=True)
class LinkCodeData:
    """A link code one of the person's accounts (on ``platform``) issued — never the code or its hash, which
    would let a reader of the file claim it; nor who typed it, who may be someone else. ``state``: ``issued``
    (not typed yet), ``proposed`` (typed, waiting for confirmation), ``used`` or ``expired``."""

    platform: str
    state: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LinkAttemptData:
    """A wrong link code one of the person's accounts (on ``platform``) typed: kept for the rate limits."""

    platform: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AuditData:
    """An audit entry the person made (``role`` ``actor``) or that is about them (``subject``)."""

    id: int
    role: str
    action: str
    subject: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PersonData:
    """Everything the bot holds about one person, each list oldest first."""

    person_id: int
    display_name: str
    timezone: str | None
    language: str | None
    platform_timezone: str | None
    preferred_platform: str | None
    organisation: str | None
    country: str | None
    created_at: datetime
    identities: tuple[IdentityData, ...]
    grants: tuple[GrantData, ...]
    subscriptions: tuple[SubscriptionData, ...]
    requests: tuple[RequestData, ...]
    invitations: tuple[InvitationData, ...]
    rsvps: tuple[RsvpData, ...]
    authored: tuple[AuthoredData, ...]
    deliveries: tuple[DeliveryData, ...]
    audit: tuple[AuditData, ...]
    signups: tuple[SignupData, ...] = ()
    email_keys: tuple[EmailKeyData, ...] = ()
    resources: tuple[ResourceData, ...] = ()
    digest_items: tuple[DigestItemData, ...] = ()
    link_codes: tuple[LinkCodeData, ...] = ()
    link_attempts: tuple[LinkAttemptData, ...] = ()

    def delivery_counts(self) -> dict[str, int]:
        """How many messages addressed to the person are in each status, by status."""
        counts: dict[str, int] = {}
        for delivery in self.deliveries:
            counts[delivery.status] = counts.get(delivery.status, 0) + 1
        return dict(sorted(counts.items()))


@dataclass(frozen=True, slots=True)
class Erasure:
    """What one erasure removed, in counts only: nothing here may name the person."""

    identities: int
    subscriptions: int
    deliveries: int
    kept_announcements: int


def iso(instant: datetime | None) -> str | None:
    """ISO-8601 in UTC with a ``Z``, to the second: the export's one spelling of a time."""
    if instant is None:
        return None
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_json(data: PersonData, generated_at: datetime) -> bytes:
    """The export as UTF-8 JSON with sorted keys (the same data gives the same bytes), times in UTC."""
    document = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(generated_at),
        "person": {"id": data.person_id, "display_name": data.display_name, "created_at": iso(data.created_at),
                   "settings": {"timezone": data.timezone, "language": data.language,
                                "platform_timezone": data.platform_timezone,
                                "preferred_platform": data.preferred_platform,
                                "organisation": data.organisation, "country": data.country}},
        "identities": [_plain(item) for item in data.identities],
        "grants": [_plain(item) for item in data.grants],
        "subscriptions": [_plain(item) for item in data.subscriptions],
        "subscription_requests": [_plain(item) for item in data.requests],
        "invitations": [_plain(item) for item in data.invitations],
        "rsvps": [_plain(item) for item in data.rsvps],
        "authored": [_plain(item) for item in data.authored],
        "deliveries": {"counts": data.delivery_counts(), "items": [_plain(item) for item in data.deliveries]},
        "audit": [_plain(item) for item in data.audit],
        "email_signups": [_plain(item) for item in data.signups],
        "email_manage_keys": [_plain(item) for item in data.email_keys],
        "resources_added": [_plain(item) for item in data.resources],
        "digest_queue": [_plain(item) for item in data.digest_items],
        "link_codes": [_plain(item) for item in data.link_codes],
        "link_code_attempts": [_plain(item) for item in data.link_attempts],
    }
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def _plain(value: Any) -> dict[str, Any]:
    return {name: iso(field) if isinstance(field, datetime) else list(field) if isinstance(field, tuple) else field
            for name in value.__slots__ for field in (getattr(value, name),)}
