"""Composing a long text in a modal: a command typed without its rest-of-line argument opens a form.

``announce new disinformation`` (no text) or ``topic create climate`` (no title) is a command whose last
argument, declared ``rest``, is missing while everything before it is given. Slack's one-line command box
is a poor place to write an announcement, so the adapter opens a modal with a multi-line field; its
submission runs ``<what was typed> <the text>`` through the core like any typed command. The mechanism
reads only the command declarations, so it applies to every such command, present and future.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.slack.blocks import Block, mrkdwn, render_slack_blocks
from bot.commands.grammar import parse_arguments, split_command, tokenize
from bot.commands.registry import CommandRegistry
from bot.commands.spec import Arg, Command
from bot.errors import UsageError
from bot.i18n import Translator, _
from bot.messages import RenderedMessage

CALLBACK_ID = "coalition_compose"
INPUT_BLOCK = "compose"
INPUT_ACTION = "text"
TITLE_LIMIT = 24
MODAL_BLOCKS = 100
METADATA_LIMIT = 3000
TEXT_LIMIT = 3000


@dataclass(frozen=True, slots=True)
class Composable:
    """``prefix`` is the typed command line; the modal supplies ``arg``."""

    command: Command
    arg: Arg
    prefix: str


def composable(registry: CommandRegistry, text: str) -> Composable | None:
    """The command if ``text`` gives everything but its required rest-of-line argument, else ``None``."""
    try:
        path, remainder = split_command(text, registry.known_words())
        tokens = tokenize(remainder)
    except UsageError:
        return None
    command = registry.get(path)
    if command is None or not command.args:
        return None
    last = command.args[-1]
    if not (last.rest and last.required):
        return None
    try:
        parse_arguments(command, remainder)
        return None  # complete as typed
    except UsageError:
        pass
    options = {option.name for option in command.options}
    positional = [t for t in tokens if t.value.partition(":")[0].lower() not in options or ":" not in t.value]
    if len(positional) != len(command.args) - 1:
        return None
    prefix = text.strip()
    return Composable(command=command, arg=last, prefix=prefix) if len(prefix) < METADATA_LIMIT - 200 else None


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": (text if len(text) <= limit else text[:limit - 1] + "…") or " "}


def compose_view(found: Composable, translator: Translator, language: str, channel_id: str | None) -> dict[str, Any]:
    tr = translator.render
    metadata = json.dumps({"prefix": found.prefix, "channel": channel_id})
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": metadata,
        "title": _plain(found.command.name, TITLE_LIMIT),
        "submit": _plain(tr(_("Send"), language), TITLE_LIMIT),
        "close": _plain(tr(_("Cancel"), language), TITLE_LIMIT),
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn(f"/{found.prefix} …")}]},
            {"type": "input", "block_id": INPUT_BLOCK,
             "label": _plain(tr(found.arg.help, language), 2000),
             "element": {"type": "plain_text_input", "action_id": INPUT_ACTION, "multiline": True,
                         "max_length": min(found.arg.max_length, TEXT_LIMIT)}},
        ],
    }


def submitted_command(view: dict[str, Any]) -> str | None:
    """The command line a compose modal's submission stands for."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
        value = view["state"]["values"][INPUT_BLOCK][INPUT_ACTION]["value"] or ""
    except (KeyError, TypeError, ValueError):
        return None
    prefix = metadata.get("prefix") if isinstance(metadata, dict) else None
    if not isinstance(prefix, str) or not prefix:
        return None
    return f"{prefix} {value}"


def result_view(message: RenderedMessage, translator: Translator, language: str) -> dict[str, Any]:
    """A modal showing a reply, buttons included (their clicks update this modal)."""
    blocks: list[Block] = []
    for part in render_slack_blocks(message, max_blocks=MODAL_BLOCKS):
        blocks.extend(part.blocks)
    title = message.title or translator.render(_("Done"), language)
    return {"type": "modal", "callback_id": f"{CALLBACK_ID}_result",
            "title": _plain(title, TITLE_LIMIT),
            "close": _plain(translator.render(_("Close"), language), TITLE_LIMIT),
            "blocks": blocks[:MODAL_BLOCKS]}
