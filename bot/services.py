"""The services handlers reach through their context. Built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.announcements.service import AnnouncementService
from bot.commands.registry import CommandRegistry
from bot.config import CoreConfig
from bot.delivery.notify import Notifier
from bot.i18n import Translator
from bot.meetings.service import MeetingService
from bot.people.service import PeopleService
from bot.ports import Clock, PlatformAdapter, Store
from bot.resources.service import ResourceService
from bot.subscriptions.service import SubscriptionService
from bot.topics.service import TopicService


@dataclass(frozen=True, slots=True)
class Services:
    config: CoreConfig
    store: Store
    clock: Clock
    translator: Translator
    registry: CommandRegistry
    notifier: Notifier
    people: PeopleService
    topics: TopicService
    subscriptions: SubscriptionService
    resources: ResourceService
    announcements: AnnouncementService
    meetings: MeetingService
    adapters: Callable[[str], PlatformAdapter | None]
