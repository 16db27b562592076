"""Bolt wiring: the web client, the listeners, Socket Mode or the HTTP endpoint, and the delivery adapter.

:func:`running` is the entry point the composition root enters on its exit stack; leaving it closes the
socket, then the web client's session — on every path. In HTTP mode nothing listens here: the runner hands
the composition root :attr:`SlackRunner.events`, which the one web site mounts at :data:`EVENTS_PREFIX`, so
Slack's events share ``[web]`` host/port with the pages, feeds and operations endpoints.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.delivery import SlackDelivery
from adapters.slack.handlers import SlackHandlers
from adapters.slack.http_guard import replay_guard
from adapters.slack.identity import SlackDirectory
from adapters.slack.manifest import EVENTS_PATH, shortcut_commands
from adapters.slack.replies import Replies
from adapters.slack.retries import delivery_client, interactive_client
from adapters.slack.seen import OnceSocketModeHandler, SeenDeliveries
from adapters.slack.settings import SlackSettings
from bot.adapter_stores import ReplayStore
from bot.commands.dispatcher import Dispatcher
from bot.delivery.pacing import AdaptiveBucket
from bot.delivery.worker import Outlet
from bot.i18n import Translator
from bot.model import Identity

log = logging.getLogger(__name__)

WORKSPACE_FLOOR = 1.0
WORKSPACE_DECREASE = 0.7
"""After a workspace 429 the budget drops to this share of itself; it creeps back after a clean minute."""
EVENTS_PREFIX, _, _EVENTS_LEAF = EVENTS_PATH.rpartition("/")
"""Where the web site mounts :attr:`SlackRunner.events` (``/slack``), so the endpoint is :data:`EVENTS_PATH`."""


def workspace_budget(start: float, ceiling: float) -> AdaptiveBucket:
    """The workspace's chat.postMessage budget: Slack does not publish it, so it is learnt (AIMD) from ``start``,
    never above ``ceiling``. A burst of one: a full second saved up would overshoot a cap the budget sits at."""
    return AdaptiveBucket(start, 1.0, floor=min(WORKSPACE_FLOOR, start), ceiling=max(start, ceiling),
                          decrease=WORKSPACE_DECREASE, name="Slack workspace")


@dataclass
class SlackRunner:
    """What is running; in HTTP mode, ``events`` is the endpoint for the web site to mount."""

    bolt: AsyncApp
    client: AsyncWebClient
    """Bolt's, the handlers' and replies' client (see :mod:`adapters.slack.retries` for what it retries)."""
    delivery_client: AsyncWebClient
    """What deliveries are posted through: it never re-sends a post nor waits out a rate limit."""
    delivery: SlackDelivery
    directory: SlackDirectory
    handlers: SlackHandlers
    mode: str
    outlet: Outlet
    """What the delivery worker sends through, paced by the workspace budget (AIMD: it learns from 429s)."""
    events: web.Application | None = None
    """HTTP mode: the events endpoint as a sub-application to mount at :data:`EVENTS_PREFIX` (see
    :func:`events_app`); ``None`` in Socket Mode."""
    socket: AsyncSocketModeHandler | None = None
    """The Socket Mode connection (``None`` in HTTP mode): the web site's readiness check asks it."""

    @property
    def web_mounts(self) -> dict[str, web.Application]:
        """What the web site mounts, by path prefix: the events endpoint in HTTP mode, nothing in Socket Mode."""
        return {} if self.events is None else {EVENTS_PREFIX: self.events}


