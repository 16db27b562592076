"""Help for every command, as the console, Slack and Discord draw it: no doubled punctuation (the console
printed ``when::`` because help named option fields ``when:`` and the console adds ``: ``)."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from adapters.console import render_text
from adapters.discord.render import render_parts
from adapters.slack.blocks import render_slack_blocks
from bot.messages import RenderedMessage
from tests.support import Harness

DOUBLED = re.compile(r"::|;;|,,|…[.:;,]|(?<![.])[.]{2}(?![.])|[.:;,]\s+[.:;]")


def strings(value: Any) -> list[str]:
    """Every string inside a rendered payload (Block Kit, an embed's dictionary)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in strings(item)]
    return []


async def _every_help(h: Harness) -> list[tuple[str, RenderedMessage]]:
    pages = [("help", (await h.say("demo-admin", "help")).message)]
    for command in h.app.dispatcher.registry.commands:
        pages.append((command.name, (await h.say("demo-admin", f"help {command.name}")).message))
    return pages


async def test_help_field_names_are_bare_labels(h: Harness) -> None:
    """Each platform adds its own separator after a field name (console ``name: value``, bold on Slack and
    Discord), so a name must not bring one."""
    for name, message in await _every_help(h):
        for field in message.fields:
            assert not field.name.rstrip().endswith((":", "：", ".", "—")), (name, field.name)


async def test_help_has_no_doubled_punctuation_on_console_slack_and_discord(h: Harness) -> None:
    for name, message in await _every_help(h):
        console = render_text(message, "UTC")
        slack = [text for part in render_slack_blocks(message) for text in strings(asdict(part))]
        discord = [text for part in render_parts(message) if part.embed is not None
                   for text in strings(part.embed.to_dict())]
        for platform, texts in (("console", [console]), ("slack", slack), ("discord", discord)):
            found = [match.group() for text in texts for match in DOUBLED.finditer(text)]
            assert found == [], (platform, name, found)
