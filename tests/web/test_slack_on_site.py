"""Slack's HTTP mode on the one web site: the events endpoint shares ``[web]`` host/port with the pages, feeds and
operations endpoints, opened by :meth:`App.serve` itself. Signed requests from the fake Slack reach the bot and
Slack gets bolt's own answers (status, body, content type), while ``/`` serves the home page on the same port;
replayed or badly signed requests are refused by the replay guard as before, with nothing run. ``[web] enabled =
false`` leaves Slack's endpoint alone on the port; in Socket Mode the site has no Slack endpoint at all. The real
app, real bolt, real HTTP on loopback, a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, ClientTimeout

from adapters.slack.manifest import EVENTS_PATH
from app.assembly import App, build_app
from app.web import listen
from tests.adapters.slack.test_slack_adapter import ADMIN, everyone, install, slack_settings, text_of
from tests.fakes.slack_server import FakeSlack, sign, slash_command_form
from tests.support import FixedClock

WAIT = 30.0
SECRET = "s3cret"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@asynccontextmanager
async def serving_app(tmp_path: Path, fake: FakeSlack, *, web: dict[str, Any] | None = None,
                      **slack: Any) -> AsyncIterator[tuple[App, str]]:
    """The app built from Slack settings (``[web]`` on 127.0.0.1:0), running :meth:`App.serve` until the block
    ends; yields the app and the site's base URL as ``serve`` opened it."""
    settings = slack_settings(tmp_path, fake, **slack)
    if web:
        settings = settings.model_copy(update={"web": settings.web.model_copy(update=web)})
    install(fake, settings)
    async with build_app(settings, clock=FixedClock()) as app:
        stop = asyncio.Event()
        serving = asyncio.create_task(app.serve(stop))
        try:
            async with asyncio.timeout(WAIT):
                while app.site_address is None:
                    assert not serving.done(), serving.exception()
                    await asyncio.sleep(0.01)
            yield app, app.site_address.url
        finally:
            stop.set()
            async with asyncio.timeout(WAIT):
                await serving


def command_body(fake: FakeSlack, text: str) -> str:
    return slash_command_form(fake.slash_command_payload(command="/coalition", user_id=ADMIN, text=text))


async def post(http: ClientSession, url: str, body: str, headers: dict[str, str]) -> tuple[int, str, str]:
    async with asyncio.timeout(WAIT), http.post(url, data=body, headers={**FORM, **headers}) as response:
        return response.status, response.content_type, await response.text()


async def get(http: ClientSession, url: str) -> tuple[int, str, str]:
    async with asyncio.timeout(WAIT), http.get(url) as response:
        return response.status, response.content_type, await response.text()


