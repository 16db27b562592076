"""The composition root: settings → database → services → delivery worker → adapters, under one exit stack.

This is the only place that reads settings and the only place that knows which adapters exist. Platform
adapters are imported lazily, only when configured, so the core never loads a platform SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from adapters.console import ConsoleAdapter
from app.demo.coalition import is_empty, load_demo
from app.settings import Settings
from bot.announcements import commands as announce_commands
from bot.announcements.service import AnnouncementConfig, AnnouncementService
from bot.commands import help
from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import CommandRegistry
from bot.commands.spec import Command
from bot.delivery.model import Delivery
from bot.delivery.notify import Notifier
from bot.delivery.pacing import TokenBucket
from bot.delivery.worker import DeliveryConfig, DeliveryWorker
from bot.i18n import Translator
from bot.meetings import commands as meeting_commands
from bot.meetings.ics import coalition_slug
from bot.meetings.model import MeetingConfig
from bot.meetings.scheduler import MeetingScheduler
from bot.meetings.service import MeetingService
from bot.model import Identity
from bot.people import commands as account
from bot.people.service import PeopleService
from bot.ports import Clock, PlatformAdapter, SystemClock
from bot.resources import service as resources
from bot.resources.service import ResourceService
from bot.services import Services
from bot.subscriptions import service as subscriptions
from bot.subscriptions.digests import DigestConfig, DigestService
from bot.subscriptions.service import SubscriptionService
from bot.topics import service as topics
from bot.topics.service import TopicService
from storage.database import Database
from storage.store import SqliteStore

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 60.0
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def all_commands() -> list[Command]:
    """Every feature module's commands, joined explicitly (one router per feature)."""
    return [*help.commands(), *topics.commands(), *subscriptions.commands(), *resources.commands(),
            *announce_commands.commands(), *meeting_commands.commands(), *account.commands()]


@dataclass
class App:
    settings: Settings
    db: Database
    store: SqliteStore
    services: Services
    dispatcher: Dispatcher
    worker: DeliveryWorker
    console: ConsoleAdapter | None
    digests: DigestService
    scheduler: MeetingScheduler | None = None
    platform_runners: list[Any] = field(default_factory=list)

    async def run_due(self) -> None:
        """Do everything that is due now: expire requests, start due announcements, queue digests, send
        due deliveries, close finished announcements. Tests drive this with a controlled clock."""
        await self.services.subscriptions.expire_requests()
        await self.services.announcements.run_due()
        await self.services.meetings.run_due()
        await self.digests.run_due()
        while await self.worker.run_due():
            pass
        await self.services.announcements.run_due()

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, or until the console's input ends when it is the only adapter."""
        async with AsyncExitStack() as stack, asyncio.TaskGroup() as group:
            # Meeting wake-ups are armed from the database now, not in build_app: tests drive run_due().
            self.scheduler = await stack.enter_async_context(
                MeetingScheduler(self.store, self.services.clock, self.services.meetings.run_due))
            self.services.meetings.on_change(self.scheduler.rearm)
            worker = group.create_task(self.worker.run())
            others = [group.create_task(self._housekeeping())]
            if self.console is not None:
                others.append(group.create_task(self.console.run()))
            waiters = [asyncio.ensure_future(stop.wait())]
            if self.console is not None and self.settings.console_only:
                waiters.append(asyncio.ensure_future(self.console.finished.wait()))
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            # Let the worker finish the delivery in hand: cancelling it mid-send could send twice.
            self.worker.request_stop()
            await worker
            if not stop.is_set():
                await self.run_due()
            for task in others:
                task.cancel()

    async def _housekeeping(self) -> None:
        """Wake for the next scheduled announcement, or every poll interval as a backstop."""
        while True:
            try:
                await self.services.subscriptions.expire_requests()
                await self.services.announcements.run_due()
                await self.services.meetings.run_due()
                await self.digests.run_due()
            except Exception:
                log.exception("housekeeping failed; will try again")
            delay = HOUSEKEEPING_SECONDS
            next_at = await self.store.announcements.next_scheduled()
            if next_at is not None:
                # At least a second: an announcement that keeps failing must not spin this loop.
                delay = max(1.0, min(delay, (next_at - self.services.clock.now()).total_seconds()))
            await asyncio.sleep(delay)


class AlreadyRunning(RuntimeError):
    """Another bot process serves this database: two would both retry each other's in-flight deliveries."""


