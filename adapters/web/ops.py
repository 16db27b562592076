"""Operations endpoints: ``/healthz`` (the process runs), ``/readyz`` (it can do its work), ``/metrics``.

Why two checks: an orchestrator restarts a process whose ``/healthz`` fails, and stops sending traffic to one
whose ``/readyz`` fails. A Discord gateway that is reconnecting, or a database that is briefly locked, is a
reason to wait, not to restart, so only ``/readyz`` looks at them.

``/readyz`` names what is not ready (``database``, a platform's name) and nothing else: no token, no address, no
error text, no message. ``/metrics`` carries counts under closed label sets only (see
:mod:`adapters.web.prometheus`).

Platform readiness comes in as probes, one per configured platform, so this module imports no platform SDK;
:func:`discord_gateway` and :func:`slack_socket` build them from what the Discord and Slack adapters keep
(typed structurally here for the same reason).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from adapters.web.prometheus import PrometheusMetrics
from bot.metrics import HealthStore

__all__ = ["CHECK_SECONDS", "Probe", "always_ready", "discord_gateway", "not_connected", "ops_routes",
           "slack_socket"]

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
"""Each readiness check and the queue-depth query give up after this: a probe that hangs is a probe that failed,
and an orchestrator's own timeout must not fire first."""

Probe = Callable[[], Awaitable[bool]]
"""Whether a platform is connected now. Raising counts as not ready."""


def ops_routes(health: HealthStore, platforms: Mapping[str, Probe], metrics: PrometheusMetrics, *,
               metrics_token: str | None = None, check_seconds: float = CHECK_SECONDS) -> list[web.RouteDef]:
    """The routes for :func:`adapters.web.server.build_site`. ``platforms``: a probe per *configured* platform,
    by name, read on every request (a configured platform not connected yet appears as :func:`not_connected`);
    ``metrics``: the instance the composition root gave the worker and the dispatcher.

    ``/metrics`` answers only a request bearing ``metrics_token`` (``Authorization: Bearer …``); without a
    token configured it does not exist (404, like any unknown page). Why: the site is public, and counts of
    commands and deliveries rising tell anyone *when* members-only work happens."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        checks: dict[str, Probe] = {"database": _pinged(health), **platforms}
        names = sorted(checks)
        results = await asyncio.gather(*(_passes(name, checks[name], check_seconds) for name in names))
        not_ready = [name for name, ok in zip(names, results, strict=True) if not ok]
        if not_ready:
            return web.json_response({"status": "not ready", "not_ready": not_ready}, status=503)
        return web.json_response({"status": "ready"})

    async def metrics_view(request: web.Request) -> web.Response:
        if metrics_token is None or not hmac.compare_digest(request.headers.get("Authorization", ""),
                                                             f"Bearer {metrics_token}"):
            raise web.HTTPNotFound()
        try:
            async with asyncio.timeout(check_seconds):
                depth: Mapping[str, int] | None = await health.open_deliveries()
        except Exception:
            log.warning("metrics: the outbox queue depth could not be read")
            depth = None
        metrics.set_queue_depth(depth)
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics_view)]


def _pinged(health: HealthStore) -> Probe:
    async def probe() -> bool:
        await health.ping()
        return True
    return probe


async def _passes(name: str, probe: Probe, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            return await probe()
    except Exception:  # a timeout too: whatever went wrong, it is not ready (the name only, never the error)
        log.warning("readiness: %s is not ready", name, exc_info=True)
        return False


async def not_connected() -> bool:
    """For a configured platform still connecting: the composition root replaces it once the platform is up
    (``platforms`` is read on every request)."""
    return False


async def always_ready() -> bool:
    """For a platform with no connection of its own to watch (Slack in HTTP mode: its endpoint is this site)."""
    return True


class _Socket(Protocol):
    @property
    def open(self) -> bool: ...


class GatewayClient(Protocol):
    """What :func:`discord_gateway` reads: a ``discord.Client`` (``DiscordRunner.client``)."""

    def is_ready(self) -> bool: ...
    def is_closed(self) -> bool: ...
    @property
    def ws(self) -> _Socket | None: ...


def discord_gateway(client: GatewayClient) -> Probe:
    """Ready while the client received READY, is not closed, and its gateway socket is open (between a drop and
    the RESUME that follows, it is not)."""

    async def probe() -> bool:
        ws = client.ws
        return client.is_ready() and not client.is_closed() and ws is not None and ws.open
    return probe


class SocketConnection(Protocol):
    """What :func:`slack_socket` reads: a Socket Mode client (``AsyncSocketModeHandler.client``)."""

    async def is_connected(self) -> bool: ...


def slack_socket(connection: SocketConnection) -> Probe:
    """Ready while the Socket Mode connection is up and not stale (slack_sdk's own test, ping-pong included)."""

    async def probe() -> bool:
        return await connection.is_connected()
    return probe
