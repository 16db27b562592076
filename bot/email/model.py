"""The values email followers and the web pages exchange: frozen, typed, with no address ever in a log line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.subscriptions.model import DeliveryMode

PLATFORM = "email"
"""The platform name of an email identity (``Identity("email", address)``)."""

EMAIL_MODES = (DeliveryMode.IMMEDIATE, DeliveryMode.DAILY, DeliveryMode.WEEKLY)
"""What a follower by email may choose: a mail has no channel to follow instead."""


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """Limits and expiry of the subscribe form; the composition root may tighten them, tests shorten them."""

    confirm_expiry: timedelta = timedelta(hours=48)
    """How long a confirmation link works after it was asked for."""
    address_interval: timedelta = timedelta(minutes=10)
    """At most one confirmation mail per address in this long…"""
    address_daily: int = 5
    """…and at most this many per address in a day, so the form cannot mail-bomb anyone."""
    client_hourly: int = 20
    """At most this many requests per client (remote address) in an hour, whatever addresses it names."""
    site_hourly: int = 200
    """At most this many confirmation mails from the whole site in an hour: many clients (a botnet, an IPv6
    range) must not turn the form into a mailer either."""
    pause_after: int = 3
    """Consecutive permanent refusals after which mail to an address pauses."""


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What the confirm page shows: enough to recognise the request, never the whole address."""

    topic_slug: str
    topic_title: str
    address: str
    """Masked (``a•••@example.org``): the link may have been forwarded."""
    mode: DeliveryMode
    awaiting_approval: bool = False
    """After :meth:`~bot.email.service.EmailFollowers.confirm`: the topic needs a coordinator's approval, so a
    request was sent instead (the follower is told the answer by mail)."""
    key: str | None = None
    """After :meth:`~bot.email.service.EmailFollowers.confirm`: the follower's manage-page key, so the page that
    says "done" can link to where it is changed or stopped."""


@dataclass(frozen=True, slots=True)
class FollowedTopic:
    """A topic on the manage page: followed with ``mode``, or offered (``mode`` is ``None``)."""

    slug: str
    title: str
    mode: DeliveryMode | None


@dataclass(frozen=True, slots=True)
class ManageView:
    """Everything the manage page shows for one address (reached through its key, so shown in full)."""

    address: str
    language: str
    zone: str
    followed: tuple[FollowedTopic, ...]
    """By slug; topics followed, each with its mode."""
    available: tuple[FollowedTopic, ...]
    """By slug; public topics not followed (``mode`` ``None``)."""
    paused: bool
    """Mail to the address is paused after repeated refusals; ``update(resume=True)`` resumes it."""


@dataclass(frozen=True, slots=True)
class Signup:
    """One confirmation asked for: stored until confirmed, expired, or pruned."""

    id: int
    person_id: int
    address: str
    topic_id: int
    mode: DeliveryMode
    language: str
    zone: str
    token: str
    created_at: datetime
    expires_at: datetime
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class EmailKey:
    """The key of an email identity's manage and unsubscribe links."""

    person_id: int
    address: str
    key: str
