"""Composing a long text in a modal: a command typed without its rest-of-line argument opens a form.

``announce new disinformation`` (no text) or ``topic create climate`` (no title) is a command whose last
argument, declared ``rest``, is missing while everything before it is given. Slack's one-line command box
is a poor place to write an announcement, so the adapter opens a modal with a multi-line field; its
submission runs ``<what was typed> <the text>`` through the core like any typed command. The mechanism
reads only the command declarations, so it applies to every such command, present and future.

Slack's limits are measured on what Slack receives: ``private_metadata`` holds at most 3,000 characters of
the string slack_sdk sends, JSON-encoded (a non-ASCII character travels as six, ``\\u00e9``); a command whose
metadata would not fit opens no form and the person is told why. A result modal holds at most 100 blocks:
what does not fit continues in the person's DM, and the modal says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.slack.blocks import (
    CONTEXT_LIMIT,
    MAX_BLOCKS,
    Block,
    SlackMessage,
    as_messages,
    context_block,
    mrkdwn,
    render_slack_blocks,
    split_text,
)
from bot.bidi import cut
from bot.commands.grammar import parse_arguments, positional_tokens, split_command, tokenize
from bot.commands.registry import CommandRegistry
from bot.commands.spec import Arg, Command
from bot.errors import UsageError
from bot.i18n import Msg, Translator, _, _n
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
        tokenize(remainder)
    except UsageError:
        return None
    command = registry.get(path)
    if command is None or not command.args:
        return None
    last = command.form_arg
    if last is None:
        return None
    try:
        parse_arguments(command, remainder)
        return None  # complete as typed
    except UsageError:
        pass
    try:
        positional = positional_tokens(command, remainder)  # words a time option took are not positional
    except UsageError:
        return None
    if len(positional) != len(command.args) - 1:
        return None
    return Composable(command=command, arg=last, prefix=text.strip())


def metadata_length(metadata: str) -> int:
    """The length Slack sees: the string as JSON-encoded in the request body (slack_sdk escapes non-ASCII)."""
    return len(json.dumps(metadata)) - 2


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit) or " "}


def compose_view(found: Composable, translator: Translator, language: str,
                 channel_id: str | None) -> dict[str, Any] | None:
    """The form, or ``None`` when what was typed is too long to carry through it (``private_metadata``)."""
    tr = translator.render
    metadata = json.dumps({"prefix": found.prefix, "channel": channel_id}, ensure_ascii=False)
    if metadata_length(metadata) > METADATA_LIMIT:
        return None
    typed = [context_block(chunk) for chunk in split_text(mrkdwn(f"/{found.prefix} …"), CONTEXT_LIMIT)]
    field: dict[str, Any] = {
        "type": "input", "block_id": INPUT_BLOCK, "label": _plain(tr(found.arg.help, language), 2000),
        "element": {"type": "plain_text_input", "action_id": INPUT_ACTION, "multiline": True,
                    "max_length": min(found.arg.max_length, TEXT_LIMIT)}}
    if found.arg.max_length > TEXT_LIMIT:  # Slack's cap, not the command's: say so rather than cut silently
        field["hint"] = _plain(tr(_n("A Slack form takes at most {n} character. For a longer text (up to "
                                     "{most}), type the whole command instead.",
                                     "A Slack form takes at most {n} characters. For a longer text (up to "
                                     "{most}), type the whole command instead.", TEXT_LIMIT,
                                     most=found.arg.max_length), language), 2000)
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": metadata,
        "title": _plain(found.command.name, TITLE_LIMIT),
        "submit": _plain(tr(_("Send"), language), TITLE_LIMIT),
        "close": _plain(tr(_("Cancel"), language), TITLE_LIMIT),
        "blocks": [
            *typed,
            field,
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


def result_view(message: RenderedMessage, translator: Translator, language: str, *,
                dm_failed: str | None = None) -> tuple[dict[str, Any], list[SlackMessage]]:
    """A modal showing a reply, buttons included (their clicks update this modal), and the messages that
    did not fit in it, for the person's DM; ``dm_failed`` is why that DM failed, said in the modal instead."""
    blocks: list[Block] = []
    for part in render_slack_blocks(message, max_blocks=MODAL_BLOCKS):
        blocks.extend(part.blocks)
    rest: list[SlackMessage] = []
    if len(blocks) > MODAL_BLOCKS:
        keep = MODAL_BLOCKS - 1
        rest = as_messages(blocks[keep:], MAX_BLOCKS)
        note: Msg
        if dm_failed is None:
            note = _("This answer is too long for a Slack form: the rest of it is in your direct messages with "
                     "the bot.")
        else:
            note = _("This answer is too long for a Slack form, and Slack refused to send the rest to your "
                     "direct messages ({error}).", error=dm_failed)
        blocks = [*blocks[:keep], context_block(mrkdwn(translator.render(note, language), language))]
    title = message.title or translator.render(_("Done"), language)
    view = {"type": "modal", "callback_id": f"{CALLBACK_ID}_result",
            "title": _plain(title, TITLE_LIMIT),
            "close": _plain(translator.render(_("Close"), language), TITLE_LIMIT),
            "blocks": blocks}
    return view, rest
