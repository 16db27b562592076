"""The services the composition root built, in one place for the root itself, the CLI and the tests.

Handlers never see this: each feature's commands are bound to the few services they use (``app.commands``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.announcements.retry import AnnouncementRetry
from bot.announcements.service import AnnouncementService
from bot.audit import AuditStore
from bot.channels.service import ChannelService
from bot.clock import Clock
from bot.commands.registry import CommandRegistry
from bot.config import CoreConfig
from bot.delivery.missed import MissedReporter
from bot.delivery.notify import Notifier
from bot.delivery.preferences import PreferredPlatforms as PreferredPlatforms  # re-exported for the root
from bot.delivery.status import OutboxReports
from bot.delivery.worker import Outlet
from bot.i18n import Translator
from bot.linking.service import LinkService
from bot.meetings.reminder_queue import ReminderQueue
from bot.meetings.service import MeetingService
from bot.model import Identity, Role
from bot.people.service import PeopleService
from bot.ports import PlatformRoles, Store
from bot.privacy.service import PrivacyService
from bot.resources.service import ResourceService
from bot.subscriptions.digests import DigestService
from bot.subscriptions.service import SubscriptionService
from bot.topics.service import TopicService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    config: CoreConfig
    clock: Clock
    translator: Translator
    registry: CommandRegistry
    notifier: Notifier
    people: PeopleService
    topics: TopicService
    subscriptions: SubscriptionService
    digests: DigestService
    resources: ResourceService
    announcements: AnnouncementService
    channels: ChannelService
    meetings: MeetingService
    reminders: ReminderQueue
    missed: MissedReporter
    outbox_reports: OutboxReports
    announcement_retry: AnnouncementRetry
    privacy: PrivacyService
    audit: AuditStore
    """The audit log, read by the admins' ``audit`` command (every feature writes it through the store)."""
    links: LinkService
    preferences: PreferredPlatforms
    """Where each person's direct messages go (``settings platform``)."""


def link_service(store: Store, clock: Clock, wake: Callable[[], None]) -> LinkService:
    """Account linking, built here rather than in ``app.assembly`` (which is at the module size limit)."""
    return LinkService(store, clock, wake)


class RunningRoles:
    """The people service's role checker: asks the running adapter of the identity's platform, the same object the
    delivery worker re-checks roles through (:class:`~bot.ports.PlatformRoles`).

    ``outlets`` is the composition root's own dictionary of connected platforms, filled as they connect: a platform
    not (yet) running cannot be asked, and neither can one whose adapter does not say roles (the console, email).
    """

    def __init__(self, outlets: Mapping[str, Outlet]) -> None:
        self._outlets = outlets

    async def current_role(self, identity: Identity) -> Role | None:
        outlet = self._outlets.get(identity.platform)
        adapter = outlet.adapter if outlet is not None else None
        if not isinstance(adapter, PlatformRoles):
            return None
        try:
            return await adapter.current_role(identity.external_id)
        except Exception as error:  # an adapter that let a network error through: the platform cannot say
            log.warning("%s could not say the role of a linked account (%s)", identity.platform, type(error).__name__)
            return None