async def test_slack_events_and_the_home_page_share_the_port_serve_opens(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with serving_app(tmp_path, fake, mode="http", app_token=None) as (app, base), \
                ClientSession(timeout=ClientTimeout(total=WAIT)) as http:
            events = base.rstrip("/") + EVENTS_PATH
            status, kind, html = await get(http, base)
            assert (status, kind) == (200, "text/html") and "<html" in html
            assert app.settings.coalition.name in html

            body = command_body(fake, "topic create climate Climate")
            assert await post(http, events, body, sign(body, SECRET, int(time.time()))) == (200, "text/plain", "")
            assert "created" in text_of(await fake.next_response())
            assert await app.store.topics.by_slug("climate") is not None

            # A body of bolt's own passes unchanged: the Events API's URL check answers its challenge as JSON.
            check = json.dumps({"type": "url_verification", "challenge": "c4ll3nge", "token": "t"})
            status, kind, answer = await post(http, events, check, {"Content-Type": "application/json",
                                                                    **sign(check, SECRET, int(time.time()))})
            assert (status, kind, json.loads(answer)) == (200, "application/json", {"challenge": "c4ll3nge"})

            status, _, health = await get(http, base + "healthz")
            assert status == 200, health
            # The site's own answers under Slack's prefix: a GET of the endpoint is not bolt's business.
            assert (await get(http, events))[0] == 405
            assert (await get(http, base + "slack/other"))[0] == 404
        assert len(fake.responses) == 1 and fake.calls_to("apps.connections.open") == []


async def test_replayed_or_badly_signed_requests_are_refused_on_the_site_and_run_nothing(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with serving_app(tmp_path, fake, mode="http", app_token=None) as (app, base), \
                ClientSession(timeout=ClientTimeout(total=WAIT)) as http:
            events = base.rstrip("/") + EVENTS_PATH
            body = command_body(fake, "topic create climate Climate")
            now = int(time.time())
            good = sign(body, SECRET, now)
            refusals = [(sign(body, "wrong-secret", now), 401, "invalid request"),
                        (sign(body, SECRET, now - 301), 401, "invalid request"),
                        ({}, 401, "missing signature"),
                        ({**good, "X-Slack-Request-Timestamp": "soon"}, 400, "malformed signature headers")]
            for headers, code, reason in refusals:
                # The guard's own answers: the site's error page does not replace them.
                status, kind, answer = await post(http, events, body, headers)
                assert (status, kind, json.loads(answer)) == (code, "application/json", {"error": reason}), headers
            assert fake.calls == [] and fake.responses == []
            assert await app.store.topics.by_slug("climate") is None

            assert (await post(http, events, body, good))[0] == 200
            assert "created" in text_of(await fake.next_response())
            status, kind, answer = await post(http, events, body, good)  # the exact replay
            assert (status, kind, json.loads(answer)) == (401, "application/json", {"error": "replayed request"})
            water = command_body(fake, "topic create water Water")
            assert (await post(http, events, water, sign(water, SECRET, int(time.time()))))[0] == 200
            await fake.next_response()  # by this answer the replay has had every chance to run too
        assert len(fake.responses) == 2


async def test_web_disabled_leaves_slack_alone_on_the_port(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with serving_app(tmp_path, fake, web={"enabled": False}, mode="http", app_token=None) as (app, base), \
                ClientSession(timeout=ClientTimeout(total=WAIT)) as http:
            for path in ("", "healthz", "metrics", "feeds/all.atom"):
                assert (await get(http, base + path))[0] == 404, path
            body = command_body(fake, "topic create climate Climate")
            assert (await post(http, base.rstrip("/") + EVENTS_PATH, body, sign(body, SECRET, int(time.time()))))[0] \
                == 200
            assert "created" in text_of(await fake.next_response())
            assert await app.store.topics.by_slug("climate") is not None


async def test_socket_mode_site_has_no_slack_endpoint_and_web_disabled_opens_no_port(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with serving_app(tmp_path, fake) as (app, base), \
                ClientSession(timeout=ClientTimeout(total=WAIT)) as http:
            body = command_body(fake, "topic create climate Climate")
            status, _, _ = await post(http, base.rstrip("/") + EVENTS_PATH, body, sign(body, SECRET, int(time.time())))
            assert status == 404 and (await get(http, base))[0] == 200
            assert await app.store.topics.by_slug("climate") is None
        settings = slack_settings(tmp_path, fake)
        settings = settings.model_copy(update={"web": settings.web.model_copy(update={"enabled": False})})
        async with build_app(settings, clock=FixedClock()) as app:
            assert app.site is None


async def test_a_taken_port_stops_slack_http_mode_instead_of_serving_deaf(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        async with FakeSlack() as fake:
            settings = slack_settings(tmp_path, fake, mode="http", app_token=None)
            settings = settings.model_copy(update={"web": settings.web.model_copy(update={"port": port})})
            install(fake, settings)
            async with build_app(settings, clock=FixedClock()) as app, AsyncExitStack() as stack:
                with pytest.raises(OSError):
                    await listen(app.site, settings, stack, None, app.services.translator)
