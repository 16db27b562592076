"""Slack HTTP mode (signature checks on the endpoint the bot's one web site serves), the generated manifest, and
the Block Kit rendering limits."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, redirect_stdout
from pathlib import Path

import aiohttp

from adapters.slack.blocks import MAX_BLOCKS, SECTION_LIMIT, render_slack_blocks, slack_date, split_text
from adapters.slack.escape import clean_command_text, escape_mrkdwn
from adapters.slack.manifest import EVENTS_PATH, HISTORY_SCOPES, RESERVED_COMMANDS, build_manifest
from app.assembly import App, all_commands
from app.cli import main
from app.settings import Settings
from app.web import listen
from bot.commands.registry import CommandRegistry
from bot.messages import RenderedAction, RenderedField, RenderedMessage, stamp
from tests.adapters.slack.test_slack_adapter import ADMIN, everyone, slack_app, text_of
from tests.fakes.slack_server import FakeSlack, sign, slash_command_form
from tests.postgres_server import storage_settings

SECRET = "s3cret"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@asynccontextmanager
async def events_url(app: App) -> AsyncIterator[str]:
    """The app's web site listening as :meth:`App.serve` opens it (``[web]`` port 0 in these settings); yields
    the URL of Slack's events endpoint on it."""
    async with AsyncExitStack() as stack:
        address = await listen(app.site, app.settings, stack, None, app.services.translator)
        assert address is not None
        yield address.url.rstrip("/") + EVENTS_PATH


async def test_http_mode_runs_signed_requests_and_rejects_bad_or_stale_ones(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake, mode="http", app_token=None) as app, events_url(app) as url, \
                aiohttp.ClientSession() as http:
            assert url.endswith("/slack/events")
            now = int(time.time())
            body = slash_command_form(fake.slash_command_payload(command="/coalition", user_id=ADMIN,
                                                                 text="topic create climate Climate"))
            for headers in (sign(body, "wrong-secret", now), sign(body, SECRET, now - 301), {}):
                async with http.post(url, data=body, headers={**FORM, **headers}) as response:
                    assert response.status == 401
            assert fake.calls == [] and fake.responses == []  # nothing ran, not even a users.info
            assert await app.store.topics.by_slug("climate") is None

            async with http.post(url, data=body, headers={**FORM, **sign(body, SECRET, now)}) as response:
                assert response.status == 200
            reply = await fake.next_response()
            assert reply["response_type"] == "ephemeral" and "created" in text_of(reply)
            assert await app.store.topics.by_slug("climate") is not None
        assert fake.calls_to("apps.connections.open") == []


def test_manifest_matches_the_registry_and_avoids_reserved_names(tmp_path: Path) -> None:
    registry = CommandRegistry(all_commands())
    settings = Settings(storage=storage_settings(tmp_path, "x.db"), slack={"umbrella_command": "/coalition"})
    manifest = build_manifest(settings, registry)
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    expected = {f"/{name}" for name in registry.top_level_names() if name not in RESERVED_COMMANDS}
    assert set(commands) == expected | {"/coalition"}
    assert "topic" in registry.top_level_names() and "/topic" not in commands  # reserved by Slack
    assert not {name.lstrip("/") for name in commands} & RESERVED_COMMANDS
    for name, entry in commands.items():
        assert entry["should_escape"] is True
        assert 0 < len(entry["description"]) <= 100 and len(name) <= 32 and name == name.lower()
    assert commands["/subscribe"]["usage_hint"] == "<topic> [mode:immediate|daily|weekly|channel]"
    assert commands["/subscribe"]["description"] == "Follow a topic; choose how you receive its posts."
    for group in {c.group for c in registry.commands if c.group and c.group not in RESERVED_COMMANDS}:
        for sub in registry.group(group):
            assert sub.path[1] in commands[f"/{group}"]["usage_hint"]
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert {"commands", "chat:write", "im:write", "users:read"} <= set(scopes)
    assert set(HISTORY_SCOPES) <= set(scopes)  # the read-back is on by default (issue 16)

    http = build_manifest(Settings(slack={"mode": "http", "dedupe_after_crash": False}), registry)
    assert not set(HISTORY_SCOPES) & set(http["oauth_config"]["scopes"]["bot"])
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert all(c["url"].endswith("/slack/events") for c in http["features"]["slash_commands"])


def test_slack_manifest_subcommand_prints_json(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('[slack]\numbrella_command = "/wg"\n')
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--config", str(config), "slack-manifest"]) == 0
    manifest = json.loads(out.getvalue())
    assert manifest["features"]["slash_commands"][0]["command"] == "/wg"


def test_escape_neutralises_mentions_and_markup() -> None:
    text = "<!channel> <!here|here> <!everyone> <!subteam^S1|@ops> <@U1> <@U2|bob> @here a & b <script>"
    escaped = escape_mrkdwn(text)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.count("@\u2060") == 7
    assert "a &amp; b &lt;script&gt;" in escaped
    assert clean_command_text("see <https://x.org/a?b=1&amp;c=2|x.org> &lt;3 <@U1|ada> <#C1|general>") == \
        "see https://x.org/a?b=1&c=2 <3 <@U1|ada> <#C1>"


def test_blocks_split_long_text_and_many_paragraphs_without_losing_any() -> None:
    long = "x" * 7000
    parts = render_slack_blocks(RenderedMessage(title="T", body=(long,)))
    sections = [b["text"]["text"] for b in parts[0].blocks]
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    assert "".join(sections[1:]) == long

    many = render_slack_blocks(RenderedMessage(body=tuple(f"p{i}" for i in range(120)),
                                               actions=(RenderedAction("Go", "topics"),)))
    assert [len(p.blocks) for p in many] == [MAX_BLOCKS, MAX_BLOCKS, 21]
    assert many[-1].blocks[-1]["type"] == "actions"
    assert [b["text"]["text"] for p in many for b in p.blocks if b["type"] == "section"] == \
        [f"p{i}" for i in range(120)]


def test_splitting_never_cuts_a_date_or_an_entity() -> None:
    unit = "a & b " + stamp_text() + " "
    chunks = split_text(escape_mrkdwn(unit * 400), 3000)
    for chunk in chunks:
        assert chunk.count("<") == chunk.count(">")
        assert chunk.count("&") == chunk.count(";")


def stamp_text() -> str:
    from datetime import UTC, datetime

    return stamp(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "f")


def test_times_fields_errors_and_buttons() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    message = RenderedMessage(title="Meeting", body=(f"Starts {stamp(when, 'f')}",), footer="note",
                              fields=(RenderedField("Where", "Online"),), is_error=True,
                              actions=(RenderedAction("x" * 100, "rsvp 1 yes"),))
    (part,) = render_slack_blocks(message)
    blocks = list(part.blocks)
    assert blocks[0]["text"]["text"] == ":warning: *Meeting*"
    assert blocks[1]["text"]["text"] == f"Starts {slack_date(int(when.timestamp()), 'f')}"
    assert slack_date(int(when.timestamp()), "f") == \
        f"<!date^{int(when.timestamp())}^{{date_short_pretty}}, {{time}}|March 29, 2026, 1:30\u202fAM (UTC)>"
    assert blocks[2]["fields"] == [{"type": "mrkdwn", "text": "*Where*\nOnline"}]
    assert blocks[3]["type"] == "context"
    button = blocks[4]["elements"][0]
    assert len(button["text"]["text"]) == 75 and button["value"] == "rsvp 1 yes"
    assert part.text == ":warning: *Meeting*"
