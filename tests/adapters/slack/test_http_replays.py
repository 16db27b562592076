"""Slack HTTP mode under hostile traffic: an exact replay of a signed request runs nothing (even after a
restart: the signatures are kept in the database), and malformed signature headers answer 400/401, never
500, with nothing run. The real bolt app over HTTP (mounted on the bot's web site), on a real SQLite file."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest

from storage.database import Database
from storage.replays import SqliteReplays
from tests.adapters.slack.test_http_and_manifest import events_url
from tests.adapters.slack.test_slack_adapter import ADMIN, everyone, slack_app, text_of
from tests.fakes.slack_server import FakeSlack, sign, slash_command_form
from tests.postgres_server import storage_target

SECRET = "s3cret"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def create_topic(fake: FakeSlack, slug: str) -> str:
    return slash_command_form(fake.slash_command_payload(command="/coalition", user_id=ADMIN,
                                                         text=f"topic create {slug} {slug.title()}"))


async def post(http: aiohttp.ClientSession, url: str, body: str | bytes, headers: dict[str, str]) -> int:
    async with http.post(url, data=body, headers={**FORM, **headers}) as response:
        await response.read()
        return response.status


async def test_exact_replay_of_a_signed_request_is_refused_even_after_a_restart(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        body = create_topic(fake, "climate")
        headers = sign(body, SECRET, int(time.time()))
        async with slack_app(tmp_path, fake, mode="http", app_token=None) as app, events_url(app) as url, \
                aiohttp.ClientSession() as http:
            assert await post(http, url, body, headers) == 200
            assert "created" in text_of(await fake.next_response())
            assert await post(http, url, body, headers) == 401  # the replay
            # A fresh request still runs; by its answer, the replay has had every chance to answer too.
            water = create_topic(fake, "water")
            assert await post(http, url, water, sign(water, SECRET, int(time.time()))) == 200
            await fake.next_response()
        assert len(fake.responses) == 2

        async with slack_app(tmp_path, fake, mode="http", app_token=None) as app, events_url(app) as url, \
                aiohttp.ClientSession() as http:
            assert await post(http, url, body, headers) == 401  # the database remembers across a restart
        assert len(fake.responses) == 2


async def test_malformed_signature_headers_answer_400_or_401_never_500_and_run_nothing(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        body = create_topic(fake, "climate")
        now = int(time.time())
        good = sign(body, SECRET, now)
        malformed: list[dict[str, str]] = [
            {**good, "X-Slack-Request-Timestamp": "not-a-number"},
            {**good, "X-Slack-Request-Timestamp": ""},
            {**good, "X-Slack-Request-Timestamp": f"+{now}"},
            {**good, "X-Slack-Request-Timestamp": "1e9"},
            {**good, "X-Slack-Request-Timestamp": "9" * 40},
            {**good, "X-Slack-Signature": "v0=zz"},
            {**good, "X-Slack-Signature": ""},
            {"X-Slack-Signature": good["X-Slack-Signature"]},
            {"X-Slack-Request-Timestamp": str(now)},
        ]
        async with slack_app(tmp_path, fake, mode="http", app_token=None) as app, events_url(app) as url, \
                aiohttp.ClientSession() as http:
            for headers in malformed:
                assert await post(http, url, body, headers) in (400, 401), headers
            not_utf8 = b"text=\xff\xfe"
            assert await post(http, url, not_utf8, sign("text=", SECRET, now)) in (400, 401)
            assert fake.calls == [] and fake.responses == []
            assert await app.store.topics.by_slug("climate") is None
            assert await SqliteReplays(app.store.db).count() == 0  # nothing refused is remembered

            assert await post(http, url, body, good) == 200  # the well-formed request still runs once
            assert "created" in text_of(await fake.next_response())


async def test_replay_memory_forgets_signatures_older_than_the_window(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        replays = SqliteReplays(db)
        assert await replays.claim("v0=old", 1_000, forget_before=0)
        assert not await replays.claim("v0=old", 1_000, forget_before=0)
        assert await replays.claim("v0=new", 2_000, forget_before=1_500)
        assert await replays.count() == 1  # the old one is gone: its timestamp fails the freshness check
        assert not await replays.claim("v0=new", 2_000, forget_before=1_500)


@pytest.mark.postgresql_only
async def test_two_processes_on_one_database_each_answer_and_refuse_each_others_replays(tmp_path: Path) -> None:
    """HTTP mode behind a load balancer: any process answers a request, and a replay sent to the other process is
    refused there too (the signatures are claimed in the database they share). SQLite is one process's alone."""
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake, mode="http", app_token=None) as one, events_url(one) as first, \
                slack_app(tmp_path, fake, mode="http", app_token=None) as other, events_url(other) as second, \
                aiohttp.ClientSession() as http:
            assert first != second
            climate, water = create_topic(fake, "climate"), create_topic(fake, "water")
            climate_headers = sign(climate, SECRET, int(time.time()))
            assert await post(http, first, climate, climate_headers) == 200
            assert "created" in text_of(await fake.next_response())
            water_headers = sign(water, SECRET, int(time.time()))
            assert await post(http, second, water, water_headers) == 200
            assert "created" in text_of(await fake.next_response())

            assert await post(http, second, climate, climate_headers) == 401  # replayed to the other process
            assert await post(http, first, water, water_headers) == 401
            # A fresh request still runs; by its answer, the replays have had every chance to answer too.
            energy = create_topic(fake, "energy")
            assert await post(http, second, energy, sign(energy, SECRET, int(time.time()))) == 200
            await fake.next_response()
            assert len(fake.responses) == 3
            for slug in ("climate", "water", "energy"):
                assert await other.store.topics.by_slug(slug) is not None
