"""The small interfaces the core needs from the outside world: platform adapters and the store.

Implementations live elsewhere (``storage/`` for the store, ``adapters/`` for platforms) and are wired in
by the composition root; the core only ever sees these protocols. A feature's own stores live with it
(``bot/announcements/store.py``, ``bot/meetings/store.py``, people and grants in ``bot/people/store.py``, the
audit log in :mod:`bot.audit`), and the errors a send raises in :mod:`bot.delivery.errors`; this module keeps only
the platform ports and :class:`Store`, which gathers every store.

What a store method raises. Each store method's docstring says what it returns and what it raises of its own;
unless it says so (``ResourceStore.update``), none raises for a row that does not exist: a read gives ``None`` or
an empty result, a write changes nothing.
Beyond that, any store method may raise what the database itself raises when it fails (a full disk, a connection
closed, a lock held too long: ``sqlite3.Error`` or ``psycopg.Error`` from ``storage/``), or when a write names an
id that does not exist (a foreign key: the same error, as an integrity error), and ``ValueError`` for a naive
``datetime``. No feature catches those: the enclosing :meth:`Store.transaction` rolls back, and the error reaches
the dispatcher (the person is told something went wrong and nothing changed) or the delivery loop (which logs it
and tries again). Callers pass ids they have just read.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from bot.announcements.store import AnnouncementStore
from bot.audit import AuditStore
from bot.channels.store import ChannelStore
from bot.delivery.direct_store import DirectChannelStore
from bot.delivery.model import SentMessage
from bot.delivery.stores import CircuitStore, DeliveryReportStore, LeaseStore, OutboxStore
from bot.email.store import EmailHealthStore, EmailStore
from bot.i18n import Msg
from bot.linking.store import LinkStore
from bot.meetings.store import MeetingStore
from bot.messages import RenderedMessage
from bot.model import Identity, IdentityRecord, Role
from bot.people.store import GrantStore, PeopleStore
from bot.resources.store import ResourceStore
from bot.subscriptions.store import DigestStore, RequestStore, SubscriptionStore
from bot.topics.store import TopicStore

# --- platform adapters -----------------------------------------------------------------------------


class PlatformAdapter(Protocol):
    """What the delivery worker needs from a platform. A send that fails raises a
    :class:`~bot.delivery.errors.DeliveryError`: transient (retry later) or permanent (give up)."""

    @property
    def platform(self) -> str: ...

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        """DM ``recipient``. ``delivery_key`` is stable across retries, for platform-side de-duplication.
        Returns where every part landed. Raises :class:`~bot.delivery.errors.TransientDeliveryError` (rate limit,
        5xx, network) or :class:`~bot.delivery.errors.PermanentDeliveryError` (user gone, DMs closed)."""
        ...

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        """Post to ``channel_id``; ``delivery_key`` as for :meth:`send_direct`. Returns where every part landed.
        Raises :class:`~bot.delivery.errors.TransientDeliveryError` or
        :class:`~bot.delivery.errors.PermanentDeliveryError` (channel deleted, no access)."""
        ...

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
        """Replace what ``sent`` shows with ``message`` (parts no longer needed are deleted, new ones posted
        after). Returns nothing. Raises :class:`~bot.delivery.errors.TransientDeliveryError` or
        :class:`~bot.delivery.errors.PermanentDeliveryError` (the message or channel is gone)."""
        ...

    async def delete(self, sent: SentMessage) -> None:
        """Delete every part of ``sent``; a part already gone is no error. Returns nothing. Raises
        :class:`~bot.delivery.errors.TransientDeliveryError` or :class:`~bot.delivery.errors.PermanentDeliveryError`."""
        ...


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

    async def channel_is_public(self, channel_id: str) -> bool | None:
        """Returns ``True`` (outsiders may read it), ``False`` (only members), or ``None`` (cannot tell). Raises
        :class:`~bot.errors.UserError` with a translated reason when the adapter knows why it cannot tell (a
        missing permission or scope, an unknown channel)."""
        ...


@runtime_checkable
class ChannelPreparer(Protocol):
    """Adapters that can check a channel and make it read-only for everyone but the bot implement this.

    Each method raises :class:`UserError` when the channel cannot serve (wrong type, no access) and returns
    a note on what it changed.
    """

    async def prepare_public_channel(self, channel_id: str) -> Msg:
        """Make ``channel_id`` fit to be the public feed. Returns a translated note on what it changed. Raises
        :class:`~bot.errors.UserError` when the channel cannot serve (wrong type, no access)."""
        ...

    async def prepare_topic_channel(self, channel_id: str) -> Msg:
        """Make ``channel_id`` fit to be a topic's channel. Returns a translated note on what it changed. Raises
        :class:`~bot.errors.UserError` when the channel cannot serve (wrong type, no access)."""
        ...


@runtime_checkable
class PlatformRoles(Protocol):
    """Adapters that can say what role the platform gives someone *now* implement this, so a delivery to a
    members-only topic is re-checked against the platform, not only against what it said at last contact, and so is
    a role a linked person would get through this platform's identity while calling through another platform's
    (:mod:`bot.people.roles`)."""

    async def current_role(self, external_id: str) -> Role | None:
        """Returns the platform role now (adapters cache briefly), or ``None`` when the platform cannot tell (an
        error asking it included). Raises nothing of its own."""
        ...


@runtime_checkable
class InFlightAware(Protocol):
    """Adapters that can look on the platform for a message an interrupted attempt may have posted.

    Before it retries a row whose earlier attempt may have landed (left ``sending`` by a crash, or failed with
    ``may_have_landed``), the worker hands its delivery key to the adapter of the platform it sends through;
    the adapter then reads the conversation back before posting, and records what it finds instead of posting
    it twice.
    """

    def expect_in_flight(self, delivery_keys: Iterable[str]) -> None:
        """Remember ``delivery_keys`` so their next send reads the conversation back first. Returns nothing;
        raises nothing (it only records the keys)."""
        ...


@runtime_checkable
class DirectChannelOpener(Protocol):
    """Adapters whose DMs go through a channel that must be opened first (Discord, Slack) implement this, so the
    channel can be opened when someone subscribes or before an announcement is due, not in the middle of a
    fan-out (where opening costs a request, or a call limited per minute, per recipient)."""

    async def open_direct(self, identity: Identity) -> str:
        """Open (or find) the DM channel with ``identity``, taking the adapter's own pace. Returns the channel
        id; it does not store it. Raises :class:`~bot.delivery.errors.TransientDeliveryError` (rate limit, with
        ``route`` when only opening DMs is limited; 5xx; network) or
        :class:`~bot.delivery.errors.PermanentDeliveryError` (``dm_closed`` when the person accepts no DMs from
        the bot; the person is gone)."""
        ...


# --- storage ---------------------------------------------------------------------------------------


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
    @property
    def direct_channels(self) -> DirectChannelStore: ...
    @property
    def email(self) -> EmailStore: ...
    @property
    def email_health(self) -> EmailHealthStore: ...
    @property
    def links(self) -> LinkStore: ...

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Returns a context manager: writes inside the block commit together when it ends, or none does when it
        raises (the exception goes on); a nested block joins the outer one. Raises nothing of its own."""
        ...
