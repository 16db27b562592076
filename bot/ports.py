"""The small interfaces the core needs from the outside world: platform adapters and the store.

Implementations live elsewhere (``storage/`` for the store, ``adapters/`` for platforms) and are wired in
by the composition root; the core only ever sees these protocols. A feature's own stores live with it
(``bot/announcements/store.py``, ``bot/meetings/store.py`` …); this module keeps the platform ports, the
delivery errors, the stores every feature shares (people, grants, the audit log) and :class:`Store`, which
gathers them all.

What a store method raises. Each store method's docstring says what it returns and what it raises of its own;
unless it says so (``ResourceStore.update``), none raises for a row that does not exist: a read gives ``None`` or
an empty result, a write changes nothing.
Beyond that, any store method may raise what the database itself raises when it fails (a full disk, a
connection closed, a lock held too long: ``sqlite3.Error`` from ``storage/``), or when a write names an id that
does not exist (a foreign key: the same error, as an integrity error), and ``ValueError`` for a naive
``datetime``. No feature catches those: the enclosing :meth:`Store.transaction` rolls back, and the error reaches
the dispatcher (the person is told something went wrong and nothing changed) or the delivery loop (which logs it
and tries again). Callers pass ids they have just read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.announcements.store import AnnouncementStore
from bot.channels.store import ChannelStore
from bot.delivery.model import SentMessage
from bot.delivery.stores import CircuitStore, DeliveryReportStore, LeaseStore, OutboxStore
from bot.i18n import Msg
from bot.meetings.store import MeetingStore
from bot.messages import RenderedMessage
from bot.model import AuditEntry, Grant, Identity, IdentityRecord, Person, Role
from bot.resources.store import ResourceStore
from bot.subscriptions.store import DigestStore, RequestStore, SubscriptionStore
from bot.topics.store import TopicStore

# --- platform adapters -----------------------------------------------------------------------------


class DeliveryError(Exception):
    """Base of the errors an adapter raises from a send."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying later (rate limit, 5xx, network); ``retry_after`` in seconds when the platform said.

    ``may_have_landed``: the platform may have stored the message before the failure (a 5xx, a dropped
    connection), so the retry must first look for it (:class:`InFlightAware`) instead of posting again. The
    worker keeps that in the row, so a restart does not forget it. ``rate_limited``: the platform asked us to
    slow down — it pauses that platform's queue, it is not a sign the platform is down. ``route``: with
    ``rate_limited``, the limit applies to this route only (opening DMs, one channel) — the adapter refuses
    further calls to it until it lifts, the worker defers just the row and the rest of the platform goes on.
    """

    def __init__(self, reason: Msg, retry_after: float | None = None, *, may_have_landed: bool = False,
                 rate_limited: bool = False, route: str | None = None) -> None:
        super().__init__(reason if isinstance(reason, str) else reason.msgid)
        self.reason = reason
        self.retry_after = retry_after
        self.may_have_landed = may_have_landed
        self.rate_limited = rate_limited
        self.route = route
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
    """Adapters that can tell whether everyone can read a channel implement this.

    ``channel_is_public`` answers ``True`` when anyone outside the coalition's members may read the channel
    (everyone in the server or workspace, guests, another organisation through a shared channel), ``False``
    when only members can, and ``None`` when the platform could not tell. The core fails closed: ``None``
    refuses the change as a public channel would (a members-only topic is never bound to, nor made private
    while posting to, a channel nobody vouched for). An adapter that knows *why* it cannot tell (a missing
    permission or scope, an unknown channel) raises :class:`UserError` with a translated reason naming it
    instead, so the admin can fix it. An adapter whose channels no outsider can read (the console) does not
    implement this protocol at all.
    """

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

    Before it retries a row whose earlier attempt may have landed (left ``sending`` by a crash, or failed with
    ``may_have_landed``), the worker hands its delivery key to the adapter of the platform it sends through;
    the adapter then reads the conversation back before posting, and records what it finds instead of posting
    it twice.
    """

    def expect_in_flight(self, delivery_keys: Iterable[str]) -> None: ...


# --- storage ---------------------------------------------------------------------------------------


