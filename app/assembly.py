"""The composition root: settings → database → services → dispatcher → platforms → delivery worker, under
one exit stack.

This is the only place that reads settings and the only place that knows which adapters exist. Everything is
built through constructors, in dependency order: the delivery worker comes last, with every platform it sends
through and every message builder. Platform adapters are imported lazily, only when configured, so the core
never loads a platform SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TextIO

from aiohttp import web

from adapters.console import PLATFORM as CONSOLE
from adapters.console import ConsoleAdapter
from adapters.web.ops import Probe, always_ready, slack_socket
from adapters.web.prometheus import PrometheusMetrics
from adapters.web.server import SiteAddress
from app.cluster import Alone, Cluster, cluster_for, delivery_config, gateway_turns, led, worker_lease
from app.commands import all_commands, autocomplete, bound_commands
from app.demo.coalition import is_empty, load_demo
from app.instance import AlreadyRunning, open_storage, single_instance
from app.meeting_timers import MeetingTimers
from app.services import PreferredPlatforms, RunningRoles, Services, link_service
from app.settings import Settings
from app.web import build_web, listen, printer, public_service
from bot.announcements.retry import AnnouncementRetry
from bot.announcements.service import AnnouncementConfig, AnnouncementService
from bot.channels.service import ChannelService, PlatformNotReady, Platforms
from bot.clock import Clock, SystemClock
from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import CommandRegistry
from bot.delivery.direct_channels import DirectChannels
from bot.delivery.missed import MissedReporter
from bot.delivery.model import DeliveryKind
from bot.delivery.notify import Notifier
from bot.delivery.pacing import TokenBucket
from bot.delivery.sharing import BudgetShare
from bot.delivery.status import OutboxReports
from bot.delivery.wakeup import Wakeup
from bot.delivery.worker import DeliveryWorker, Outlet, OutletPaces
from bot.email.model import PLATFORM as PLATFORM_EMAIL
from bot.email.service import EmailFollowers
from bot.i18n import Translator
from bot.meetings.ics import coalition_slug
from bot.meetings.model import MeetingConfig
from bot.meetings.reminder_queue import REMINDER_EXPIRED, ReminderQueue
from bot.meetings.scheduler import MeetingScheduler
from bot.meetings.service import MeetingService
from bot.model import Identity
from bot.people.service import PeopleService
from bot.ports import DirectChannelOpener, PlatformAdapter
from bot.privacy.service import PrivacyService
from bot.public.service import PublicService
from bot.resources.service import ResourceService
from bot.retention import Retention
from bot.subscriptions.digests import DIGEST_EXPIRED, DigestConfig, DigestService
from bot.subscriptions.service import SubscriptionService
from bot.topics.service import TopicService
from storage.database import Database
from storage.handled_events import HandledEvents
from storage.health import SqliteHealth
from storage.platform_budgets import PlatformBudgets
from storage.privacy import SqlitePrivacy
from storage.retention import SqliteRetention
from storage.store import SqliteStore

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 60.0
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

__all__ = ["AlreadyRunning", "App", "all_commands", "build_app", "run", "single_instance"]


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
    scheduler: MeetingScheduler
    """Armed when :meth:`serve` starts (tests drive :meth:`run_due` instead)."""
    platform_runners: list[Any] = field(default_factory=list)
    direct_channels: DirectChannels | None = None
    """Opens DM channels ahead of fan-outs (runs in :meth:`serve`; tests and benchmarks call its ``run_due``)."""
    public: PublicService | None = None
    site: web.Application | None = None
    """The web site, listening on ``[web]`` while :meth:`serve` runs (Slack's events endpoint too, in HTTP mode);
    ``None`` when it is off and Slack does not need it."""
    site_address: SiteAddress | None = None
    email: EmailFollowers | None = None
    """Followers by email, when ``[email]`` is configured (the web pages call it; ``run_due`` prunes)."""
    say: Callable[[str], None] | None = None
    """Where the console user reads what the app itself reports at start (the site's address)."""
    retention: Retention | None = None
    """The daily prune of what ``[privacy]`` no longer keeps (its last run is in the database)."""
    cluster: Alone | Cluster = field(default_factory=Alone)
    """Alone on SQLite; on PostgreSQL, wake-ups to and from the other processes and who runs scheduled work."""
    budget: BudgetShare | None = None
    """Several processes: each takes its share of the platforms' budgets."""

    async def run_due(self) -> None:
        """Do everything that is due now: expire requests, start due announcements, queue digests, send
        due deliveries, close finished announcements. Tests drive this with a controlled clock."""
        await self._scheduled()
        while await self.worker.run_due():
            pass
        await self._announcements_due()

    async def _scheduled(self) -> None:
        """What falls due with time, in order: request expiry, due announcements, reminders, digests, missed
        reports, unconfirmed email requests past their expiry, and the daily retention prune."""
        await self.services.subscriptions.expire_requests()
        await self._announcements_due()
        await self.services.meetings.run_due()
        await self.digests.run_due()
        await self.services.missed.run_due()
        if self.email is not None:
            await self.email.prune(self.services.clock.now())
        if self.retention is not None:
            await self.retention.run_due()

    async def _announcements_due(self) -> None:
        """Start scheduled announcements that fell due; close those whose deliveries have all ended, and
        update their authors' reports."""
        await self.services.announcements.run_due()
        await self.worker.refresh(await self.services.announcements.settle_sending())

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, or until the console's input ends when it is the only adapter."""
        async with AsyncExitStack() as stack, asyncio.TaskGroup() as group:
            # Meeting wake-ups are armed from the database now, not in build_app: tests drive run_due().
            await stack.enter_async_context(self.scheduler)
            self.site_address = await listen(self.site, self.settings, stack, self.say, self.services.translator)
            others = [group.create_task(self._housekeeping())]
            if self.budget is not None:
                others += [group.create_task(self.cluster.run()), group.create_task(self.budget.run())]
                # Let the others count this worker (and lower their share) before it sends at its own.
                await asyncio.sleep(2 * self.budget.refresh_seconds)
            worker = group.create_task(self.worker.run())
            if self.direct_channels is not None:
                others.append(group.create_task(self.direct_channels.run()))
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
                if self.cluster.leader:  # several processes: scheduled work runs once, on the leader
                    await self._scheduled()
                if self.direct_channels is not None:
                    self.direct_channels.wake()  # DM channels still to open before the next announcement
            except Exception:
                log.exception("housekeeping failed; will try again")
            delay = HOUSEKEEPING_SECONDS
            next_at = await self.store.announcements.next_scheduled()
            if next_at is not None:
                # At least a second: an announcement that keeps failing must not spin this loop.
                delay = max(1.0, min(delay, (next_at - self.services.clock.now()).total_seconds()))
            await asyncio.sleep(delay)


class LateOpener:
    """The DM channel opener, known to the subscription service before the platforms it opens on are connected:
    a wake before it is attached is dropped (the opener looks at the database when it starts anyway)."""

    def __init__(self) -> None:
        self.opener: DirectChannels | None = None

    def attach(self, opener: DirectChannels) -> None:
        self.opener = opener

    def wake(self) -> None:
        if self.opener is not None:
            self.opener.wake()


async def should_load_demo(settings: Settings, store: SqliteStore) -> bool:
    """Only into an empty database, and only when the console is the sole adapter: never on a deployment."""
    return settings.console_only and await is_empty(store)


@asynccontextmanager
async def build_app(settings: Settings, *, clock: Clock | None = None, console_output: TextIO | None = None,
                    extra_adapters: tuple[Callable[[Dispatcher], PlatformAdapter | Outlet], ...] = ()
                    ) -> AsyncIterator[App]:
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        db = await stack.enter_async_context(open_storage(settings.storage))
        cluster = cluster_for(settings.storage, db)
        store = SqliteStore(db)
        translator = Translator.load()
        config = settings.core_config()
        delivery = settings.delivery
        # Everyone who queues a row rings this; the worker, built last, listens.
        wakeup = Wakeup(also=cluster.ring)
        cluster.listen(wakeup.local)  # another process queued a row
        # A subscription wakes the DM channel opener, built once the platforms are connected.
        direct_channels = LateOpener()
        notifier = Notifier(store, clock, wakeup)
        # The platforms connected so far, by name. A platform still connecting answers commands already (Slack
        # listens before Discord has started): its channel checks refuse, and its roles go unasked, until it is here.
        outlets: dict[str, Outlet] = {}
        people = PeopleService(store, config, translator, clock, RunningRoles(outlets))
        topics = TopicService(store, clock, notifier)
        meeting_config = MeetingConfig()
        reminders = ReminderQueue(store, clock, wakeup, meeting_config)
        scheduler = MeetingScheduler(store, clock, led(cluster, reminders.run_due))
        timers = await stack.enter_async_context(MeetingTimers(cluster, scheduler))  # and the other processes'
        meetings = MeetingService(store, clock, wakeup, meeting_config, reminders, timers.changed,
                                  coalition_slug(config.coalition_name))
        connecting = {name for name, on in (("slack", settings.slack.configured),
                                            ("discord", settings.discord.configured)) if on}
        metrics = PrometheusMetrics()  # the web site's /metrics; the core reports through bot.metrics
        announcement_service = AnnouncementService(
            store, clock, notifier, wakeup,
            AnnouncementConfig(missed_grace=timedelta(hours=delivery.missed_grace_hours)),
            estimate=OutletPaces(outlets),  # the worker's own buckets, read when a preview or report asks
            metrics=metrics)
        services = Services(
            config=config, clock=clock, translator=translator, registry=CommandRegistry(all_commands()),
            notifier=notifier, people=people, topics=topics,
            subscriptions=SubscriptionService(store, clock, notifier, config.request_expiry, config.admins,
                                              subscribed=direct_channels.wake),
            digests=DigestService(store, clock, people, notifier, meetings=meetings, metrics=metrics,
                                  config=DigestConfig(hour=delivery.digest_hour,
                                                      weekly_day=WEEKDAYS.index(delivery.weekly_digest_day))),
            resources=ResourceService(store, clock, topics), preferences=PreferredPlatforms(store),
            announcements=announcement_service,
            channels=ChannelService(store, clock, platform_lookup(outlets, connecting)),
            meetings=meetings, reminders=reminders, links=link_service(store, clock, wakeup),
            missed=MissedReporter(store, clock, notifier, wakeup, config.admins),
            outbox_reports=OutboxReports(store, clock, lambda: tuple(outlets)),
            announcement_retry=AnnouncementRetry(store, clock, wakeup, announcement_service), audit=store.audit,
            privacy=PrivacyService(SqlitePrivacy(db), store, clock, config.admins),
        )
        dispatcher = Dispatcher(bound_commands(services), people, translator, clock, autocomplete(services),
                                metrics=metrics)

        async with store.transaction():  # two processes starting on one empty database load it once
            if await should_load_demo(settings, store):
                await load_demo(store, clock.now())
                log.info("loaded demo coalition data into the empty database")

        console = None
        if settings.console_enabled:
            async def zone_of(user: str) -> str:
                return await people.zone_for(Identity(CONSOLE, user))

            console = ConsoleAdapter(dispatcher.handle, user=settings.console.user, callers=people,
                                     translator=translator, output=console_output, zone_of=zone_of)
            # A burst of at least one send: a rate below 1/s still sends (the bucket needs a whole token).
            outlets[console.platform] = Outlet(console, TokenBucket(delivery.console_per_second,
                                                                    max(1.0, delivery.console_per_second)))
        for make in extra_adapters:  # tests and benchmarks: a recording or rate-limited adapter
            made = make(dispatcher)
            outlet = made if isinstance(made, Outlet) else Outlet(made)
            outlets[outlet.adapter.platform] = outlet

        runners: list[Any] = []
        probes: dict[str, Probe] = {}  # readiness of each configured platform, for /readyz
        mounts: dict[str, web.Application] = {}  # the web site's sub-applications: Slack's events in HTTP mode
        if settings.slack.configured:
            from adapters import slack  # only when configured: the SDK stays unloaded otherwise
            from storage.replays import SqliteReplays

            slack_runner = await stack.enter_async_context(slack.running(
                settings.slack, dispatcher, workspace_per_second=delivery.slack_workspace_per_second,
                workspace_max_per_second=delivery.slack_workspace_max_per_second,
                language=settings.coalition.language, replays=SqliteReplays(db), seen=HandledEvents(db),
                remember_dm=store.people.set_dm_channel,
                forget_dm=store.direct_channels.forget))
            outlets["slack"] = slack_runner.outlet
            runners.append(slack_runner)
            probes["slack"] = always_ready if slack_runner.socket is None else slack_socket(slack_runner.socket.client)
            mounts.update(slack_runner.web_mounts)
        if settings.discord.configured:
            from adapters import discord
            from bot.channels.service import may_forward
            from storage.action_tokens import SqliteActionTokens
            from storage.publishes import SqlitePublishes
            from storage.send_attempts import SqliteSendAttempts

            # Only the ports it persists through, never the SQLite store itself.
            discord_stores = discord.DiscordStores(
                people=store.people, action_tokens=SqliteActionTokens(db), send_attempts=SqliteSendAttempts(db),
                publishes=SqlitePublishes(db),
                may_forward=lambda platform, channel_id: may_forward(store, platform, channel_id),
                forget_dm=store.direct_channels.forget, seen=HandledEvents(db))
            # Several processes: every one sends over REST, one per shard holds the gateway (released after it).
            turns = await stack.enter_async_context(gateway_turns(cluster, settings.storage))
            discord_runner = await stack.enter_async_context(
                discord.running(settings.discord, dispatcher, discord_stores, translator, clock, turns=turns,
                                global_limit=delivery.discord_global_limit, language=settings.coalition.language))
            outlets["discord"] = discord_runner.outlet
            runners.append(discord_runner)
            probes["discord"] = discord_runner.ready

        email = None
        if settings.email.configured:  # the SMTP client stays unloaded otherwise
            from app.email import email_outlet, followers

            email = followers(settings, services, store)
            outlets[PLATFORM_EMAIL] = email_outlet(settings, services, store, clock, email)
        openers = {name: outlet.adapter for name, outlet in outlets.items()
                   if isinstance(outlet.adapter, DirectChannelOpener)}
        direct_channels.attach(DirectChannels(store, clock, openers,
                                              budgets={name: outlets[name].bucket for name in openers}))
        announcements = services.announcements
        worker = DeliveryWorker(
            store, clock, translator, people, outlets.values(),
            builders={DeliveryKind.ANNOUNCEMENT: announcements.build, DeliveryKind.REPORT: announcements.build,
                      DeliveryKind.REMINDER: reminders.build},
            config=delivery_config(delivery), wakeup=wakeup, after_batch=(announcements.after_batch,),
            lease=worker_lease(delivery.lease_seconds, sole_instance=not cluster.shared),
            expired={DeliveryKind.REMINDER: REMINDER_EXPIRED, DeliveryKind.DIGEST: DIGEST_EXPIRED}, metrics=metrics)
        await worker.start()
        stack.push_async_callback(worker.close)  # a clean stop releases the worker's lease
        await announcements.mark_missed()
        public = public_service(services, store)
        site = build_web(settings, services, public, health=SqliteHealth(db), probes=probes, metrics=metrics,
                         mounts=mounts, email=email)
        yield App(settings=settings, db=db, store=store, services=services, dispatcher=dispatcher,
                  worker=worker, console=console, digests=services.digests, scheduler=scheduler,
                  platform_runners=runners, direct_channels=direct_channels.opener, public=public, site=site,
                  email=email, retention=Retention(SqliteRetention(db), clock, settings.privacy.policy()),
                  cluster=cluster, budget=BudgetShare(store.leases, clock, lambda: [
                      b for o in outlets.values() for b in (*((o.bucket,) if o.bucket else ()), *o.shared)],
                      rates=PlatformBudgets(db)) if cluster.shared else None,
                  say=printer(console_output) if console is not None else None)


def platform_lookup(outlets: Mapping[str, Outlet], connecting: Collection[str]) -> Platforms:
    """The adapter of a connected platform; a configured one still connecting refuses (fails closed)."""

    def adapter(platform: str) -> PlatformAdapter | None:
        outlet = outlets.get(platform)
        if outlet is not None:
            return outlet.adapter
        if platform in connecting:
            raise PlatformNotReady(platform)
        return None
    return adapter


async def run(settings: Settings) -> None:
    """Start everything and serve until SIGTERM/SIGINT (or the end of console input)."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with build_app(settings) as app:
        # What start-up built lives as long as the process: frozen, full collections stop walking it again and
        # again (a 0.1 s pause mid fan-out is five of Discord's request slots lost). Not in build_app: tests
        # build hundreds of apps in one process, and frozen objects are never freed.
        gc.freeze()
        await app.serve(stop)
