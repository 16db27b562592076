"""The public web site's part of the composition root: the read-only service for anonymous readers, the one
aiohttp application with every route table and mounted sub-application, and whether it runs at all.

Kept beside :mod:`app.assembly` (which calls it) so the root stays one screenful per concern. The site is built
with the app but listens only while :meth:`app.assembly.App.serve` runs: tests that drive ``run_due`` open no
port, and the web fixture listens on port 0 itself. Slack's HTTP mode has no server of its own: its events
endpoint is mounted on this site, so one ``[web]`` host/port serves pages, feeds, operations and Slack.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from types import MappingProxyType
from typing import TextIO

from aiohttp import web
from pydantic import SecretStr

from adapters.slack.manifest import EVENTS_PATH
from adapters.web.email import email_routes
from adapters.web.feeds import feed_routes
from adapters.web.ops import Probe, ops_routes
from adapters.web.pages import LABELS, Pages, listening, page_routes
from adapters.web.prometheus import PrometheusMetrics
from adapters.web.render import Renderer, SiteConfig
from adapters.web.server import RouteTable, SiteAddress, build_site, serving
from app.services import Services
from app.settings import Settings
from bot.email.service import EmailFollowers
from bot.i18n import Translator
from bot.metrics import HealthStore
from bot.ports import Store
from bot.public.service import PublicService

log = logging.getLogger(__name__)


def public_service(services: Services, store: Store) -> PublicService:
    return PublicService(store, services.clock, services.topics, services.meetings, services.resources,
                         language=services.config.default_language)


def site_config(settings: Settings) -> SiteConfig:
    return SiteConfig(coalition=settings.coalition.name, default_language=settings.coalition.language,
                      base_url=settings.web.base_url, indexable=settings.web.indexable)


def build_web(settings: Settings, services: Services, public: PublicService, *, health: HealthStore,
              probes: Mapping[str, Probe], metrics: PrometheusMetrics,
              mounts: Mapping[str, web.Application] = MappingProxyType({}),
              extra: tuple[RouteTable, ...] = (), email: EmailFollowers | None = None) -> web.Application | None:
    """The site: the pages, the Atom feeds and calendars, the operations endpoints (health, readiness,
    metrics), then ``extra`` route tables (tests); every table passes the same security middleware and 404
    page. ``probes`` is read on every readiness check, so platforms connected later still count. ``mounts``
    are sub-applications by path prefix (Slack's events endpoint in HTTP mode, see :func:`build_site`).

    ``[web] enabled = false`` turns off what the site itself serves — pages, feeds, calendars and the
    operations endpoints — but not ``mounts``: Slack in HTTP mode still gets its endpoint on ``[web]``
    host/port, alone on the server. With nothing to serve, nothing is built and nothing listens.

    ``email``: followers by email are on; topic pages get the subscribe form, and the confirm, manage and
    unsubscribe pages their links point to are served."""
    if not settings.web.enabled:
        return build_site((), indexable=settings.web.indexable, mounts=mounts) if mounts else None
    renderer = Renderer(services.translator, site_config(settings), LABELS)
    pages = Pages(public, renderer, email_enabled=email is not None)
    feeds = feed_routes(public, services.translator, services.clock, coalition_name=settings.coalition.name,
                        default_language=settings.coalition.language, base_url=settings.web.base_url,
                        coalition_slug=services.meetings.coalition_slug)
    ops = ops_routes(health, probes, metrics, metrics_token=_secret(settings.web.metrics_token))
    tables: list[RouteTable] = [page_routes(pages), feeds, ops, *extra]
    if email is not None:
        tables.append(email_routes(email, renderer, pages.topic, my_data=services.privacy.export_of,
                                   link=services.links.claim))
    return build_site(tables, error_page=pages.error, indexable=settings.web.indexable, mounts=mounts)


def slack_over_http(settings: Settings) -> bool:
    """Whether Slack's events arrive through this site (HTTP mode), so the site must listen."""
    return settings.slack.configured and settings.slack.mode == "http"


async def listen(site: web.Application | None, settings: Settings, stack: AsyncExitStack,
                 say: Callable[[str], None] | None, translator: Translator) -> SiteAddress | None:
    """Open the site on ``[web]`` host/port until ``stack`` closes, and tell the console user where the public
    pages are (when they are on). A port another program holds is logged, and the bot serves chat without its
    pages rather than not at all — unless Slack runs in HTTP mode: without the port no Slack event arrives,
    so the error stops the bot, as it did when Slack listened on its own."""
    if site is None:
        return None
    host, port = settings.web.host, settings.web.port
    try:
        address = await stack.enter_async_context(serving(site, host, port,
                                                          log_addresses=settings.web.log_addresses))
    except OSError as error:
        if slack_over_http(settings):
            log.error("web: cannot listen on %s:%s (%s); Slack's HTTP mode needs it", host, port, error)
            raise
        log.error("web: cannot listen on %s:%s (%s); serving without the public pages", host, port, error)
        return None
    if slack_over_http(settings):
        log.info("Slack: listening for events on %s%s", address.url.rstrip("/"), EVENTS_PATH)
    if say is not None and settings.web.enabled:
        say(translator.render(listening(address.url), settings.coalition.language))
    return address


def printer(output: TextIO | None) -> Callable[[str], None]:
    """Writes a line for the console user (standard output unless the app was given another stream)."""
    def say(line: str) -> None:
        stream = output or sys.stdout
        stream.write(line + "\n")
        stream.flush()
    return say


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()
