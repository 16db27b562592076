"""The Slack app manifest, generated from the command registry (``python -m bot slack-manifest``).

A coalition creates its Slack app by pasting this at https://api.slack.com/apps → "From a manifest", so
the slash commands, their help and usage hints can never drift from the core's declarations. This module
does not import slack_bolt: printing a manifest needs no Slack library.
"""

from __future__ import annotations

from typing import Any, Protocol

from adapters.slack.settings import SlackSettings
from bot.commands.registry import CommandRegistry
from bot.i18n import Translator, _

EVENTS_PATH = "/slack/events"
PUBLIC_URL_PLACEHOLDER = "https://YOUR-PUBLIC-HOST"
DESCRIPTION_LIMIT = 100
USAGE_HINT_LIMIT = 1000
COMMAND_NAME_LIMIT = 32

# Slack's built-in slash commands: a manifest that declares one of these is rejected, and the name would
# not reach the app anyway. From Slack's help centre ("Use built-in slash commands") and names Slack has
# reserved before (/feed, /star, /shrug …). Such commands stay reachable through the umbrella command.
RESERVED_COMMANDS = frozenset({
    "active", "apps", "archive", "away", "call", "close", "collapse", "dm", "dnd", "expand", "feed", "feedback",
    "giphy", "invite", "invite_people", "join", "kick", "leave", "me", "msg", "mute", "open", "part", "prefs",
    "remind", "remove", "rename", "search", "shortcuts", "shrug", "star", "status", "topic", "who", "whois",
})

# Every bot scope a Web API method the adapter calls needs (the adapter tests install exactly these in the
# fake Slack, which refuses any other method as Slack does): commands — the slash commands; chat:write —
# chat.postMessage/update/delete; chat:write.public — post in a public channel without joining it;
# im:write — conversations.open for a DM; users:read — users.info (role, zone, language); usergroups:read —
# the coordinator group; channels:read and groups:read — conversations.info on a public or private channel,
# the "can everyone read it?" check of setup topic-channel (without them it cannot tell, and refuses);
# files:write — the calendar (.ics) files that replies carry.
BASE_SCOPES = ("commands", "chat:write", "chat:write.public", "im:write", "users:read", "usergroups:read",
               "channels:read", "groups:read", "files:write")
# conversations.history with metadata (``dedupe_after_crash``, on by default), for reading back a post that may
# have landed before a crash, a 5xx or a dropped connection: one scope per kind of conversation the bot posts
# to — public and private channels, DMs, and group DMs (setup topic-channel accepts one for a members' topic).
HISTORY_SCOPES = ("channels:history", "groups:history", "im:history", "mpim:history")


def shortcut_names(registry: CommandRegistry) -> list[str]:
    """Top-level command and group names that get their own slash command."""
    return [name for name in registry.top_level_names() if name not in RESERVED_COMMANDS]


def shortcut_commands(registry: CommandRegistry, umbrella: str) -> list[str]:
    return [f"/{name}" for name in shortcut_names(registry) if f"/{name}" != umbrella]


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class Naming(Protocol):
    """What the manifest shows of the coalition (``[coalition]`` in settings)."""

    @property
    def name(self) -> str: ...

    @property
    def language(self) -> str: ...


class ManifestSettings(Protocol):
    """The settings the manifest is generated from; the composition root's settings have them."""

    @property
    def slack(self) -> SlackSettings: ...

    @property
    def coalition(self) -> Naming: ...


def build_manifest(settings: ManifestSettings, registry: CommandRegistry,
                   translator: Translator | None = None) -> dict[str, Any]:
    translator = translator or Translator.load()
    language = settings.coalition.language
    tr = translator.render
    slack = settings.slack
    http = slack.mode == "http"
    events_url = f"{PUBLIC_URL_PLACEHOLDER}{EVENTS_PATH}"
    umbrella = slack.umbrella_command

    def entry(command: str, description: str, usage: str) -> dict[str, Any]:
        item: dict[str, Any] = {"command": command, "description": _fit(description, DESCRIPTION_LIMIT),
                                "should_escape": True}
        if usage.strip():
            item["usage_hint"] = _fit(usage.strip(), USAGE_HINT_LIMIT)
        if http:
            item["url"] = events_url
        return item

    commands = [entry(umbrella, tr(_("Everything the coalition bot does. Try “{command} help”.", command=umbrella),
                                   language), "help | <command> [arguments…]")]
    for name in shortcut_names(registry):
        if f"/{name}" == umbrella:
            continue
        single = registry.get((name,))
        if single is not None:
            usage = single.usage().removeprefix(f"/{name}").strip()
            commands.append(entry(f"/{name}", tr(single.help, language), usage))
        else:
            subcommands = registry.group(name)
            usage = " | ".join(c.usage().removeprefix(f"/{name} ") for c in subcommands)
            description = tr(_("{group}: {subcommands}", group=name,
                               subcommands=", ".join(c.path[1] for c in subcommands)), language)
            commands.append(entry(f"/{name}", description, usage))

    scopes = list(BASE_SCOPES) + (list(HISTORY_SCOPES) if slack.dedupe_after_crash else [])
    interactivity: dict[str, Any] = {"is_enabled": True}
    if http:
        interactivity["request_url"] = events_url
    name = _fit(settings.coalition.name, 35)
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": _fit(tr(_("Topic subscriptions, announcements and meetings for {coalition}.",
                                     coalition=settings.coalition.name), language), 140),
        },
        "features": {
            "bot_user": {"display_name": _fit(name, 80), "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": scopes}},
        "settings": {
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": not http,
            "token_rotation_enabled": False,
        },
    }