@contextlib.contextmanager
def single_instance(database: Path) -> Iterator[None]:
    """Hold an exclusive lock beside the database for the life of the app (released by the OS on a crash)."""
    if str(database) == ":memory:":
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{database}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(f"another coalition-bot process is using {database}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def should_load_demo(settings: Settings, store: SqliteStore) -> bool:
    """Only into an empty database, and only when the console is the sole adapter: never on a deployment."""
    return settings.console_only and await is_empty(store)


@asynccontextmanager
async def build_app(settings: Settings, *, clock: Clock | None = None, console_output: TextIO | None = None,
                    extra_adapters: tuple[Callable[[Dispatcher], PlatformAdapter], ...] = ()
                    ) -> AsyncIterator[App]:
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        stack.enter_context(single_instance(settings.storage.path))
        db = await stack.enter_async_context(Database.open(settings.storage.path))
        store = SqliteStore(db)
        translator = Translator.load()
        config = settings.core_config()
        people = PeopleService(store, config, translator, clock)
        delivery = settings.delivery
        worker = DeliveryWorker(store, clock, translator, people, adapters={}, buckets={},
                                config=DeliveryConfig(poll_seconds=delivery.poll_seconds,
                                                      max_attempts=delivery.max_attempts,
                                                      backoff_base_seconds=delivery.backoff_base_seconds,
                                                      backoff_max_seconds=delivery.backoff_max_seconds,
                                                      concurrency=delivery.concurrency))
        notifier = Notifier(store, clock, worker.wake)
        services = Services(
            config=config, store=store, clock=clock, translator=translator,
            registry=CommandRegistry(all_commands()), notifier=notifier, people=people,
            topics=TopicService(store, clock, notifier),
            subscriptions=SubscriptionService(store, clock, notifier, config.request_expiry, config.admins),
            resources=ResourceService(store, clock, TopicService(store, clock, notifier)),
            announcements=AnnouncementService(
                store, clock, notifier, worker.wake,
                AnnouncementConfig(missed_grace=timedelta(hours=delivery.missed_grace_hours))),
            meetings=MeetingService(store, clock, worker.wake, MeetingConfig(),
                                    coalition_slug(config.coalition_name)),
            adapters=worker.adapter,
        )
        dispatcher = Dispatcher(services)
        announcements = services.announcements
        worker.register_builder("announcement", announcements.build)
        worker.register_builder("report", announcements.build)
        announcements.use_editor(worker.edit_sent)
        worker.register_builder("reminder", services.meetings.build)

        async def progress(batch: Sequence[Delivery]) -> None:
            for announcement_id in {d.announcement_id for d in batch if d.announcement_id is not None}:
                await announcements.settle(announcement_id)

        worker.after_each_batch(progress)
        digests = DigestService(store, clock, people, notifier, meetings=services.meetings,
                                config=DigestConfig(hour=delivery.digest_hour,
                                                    weekly_day=WEEKDAYS.index(delivery.weekly_digest_day)))

        if await should_load_demo(settings, store):
            await load_demo(store, clock.now())
            log.info("loaded demo coalition data into the empty database")

        console = None
        if settings.console_enabled:
            async def zone_of(user: str) -> str:
                record = await store.people.identity(Identity("console", user))
                person = await store.people.get(record.person_id) if record else None
                return people.zone_of(person)[0] if person else config.default_timezone

            console = ConsoleAdapter(dispatcher.handle, user=settings.console.user, output=console_output,
                                     zone_of=zone_of)
            worker.add_adapter(console, TokenBucket(delivery.console_per_second, delivery.console_per_second))

        for make in extra_adapters:
            adapter = make(dispatcher)
            worker.add_adapter(adapter)

        runners = []
        for platform, configured in (("slack", settings.slack.configured), ("discord", settings.discord.configured)):
            if configured:
                module = importlib.import_module(f"adapters.{platform}")
                runner = await stack.enter_async_context(module.running(settings, dispatcher, worker))
                runners.append(runner)

        await worker.recover()
        await announcements.mark_missed()
        yield App(settings=settings, db=db, store=store, services=services, dispatcher=dispatcher,
                  worker=worker, console=console, digests=digests, platform_runners=runners)


async def run(settings: Settings) -> None:
    """Start everything and serve until SIGTERM/SIGINT (or the end of console input)."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with build_app(settings) as app:
        await app.serve(stop)