class PeopleStore(Protocol):
    """People and their platform identities (one person may be known on several platforms)."""

    async def ensure_identity(self, identity: Identity, display_name: str, now: datetime) -> IdentityRecord:
        """The identity's record, creating it and a new person on first contact. Raises nothing of its own."""
        ...

    async def touch_identity(self, identity: Identity, display_name: str, platform_role: Role,
                             platform_timezone: str | None, now: datetime) -> None:
        """Record contact: refreshes name, platform role and zone (kept when ``None``), and reopens DMs marked
        closed. An unknown identity changes nothing; raises nothing of its own."""
        ...

    async def get(self, person_id: int) -> Person | None:
        """The person, or ``None`` for an unknown id. Raises nothing of its own."""
        ...

    async def identity(self, identity: Identity) -> IdentityRecord | None:
        """The identity's record, or ``None`` when it never made contact. Raises nothing of its own."""
        ...

    async def identities_of(self, person_id: int) -> list[IdentityRecord]:
        """The person's identities by platform and id; [] for an unknown person. Raises nothing of its own."""
        ...

    async def find_by_name(self, name: str) -> list[Person]:
        """People whose name or an identity's name (case-insensitive) or external id is exactly ``name``, by
        id; [] when none. Raises nothing of its own."""
        ...

    async def set_timezone(self, person_id: int, timezone: str | None) -> None:
        """Set the zone the person chose (``None``: back to the platform's). The caller validated it; an
        unknown person changes nothing. Raises nothing of its own."""
        ...

    async def set_language(self, person_id: int, language: str | None) -> None:
        """Set the person's language (``None``: the coalition's). An unknown person changes nothing; raises
        nothing of its own."""
        ...

    async def set_dm_closed(self, identity: Identity, reason: str | None) -> None:
        """Mark the identity's DMs closed with ``reason`` (``None``: open again). An unknown identity changes
        nothing; raises nothing of its own."""
        ...

    async def set_platform_role(self, identity: Identity, role: Role) -> None:
        """Record the role the platform gives the identity now. An unknown identity changes nothing; raises
        nothing of its own."""
        ...

    async def set_dm_channel(self, identity: Identity, channel_id: str) -> None:
        """Remember the identity's DM channel. An unknown identity changes nothing; raises nothing of its own."""
        ...

    async def count(self) -> int:
        """How many people are known. Raises nothing of its own."""
        ...


class GrantStore(Protocol):
    """Roles granted in the bot (``bot.model.Grant``), coalition-wide or for one topic."""

    async def of_person(self, person_id: int) -> list[Grant]:
        """The person's grants, oldest first; [] for none. Raises nothing of its own."""
        ...

    async def add(self, person_id: int, role: Role, topic_id: int | None, granted_by: int | None,
                  now: datetime) -> bool:
        """Grant ``role`` (for ``topic_id``, or all topics with ``None``); False when the grant existed
        already. Raises nothing of its own."""
        ...

    async def remove(self, person_id: int, role: Role, topic_id: int | None) -> bool:
        """Withdraw exactly that grant; False when there was none. Raises nothing of its own."""
        ...

    async def coordinators_of(self, topic_id: int) -> list[int]:
        """People with a coordinator grant for this topic or for all topics, by id. Raises nothing of its
        own."""
        ...

    async def admins(self, identities: Sequence[Identity]) -> list[int]:
        """People with an admin grant, plus the people behind ``identities`` (admins named in settings) that
        made contact, by id. Raises nothing of its own."""
        ...


class AuditStore(Protocol):
    """The audit log: who changed what, with the value before and after. Append only."""

    async def record(self, actor_id: int | None, action: str, subject: str, before: str | None,
                     after: str | None, now: datetime) -> None:
        """Append one entry (``actor_id`` ``None``: the bot itself). Raises nothing of its own."""
        ...

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """The newest ``limit`` entries, newest first. Raises nothing of its own."""
        ...


class Store(Protocol):
    """Everything the core keeps, one repository per property (reading one never fails). ``transaction()``
    groups writes so an error changes nothing."""

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
    def channels(self) -> ChannelStore: ...
    @property
    def digests(self) -> DigestStore: ...
    @property
    def resources(self) -> ResourceStore: ...
    @property
    def meetings(self) -> MeetingStore: ...
    @property
    def circuits(self) -> CircuitStore: ...
    @property
    def leases(self) -> LeaseStore: ...
    @property
    def delivery_reports(self) -> DeliveryReportStore: ...

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Writes inside the block commit together when it ends, or none does when it raises (the exception
        goes on); a nested block joins the outer one. Raises nothing of its own."""
        ...
