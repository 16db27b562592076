"""The discord.py client and the adapter's entry point, :func:`running`, used by the composition root.

Every process logs in and sends over REST at once; the gateway (interactions) is connected per shard only while
this process holds that shard's turn (:mod:`adapters.discord.turns`, :mod:`adapters.discord.gateway`).

Minimal intents: ``guilds`` only (channels and roles in the cache). No members intent — members are
fetched over REST when needed — and no privileged message-content intent: everything arrives as
interactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

from adapters.discord.commands import DescriptionTranslator, build_commands
from adapters.discord.delivery import DiscordDelivery
from adapters.discord.gateway import GatewayClient, ShardGateway, home_shard, settled, socket_open, stop
from adapters.discord.identity import PLATFORM, RoleMap
from adapters.discord.interactions import ActionButton, InteractionHandler
from adapters.discord.once import OnceInteractions
from adapters.discord.permissions import REQUIRED, Permission, english_names, invite_url, missing
from adapters.discord.publish import PublishQueue
from adapters.discord.settings import DiscordSettings
from adapters.discord.stores import DiscordStores
from adapters.discord.tokens import ActionTokens
from adapters.discord.turns import GatewayTurns, SoleTurns
from bot.clock import Clock
from bot.commands.dispatcher import Dispatcher
from bot.delivery.pacing import AdaptiveBucket
from bot.delivery.worker import Outlet
from bot.i18n import Msg, Translator

log = logging.getLogger(__name__)

MAX_RATELIMIT_WAIT = 30.0  # a longer 429 raises discord.RateLimited: the outbox retries, nothing sleeps
READY_TIMEOUT_SECONDS = 60.0
GLOBAL_LIMIT_PER_SECOND = 50.0  # Discord's global request limit for a bot (larger bots are granted more)
PACE_OF_LIMIT = 0.97
"""The share of the global limit the bot paces itself at, at most: the pace is also no more than what
:class:`GlobalWindow` lets on the wire in a second (:func:`pace_for`), so the two agree on the steady rate; at 50/s
that is 48/s (0.96 of the limit), the window holding back only a request the burst or a busy loop bunched."""
FLOOR_OF_LIMIT = 0.2
SLOW_DOWN = 0.9
RECOVER_AFTER_SECONDS = 10.0
"""After a global 429 the pace drops to :data:`SLOW_DOWN` of itself, and creeps back a step after each clean
:data:`RECOVER_AFTER_SECONDS`. Gentler and quicker than Slack's workspace budget: Discord's limit is known, so a
429 at 0.97 of it is the jitter of requests in flight (or another process on the same token), not a limit
that is lower than thought."""
GUILD_READY_TIMEOUT = 0.5  # one guild: after its GUILD_CREATE there is nothing more to wait for


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class CoalitionTree(app_commands.CommandTree["CoalitionClient"]):
    async def interaction_check(self, interaction: discord.Interaction[CoalitionClient], /) -> bool:
        """Slash commands and autocomplete: each interaction once, whichever gateway session got it."""
        return await interaction.client.coalition.first_time(interaction)

    async def on_error(self, interaction: discord.Interaction[CoalitionClient],
                       error: app_commands.AppCommandError, /) -> None:
        await interaction.client.coalition.report_failure(interaction, error)


_CLOCK_GRAIN = 1e-6
"""A wait shorter than this is none: after sleeping exactly the wait, float rounding can leave a remainder of
1e-17 s that a clock (or a test's clock) never moves past."""


def window_most(limit: float) -> int:
    """Requests :class:`GlobalWindow` lets on the wire in any one second: two short of Discord's ``limit``."""
    return max(1, math.ceil(limit) - 2)


def pace_for(limit: float) -> float:
    """The bucket's ceiling for Discord's global ``limit``: :data:`PACE_OF_LIMIT` of it, and no more than
    :func:`window_most`, so the window only ever holds back requests bunched on their way out."""
    return max(min(limit * PACE_OF_LIMIT, float(window_most(limit))), max(1.0, limit * FLOOR_OF_LIMIT))


def global_budget(limit: float) -> AdaptiveBucket:
    """One budget for every request the bot makes, at :func:`pace_for` Discord's global ``limit``."""
    pace = pace_for(limit)
    return AdaptiveBucket(pace, 1.0, floor=max(1.0, limit * FLOOR_OF_LIMIT), ceiling=pace, decrease=SLOW_DOWN,
                          clean_seconds=RECOVER_AFTER_SECONDS, name="Discord")


EXEMPT_PATHS = ("/interactions/", "/webhooks/")
"""Requests Discord does not count towards the global limit: interaction responses and their follow-ups. They
skip :class:`GlobalWindow`, so a command's reply never waits behind a fan-out (Discord allows it 3 seconds)."""

LATE_CREDIT = 0.002
"""How late a request may leave and still keep its slot in :class:`GlobalWindow`'s spacing: a little more than a
sleep's usual lateness (epoll's millisecond plus a busy loop's turn), and small beside the ~40 ms of arrival
jitter the spacing is there to absorb."""


class GlobalWindow:
    """At most ``limit - 2`` requests in any one second, and no two closer than ``1 / (limit - 1)`` seconds,
    counted as each request goes on the wire.

    The token bucket spaces requests when they are *decided*; between that and the wire discord.py takes a route
    lock and builds the request, and a busy event loop can hold several back and release them together. Discord
    counts *arrivals*, which the network shifts again by a few milliseconds each. The count alone lets a bunch
    through as long as the second holds no more than 48, and a bunch at the end of one second followed by the
    next second's first requests arrives as 51 in Discord's second if the network delays the bunch a little.
    Spaced requests do not have that edge: any ``1 + J`` seconds then hold at most ``48 + ⌈49 (J + L)⌉`` of them,
    so arrivals may spread by up to ``J`` ≈ 40 ms before a 51st lands in one of Discord's seconds (measured: no
    429 in 20,000 messages against a fake that enforces 50 in any second).

    The spacing runs on a schedule, not from the moment the last request actually left: a sleep wakes up late
    (epoll rounds its timeout up to the millisecond, other callbacks run first), and spacing each request from the
    last one's late departure added that lateness to every gap for good — the window then let 47.3 requests a
    second through instead of 48 (issue 23). A request that left up to :data:`LATE_CREDIT` (``L`` above) late
    keeps its slot, so the next one's gap is measured from where it should have gone; one that left later than
    that (a quiet spell, a stalled loop) starts the schedule afresh, so a stall is never caught up in a bunch.
    The count is of actual departures, which only ever errs on the safe side.

    Waiters are served in the order they arrive (one sleeps at a time), so a request is never overtaken and the
    loop wakes once per slot rather than once per waiter."""

    def __init__(self, limit: float, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.most = window_most(limit)
        self.spacing = 1.0 / (self.most + 1)
        self._sent: deque[float] = deque()
        self._slot = -math.inf  # when the last request was due to go by the spacing
        self._turn = asyncio.Lock()
        self._monotonic = monotonic
        self._sleep = sleep

    async def admit(self, path: str = "") -> None:
        """Wait until a request to ``path`` may go on the wire; one of :data:`EXEMPT_PATHS` goes at once, uncounted."""
        if any(exempt in path for exempt in EXEMPT_PATHS):
            return
        async with self._turn:
            while True:
                now = self._monotonic()
                while self._sent and now - self._sent[0] >= 1.0:
                    self._sent.popleft()
                due = self._slot + self.spacing
                if len(self._sent) >= self.most:
                    due = max(due, self._sent[0] + 1.0)
                if due - now <= _CLOCK_GRAIN:
                    self._sent.append(now)
                    self._slot = due if now - due <= LATE_CREDIT else now
                    return
                await self._sleep(due - now)


def global_limit_trace(bucket: AdaptiveBucket, window: GlobalWindow) -> aiohttp.TraceConfig:
    """Hooks on every request discord.py makes: :class:`GlobalWindow` before it is sent, and after it Discord's
    own signal that the bot went over its global limit.

    discord.py waits a global 429 out and retries by itself, so the adapter never sees it; this hook does, and
    slows the budget down (a 429 with ``X-RateLimit-Global`` or ``X-RateLimit-Scope: global``; a route's own
    429 is the route's business, see :mod:`adapters.route_limits`)."""

    async def on_request_start(session: aiohttp.ClientSession, context: object,
                               params: aiohttp.TraceRequestStartParams) -> None:
        await window.admit(params.url.path)

    async def on_request_end(session: aiohttp.ClientSession, context: object,
                             params: aiohttp.TraceRequestEndParams) -> None:
        response = params.response
        headers = response.headers
        if response.status == 429 and (headers.get("X-RateLimit-Global", "").lower() == "true"
                                       or headers.get("X-RateLimit-Scope") == "global"):
            try:
                seconds: float | None = float(headers.get("Retry-After", ""))
            except ValueError:
                seconds = None
            bucket.slow_down(seconds)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    trace.on_request_end.append(on_request_end)
    return trace


class CoalitionClient(GatewayClient):
    def __init__(self, handler: InteractionHandler, guild_id: int | None = None, **options: Any) -> None:
        super().__init__(intents=intents(), max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
                         guild_ready_timeout=GUILD_READY_TIMEOUT, allowed_mentions=discord.AllowedMentions.none(),
                         **options)
        self.coalition = handler
        self.guild_id = guild_id
        self.lacking: tuple[Permission, ...] = ()
        self.tree = CoalitionTree(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """At start (and after an outage): say at once what the bot lacks, not at the first ``setup``."""
        self.lacking = check_permissions(self, guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.lacking = check_permissions(self, guild)

    async def on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        """An admin changed the bot's role (or @everyone) while it runs: say so when what it lacks changed."""
        me = after.guild.me
        if me is None or not (after.is_default() or after in me.roles) or after.guild.id != self.guild_id:
            return
        if missing(me.guild_permissions.value) != self.lacking:
            self.lacking = check_permissions(self, after.guild)


class NotInGuild(RuntimeError):
    """The configured server refuses the bot's commands: it was never added there (or was removed)."""

    def __init__(self, guild_id: int, code: int, invite: str) -> None:
        super().__init__(f"Discord refused the bot's commands for server {guild_id} (error {code}): the bot is "
                         f"not in that server, or guild_id is wrong. Add it with {invite}")


def check_permissions(client: discord.Client, guild: discord.Guild) -> tuple[Permission, ...]:
    """Log a warning naming the permissions the bot lacks in the coalition's server, with the invite URL that
    grants them (no secret in it); returns what is missing."""
    configured = getattr(client, "guild_id", None)
    if configured is not None and guild.id != configured:
        log.warning("Discord: the bot is in server %s (%s), but serves only the configured guild_id %s",
                    guild.name, guild.id, configured)
        return ()
    lacking = missing(guild.me.guild_permissions.value) if guild.me is not None else REQUIRED
    if lacking:
        log.warning("Discord: the bot lacks these permissions in server %s (%s): %s. Give them to its role, or "
                    "invite it again with %s", guild.name, guild.id, english_names(lacking), _invite(client))
    return lacking


def _invite(client: discord.Client) -> str:
    return invite_url(client.application_id) if client.application_id is not None else \
        "the URL `python -m bot discord-invite` prints"


@dataclass
class DiscordRunner:
    """What is running for Discord; tests and later features (announcements, setup) reach in here."""

    client: CoalitionClient
    delivery: DiscordDelivery
    publishes: PublishQueue
    handler: InteractionHandler
    guild_id: int
    outlet: Outlet
    """What the delivery worker sends through: the adapter, paced per request by its own token bucket."""
    gateways: tuple[ShardGateway, ...] = ()
    """One per shard this process may hold; each connected only while its turn is this process's."""
    turns: GatewayTurns = field(default_factory=SoleTurns)

    def gateway_held(self) -> frozenset[int]:
        """The shards whose gateway this process holds now (connected, READY, socket open)."""
        return frozenset(gateway.shard_id for gateway in self.gateways if gateway.held)

    async def ready(self) -> bool:
        """For ``/readyz``: REST works (logged in, not closed), and every shard whose turn this process holds has
        its gateway up. A process that holds no turn is ready: it sends, another one listens."""
        if self.client.is_closed() or self.client.user is None:
            return False
        turns = self.turns.held()
        return all(gateway.held for gateway in self.gateways if gateway.shard_id in turns)


_endpoint_users: list[tuple[str, str | None]] = []


@contextlib.contextmanager
def _endpoints(api_base_url: str, gateway_url: str | None) -> Iterator[None]:
    """discord.py reads its REST base and gateway from class attributes; set them for this run only.

    Runs in one event loop may overlap (tests start two "processes" side by side, on the same endpoints): the
    first sets them, the last one out puts the originals back; runs that disagree are refused."""
    wanted = (api_base_url.rstrip("/"), gateway_url)
    if _endpoint_users and _endpoint_users[0] != wanted:
        raise RuntimeError("two Discord adapters with different api_base_url or gateway_url in one process")
    if _endpoint_users:
        _endpoint_users.append(wanted)
        try:
            yield
        finally:
            _endpoint_users.pop()
        return
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = wanted[0]
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    _endpoint_users.append(wanted)
    try:
        yield
    finally:
        _endpoint_users.pop()
        if not _endpoint_users:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@asynccontextmanager
async def running(config: DiscordSettings, dispatcher: Dispatcher, stores: DiscordStores, translator: Translator,
                  clock: Clock, *, global_limit: float = GLOBAL_LIMIT_PER_SECOND, language: str,
                  turns: GatewayTurns | None = None) -> AsyncIterator[DiscordRunner]:
    """Log in and sync the commands to the guild; the runner's ``outlet`` sends over REST from then on, paced at
    :func:`pace_for` ``global_limit`` requests a second (lower after Discord says the bot went over it), whether
    or not this process holds a gateway. Each shard of ``config.shards`` gets a client; its gateway connects
    while ``turns`` (default: :class:`SoleTurns`, one process) gives this process the shard's turn, and closes
    when the turn is lost. Waits for each gateway's first attempt (connected, or another process's turn), so a
    single process starts connected as before. ``language`` is the coalition's, for command descriptions;
    ``stores`` is everything it keeps (tokens, send attempts, publishes, DM channels, interactions handled).
    Closes on exit.

    Commands are synced by every process as it starts: a bulk overwrite with the same definitions changes nothing
    at Discord, costs one request, and a server the bot is not in fails the start of every process loudly
    (:class:`NotInGuild`) rather than only a later gateway holder's."""
    if config.token is None or config.guild_id is None:
        raise ValueError("[discord] needs token and guild_id")
    turns = turns or SoleTurns()
    roles = RoleMap(config.guild_id, config.member_role, config.coordinator_role)
    handler = InteractionHandler(dispatcher, translator, language, clock, roles, ActionTokens(stores.action_tokens),
                                 OnceInteractions(stores.seen, clock))
    shard_count, shard_ids = config.shards

    def describe(text: Msg) -> str:
        return translator.render(text, language)

    def commands() -> list[app_commands.Command[Any, ..., Any] | app_commands.Group]:
        return build_commands(dispatcher.registry, describe, handler.run_command, handler.complete)

    with _endpoints(config.api_base_url, config.gateway_url):
        bucket = global_budget(global_limit)
        trace = global_limit_trace(bucket, GlobalWindow(global_limit))
        clients = {shard: CoalitionClient(handler, config.guild_id, http_trace=trace, shard_id=shard,
                                          shard_count=shard_count) for shard in shard_ids}
        home = home_shard(config.guild_id, shard_count)
        client = clients.get(home) or clients[shard_ids[0]]  # REST, delivery, and the server's cache if held here
        guild = discord.Object(config.guild_id)
        async with contextlib.AsyncExitStack() as stack:
            for each in clients.values():
                await stack.enter_async_context(each)
                await each.login(config.token.get_secret_value())
                await each.tree.set_translator(DescriptionTranslator(translator, language))
                for command in commands():  # every shard's client dispatches its interactions
                    each.tree.add_command(command, guild=guild)
                for command in commands() if config.global_sync else ():
                    each.tree.add_command(command)
            try:
                await client.tree.sync(guild=guild)  # instant in the coalition's server
            except discord.Forbidden as error:  # 50001: the application is not in that server
                raise NotInGuild(config.guild_id, error.code, _invite(client)) from error
            if config.global_sync:  # everywhere the bot is, DMs included; Discord may take up to an hour
                await client.tree.sync()
            gateways = tuple(ShardGateway(each, shard, turns) for shard, each in clients.items())
            holding = [asyncio.create_task(gateway.run(), name=f"discord-shard-{gateway.shard_id}")
                       for gateway in gateways]
            stack.push_async_callback(stop, holding)
            # Several processes: the holder of the server's shard publishes (one without it: while it holds its first).
            publishing_shard = home if home in clients else shard_ids[0]
            publishes = PublishQueue(stores.publishes, client, clock,
                                     active=lambda: publishing_shard in turns.held())
            await settled(gateways, READY_TIMEOUT_SECONDS)
            if socket_open(client) and client.get_guild(config.guild_id) is None and home in clients:
                log.warning("Discord: the bot is not in the configured server %s; add it with %s",
                            config.guild_id, _invite(client))
            delivery = DiscordDelivery(client, config.guild_id, stores.people, handler, stores.send_attempts,
                                       publishes, clock, roles=roles, pace=bucket.acquire,
                                       may_publish=functools.partial(stores.may_forward, PLATFORM),
                                       forget_dm=stores.forget_dm)
            publisher = asyncio.create_task(publishes.run(), name="discord-publish")
            stack.push_async_callback(stop, [publisher])
            # It takes a token per request itself: the worker only slows it down after a 429.
            yield DiscordRunner(client=client, delivery=delivery, publishes=publishes, handler=handler,
                                guild_id=config.guild_id, outlet=Outlet(delivery, bucket, self_paced=True),
                                gateways=gateways, turns=turns)

