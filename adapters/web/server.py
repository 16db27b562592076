"""One aiohttp application per process for everything the bot serves over HTTP: the public pages (part
"site"), feeds and calendars, operations endpoints, whatever route tables the composition root adds, and the
sub-applications it mounts (Slack's events endpoint in HTTP mode).

Every response passes :func:`security_headers`: a strict Content-Security-Policy (nothing from another origin;
inline styles and scripts only with this response's nonce), no sniffing, no referrer, no framing. Access logs
leave out client addresses unless ``log_addresses`` is set (coalitions under threat should not keep a list of
who read what), and query strings always (they hold what readers searched for, and link tokens).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import MappingProxyType

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

log = logging.getLogger(__name__)

NONCE_KEY = web.RequestKey("csp_nonce", str)
"""``request[NONCE_KEY]``: this response's CSP nonce, for the page's one ``<style>`` and ``<script>``."""

ErrorPage = Callable[[web.Request, int], Awaitable[web.StreamResponse]]
RouteTable = Sequence[web.RouteDef]

def route_of(request: web.BaseRequest) -> str:
    """What an access log names: the route's pattern (``/email/manage/{key}``, ``/topics/{slug}``), never the
    path — a path holds link secrets (confirm tokens, manage keys) and says which topic or announcement someone
    read — and never the query string (what a reader searched for). ``-`` when no route matched."""
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None)
    return resource.canonical if resource is not None else "-"


class AccessLog(AbstractAccessLogger):
    """One line per request: method, route pattern (:func:`route_of`), status, size and time; never the client's
    address."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %s %.6f", request.method, route_of(request), response.status,
                         response.body_length, time)


class AccessLogWithAddresses(AbstractAccessLogger):
    """:class:`AccessLog` with the client's address first (``[web] log_addresses``)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %s %s %.6f", request.remote, request.method, route_of(request),
                         response.status, response.body_length, time)


def csp(nonce: str) -> str:
    return ("default-src 'none'; "
            f"style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
            "img-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def _headers(response: web.StreamResponse, nonce: str, indexable: bool) -> None:
    headers = response.headers
    if not indexable:  # feeds and calendars too, which carry no <meta name="robots">
        headers["X-Robots-Tag"] = "noindex, nofollow"
    headers["Content-Security-Policy"] = csp(nonce)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "interest-cohort=(), camera=(), microphone=(), geolocation=()"


def security_headers(error_page: ErrorPage | None, *,
                     indexable: bool = True) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The middleware: a fresh nonce per request, the headers on every response (errors included; with
    ``indexable`` off, ``X-Robots-Tag: noindex``), and every 404 and 405 answered by ``error_page`` — one answer
    for "missing" and "not yours to see" — as is a bug (500), in the reader's language."""

    @web.middleware
    async def middleware(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        nonce = secrets.token_urlsafe(16)
        request[NONCE_KEY] = nonce
        try:
            response = await handler(request)
        except web.HTTPException as error:
            response = await _answer(request, error, error_page)
        except Exception:
            # The path only: a query string can carry what a reader typed.
            log.exception("web: %s %s failed", request.method, request.path)
            response = await _failed(request, error_page)
        _headers(response, nonce, indexable)
        return response

    return middleware


async def _failed(request: web.Request, error_page: ErrorPage | None) -> web.StreamResponse:
    """A bug's answer: the site's own page in the reader's language (it names no cause), or a plain 500 when even
    that page cannot be made (the fault may be in rendering itself)."""
    if error_page is not None:
        try:
            return await error_page(request, 500)
        except Exception:
            log.exception("web: the error page failed too")
    return web.Response(status=500, text="500: Internal Server Error")


async def _answer(request: web.Request, error: web.HTTPException, error_page: ErrorPage | None) -> web.StreamResponse:
    """What an HTTP exception answers: the site's own page for 400, 404 and 405, else a plain copy of it."""
    if error.status in (400, 404, 405) and error_page is not None:
        response = await error_page(request, error.status)
        if error.status == 405:
            response.headers["Allow"] = error.headers.get("Allow", "GET, HEAD")
        return response
    # A copy: returning the exception itself is deprecated in aiohttp.
    return web.Response(status=error.status, reason=error.reason, text=error.text, headers=error.headers)


def build_site(route_tables: Iterable[RouteTable], *, error_page: ErrorPage | None = None, indexable: bool = True,
               middlewares: Sequence[Callable[..., Awaitable[web.StreamResponse]]] = (),
               mounts: Mapping[str, web.Application] = MappingProxyType({})) -> web.Application:
    """The application: part 1's ``page_routes(...)``, then each extra table the composition root hands in
    (``feed_routes(...)``, ``ops_routes(...)`` …) — EXTRA ROUTE TABLES GO HERE, in the order given. A route
    defined twice is a programming error (aiohttp refuses it at build time).

    ``mounts`` are sub-applications by path prefix (the Slack events endpoint at ``/slack``): they keep their
    own middlewares (Slack's replay guard runs in front of bolt) and answer with their own status, body and
    headers; this site only adds its security headers, and answers for them only what they raise (a 404 or
    405 under the prefix gets the site's page)."""
    app = web.Application(middlewares=[security_headers(error_page, indexable=indexable), *middlewares],
                          client_max_size=256 * 1024)
    for table in route_tables:
        app.add_routes(table)
    for prefix, sub in mounts.items():
        app.add_subapp(prefix, sub)
    return app


@dataclass(frozen=True, slots=True)
class SiteAddress:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


@asynccontextmanager
async def serving(app: web.Application, host: str, port: int, *,
                  log_addresses: bool = False) -> AsyncIterator[SiteAddress]:
    """Listen on ``host``:``port`` (0: any free port) until the block ends; yields where it listens."""
    runner = web.AppRunner(app, access_log_class=AccessLogWithAddresses if log_addresses else AccessLog,
                           handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        address = SiteAddress(str(bound[0]), int(bound[1]))
        log.info("web: listening on %s", address.url)
        yield address
    finally:
        await runner.cleanup()