@asynccontextmanager
async def running(slack: SlackSettings, dispatcher: Dispatcher, *, workspace_per_second: float,
                  workspace_max_per_second: float, language: str, replays: ReplayStore,
                  seen: SeenDeliveries | None = None,
                  remember_dm: Callable[[Identity, str], Awaitable[None]] | None = None,
                  forget_dm: Callable[[Identity, str], Awaitable[bool]] | None = None) -> AsyncIterator[SlackRunner]:
    """``workspace_per_second`` is where the workspace's send budget starts, ``workspace_max_per_second`` the most
    it may learn to (see :func:`workspace_budget`); ``language`` the coalition's, for what Slack shows before a
    person is known (in HTTP mode the web site listens and mounts :attr:`SlackRunner.web_mounts`); ``replays``
    remembers the signatures
    HTTP mode accepted, so a replayed request is refused; ``seen`` the Socket Mode deliveries handled already, so
    one Slack delivers again (a retry, maybe to another process) is handled once (see :mod:`adapters.slack.seen`;
    ``None`` remembers nothing, for a lone process only); ``remember_dm``/``forget_dm`` keep DM channel ids (see
    :class:`SlackDelivery`)."""
    if slack.mode == "socket" and not (slack.app_token and slack.app_token.get_secret_value()):
        raise ValueError("[slack] mode = \"socket\" needs app_token (xapp-…); or use mode = \"http\"")
    if slack.mode == "http" and not (slack.signing_secret and slack.signing_secret.get_secret_value()):
        raise ValueError("[slack] mode = \"http\" needs signing_secret")

    client = interactive_client(slack)
    posting = delivery_client(slack)
    registry = dispatcher.registry
    translator = Translator.load()
    # The directory's calls (users.info …) are retried only after a dropped connection, never after a 429, so
    # the worker's role re-check through it never waits out a rate limit either.
    directory = SlackDirectory(client, coordinator_group=slack.coordinator_group)
    delivery = SlackDelivery(posting, dedupe_after_crash=slack.dedupe_after_crash, directory=directory,
                             remember_dm=remember_dm, forget_dm=forget_dm)
    handlers = SlackHandlers(dispatcher, directory, registry, translator, umbrella=slack.umbrella_command,
                             shortcuts=shortcut_commands(registry, slack.umbrella_command),
                             default_language=language, replies=Replies(client, translator))
    bolt = AsyncApp(client=client, name="coalition-bot", signing_secret=(
        slack.signing_secret.get_secret_value() if slack.signing_secret else None))
    handlers.register(bolt)
    outlet = Outlet(delivery, workspace_budget(workspace_per_second, workspace_max_per_second), shared=(delivery,))

    runner = SlackRunner(bolt=bolt, client=client, delivery_client=posting, delivery=delivery, directory=directory,
                         handlers=handlers, mode=slack.mode, outlet=outlet)
    async with AsyncExitStack() as stack:
        if slack.mode == "socket":
            assert slack.app_token is not None
            token = slack.app_token.get_secret_value()
            socket = (AsyncSocketModeHandler(bolt, app_token=token) if seen is None
                      else OnceSocketModeHandler(bolt, app_token=token, seen=seen))
            await socket.connect_async()  # type: ignore[no-untyped-call]
            stack.push_async_callback(socket.close_async)
            runner.socket = socket
            log.info("Slack: connected in Socket Mode")
        else:
            assert slack.signing_secret is not None
            # In front of bolt's handler: malformed headers and replays never reach it (see http_guard).
            runner.events = events_app(bolt, replay_guard(slack.signing_secret.get_secret_value(), replays,
                                                          EVENTS_PATH))
            log.info("Slack: HTTP mode, events at %s on the web site", EVENTS_PATH)
        yield runner


def events_app(bolt: AsyncApp, guard: Middleware) -> web.Application:
    """Bolt's events endpoint as a sub-application, ``guard`` in front of it. Not ``bolt.web_app()``: its handler
    answers 404 unless the request's full path equals the path it was built with, which under a mount prefix it
    never does. The handler is bolt's own, through bolt's aiohttp adapter, so Slack gets bolt's status, body
    and headers unchanged."""

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application(middlewares=[guard])
    app.router.add_post(f"/{_EVENTS_LEAF}", handle)
    return app
