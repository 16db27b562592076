"""The SQLite implementation of :class:`bot.ports.Store`, built by the composition root.

One module per repository (``storage/grants.py``, ``storage/topics.py`` …); this one only gathers them. What
the adapters keep (Discord: ``storage/action_tokens.py``, ``send_attempts.py``, ``publishes.py``; Slack:
``storage/replays.py``) is not part of it: the root builds those ports and hands them to the adapter, never
this store.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from storage.announcements import SqliteAnnouncements
from storage.audit import SqliteAudit
from storage.channels import SqliteChannels
from storage.circuits import SqliteCircuits
from storage.database import Database
from storage.delivery_reports import SqliteDeliveryReports
from storage.digests import SqliteDigests
from storage.direct_channels import SqliteDirectChannels
from storage.email import SqliteEmail, SqliteEmailHealth
from storage.grants import SqliteGrants
from storage.leases import SqliteLeases
from storage.linking import SqliteLinks
from storage.meetings import SqliteMeetings
from storage.outbox import SqliteOutbox
from storage.people import SqlitePeople
from storage.requests import SqliteRequests
from storage.resources import SqliteResources
from storage.subscriptions import SqliteSubscriptions
from storage.topics import SqliteTopics


class SqliteStore:
    """The :class:`bot.ports.Store` over one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._people = SqlitePeople(db)
        self._topics = SqliteTopics(db)
        self._subscriptions = SqliteSubscriptions(db)
        self._grants = SqliteGrants(db)
        self._requests = SqliteRequests(db)
        self._audit = SqliteAudit(db)
        self._outbox = SqliteOutbox(db)
        self._announcements = SqliteAnnouncements(db)
        self._channels = SqliteChannels(db)
        self._digests = SqliteDigests(db)
        self._resources = SqliteResources(db)
        self._meetings = SqliteMeetings(db)
        self._circuits = SqliteCircuits(db)
        self._leases = SqliteLeases(db)
        self._delivery_reports = SqliteDeliveryReports(db)
        self._direct_channels = SqliteDirectChannels(db)
        self._email = SqliteEmail(db)
        self._email_health = SqliteEmailHealth(db)
        self._links = SqliteLinks(db)

    @property
    def people(self) -> SqlitePeople:
        return self._people

    @property
    def topics(self) -> SqliteTopics:
        return self._topics

    @property
    def subscriptions(self) -> SqliteSubscriptions:
        return self._subscriptions

    @property
    def grants(self) -> SqliteGrants:
        return self._grants

    @property
    def requests(self) -> SqliteRequests:
        return self._requests

    @property
    def audit(self) -> SqliteAudit:
        return self._audit

    @property
    def outbox(self) -> SqliteOutbox:
        return self._outbox

    @property
    def resources(self) -> SqliteResources:
        return self._resources

    @property
    def announcements(self) -> SqliteAnnouncements:
        return self._announcements

    @property
    def channels(self) -> SqliteChannels:
        return self._channels

    @property
    def digests(self) -> SqliteDigests:
        return self._digests

    @property
    def meetings(self) -> SqliteMeetings:
        return self._meetings

    @property
    def delivery_reports(self) -> SqliteDeliveryReports:
        return self._delivery_reports

    @property
    def direct_channels(self) -> SqliteDirectChannels:
        return self._direct_channels

    @property
    def circuits(self) -> SqliteCircuits:
        return self._circuits

    @property
    def leases(self) -> SqliteLeases:
        return self._leases

    @property
    def email(self) -> SqliteEmail:
        return self._email

    @property
    def email_health(self) -> SqliteEmailHealth:
        return self._email_health

    @property
    def links(self) -> SqliteLinks:
        return self._links

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self.db.transaction()
