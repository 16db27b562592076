"""The manifest grants every scope the Slack adapter's Web API calls need, and a missing one refuses with
its name instead of failing open (issue 15, item 1).

The adapter tests install the app in the fake Slack with exactly the manifest's scopes (``install``), and the
fake answers ``missing_scope`` for any other method, as Slack does. Here: a static check that every method
the adapter's source calls is covered, and the privacy check refusing when a scope is taken away.
"""

from __future__ import annotations

import re
from pathlib import Path

from adapters.slack.manifest import build_manifest
from app.assembly import all_commands
from app.settings import Settings
from bot.commands.registry import CommandRegistry
from tests.adapters.slack.test_delivery import ADMIN, everyone, runner, slack_app_with_admins
from tests.adapters.slack.test_slack_adapter import command, text_of
from tests.fakes import slack_limits
from tests.fakes.slack_server import FakeSlack
from tests.support import FixedClock

SOURCE = Path(__file__).parents[3] / "adapters" / "slack"
# slack_sdk helpers that call several methods, or none (a Socket Mode ack goes down the socket, not to the Web API).
COMPOSITE: dict[str, tuple[str, ...]] = {
    "files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal"),
    "send_socket_mode_response": ()}
_CALL = re.compile(r"client\.([a-z]+_[A-Za-z0-9_]+)\(")


def called_methods() -> set[str]:
    """Every Web API method the adapter's code calls through a slack_sdk client."""
    methods: set[str] = set()
    for path in SOURCE.glob("*.py"):
        for name in _CALL.findall(path.read_text(encoding="utf-8")):
            methods.update(COMPOSITE.get(name, (name.replace("_", "."),)))
    return methods


def manifest_scopes(**slack: object) -> set[str]:
    manifest = build_manifest(Settings(slack=slack), CommandRegistry(all_commands()))
    return set(manifest["oauth_config"]["scopes"]["bot"])


def test_the_manifest_grants_the_scope_of_every_method_the_adapter_calls() -> None:
    methods = called_methods()
    assert {"chat.postMessage", "conversations.info", "users.info", "views.open"} <= methods  # the scan works
    history = {"conversations.history"}
    for scopes, checked in ((manifest_scopes(dedupe_after_crash=False), methods - history),
                            (manifest_scopes(), methods)):
        missing = {}
        for method in checked:
            kinds = slack_limits.KIND_SCOPES.get(method)
            # A channel the bot posts to or checks is public or private; the history read-back also reads the
            # DMs and group DMs it posts to.
            needed = [kinds["public"], kinds["private"]] + ([kinds["im"], kinds["mpim"]] if method in history
                                                             else []) \
                if kinds else [slack_limits.needed_scope(method, None)]
            lacking = [scope for scope in needed if scope is not None and scope not in scopes]
            if lacking:
                missing[method] = lacking
        assert missing == {}


async def test_setup_topic_channel_without_a_read_scope_refuses_and_names_it(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        everyone(fake)
        fake.add_channel("COPEN", name="general")
        fake.add_channel("CPRIV", name="wg-private", is_private=True)
        async with slack_app_with_admins(tmp_path, fake, clock) as app, fake.socket_mode(runner(app).bolt):
            await command(fake, "/coalition", "topic create wg Working group visibility:members", ADMIN)
            granted = set(fake.scopes or ())
            assert {"channels:read", "groups:read"} <= granted
            for channel, scope in (("COPEN", "channels:read"), ("CPRIV", "groups:read")):
                fake.grant(granted - {scope})  # an app installed from an older manifest
                refused = text_of(await command(fake, "/coalition", f"setup topic-channel wg <#{channel}|x>", ADMIN))
                assert f"the app lacks the “{scope}” permission" in refused
                assert "nothing was changed" in refused and "slack-manifest" in refused
            topic = await app.store.topics.by_slug("wg")
            assert topic is not None
            assert await app.store.channels.bound("topic", topic.id) == []
            fake.grant(granted)
            accepted = await command(fake, "/coalition", "setup topic-channel wg <#CPRIV|wg-private>", ADMIN)
            assert "now also go to #CPRIV" in text_of(accepted)


async def test_a_channel_slack_does_not_show_the_bot_is_refused_by_name(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app_with_admins(tmp_path, fake, clock) as app, fake.socket_mode(runner(app).bolt):
            await command(fake, "/coalition", "topic create wg Working group visibility:members", ADMIN)
            refused = text_of(await command(fake, "/coalition", "setup topic-channel wg <#CHIDDEN|x>", ADMIN))
            assert "Slack does not show the bot #CHIDDEN" in refused
            fake.add_channel("CPENDING", is_private=True, is_pending_ext_shared=True)  # Slack Connect invite sent
            refused = text_of(await command(fake, "/coalition", "setup topic-channel wg <#CPENDING|x>", ADMIN))
            assert "#CPENDING can be read by everyone" in refused
            topic = await app.store.topics.by_slug("wg")
            assert topic is not None and await app.store.channels.bound("topic", topic.id) == []
