"""Block Kit rendering of the core's neutral messages, within Slack's limits.

Limits that shape this module (Block Kit reference): a section's text holds at most 3,000 characters, a
section at most 10 fields of 2,000 characters, a message at most 50 blocks, an actions block at most 25
elements, a button label 75 characters and its value 2,000. Text that does not fit is split into several
sections and, past 50 blocks, several messages — never silently cut.

A button is a core action: its ``value`` is the command invocation, run as whoever clicks it.
Times are core stamps rendered as ``<!date^UNIX^{date_short_pretty} at {time}|fallback>`` so every
reader sees their own local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.slack.escape import escape_entities, escape_mrkdwn
from bot.messages import ActionStyle, RenderedMessage, render_stamps

Block = dict[str, Any]

SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
FIELDS_PER_SECTION = 10
CONTEXT_LIMIT = 3000
MAX_BLOCKS = 50
BUTTONS_PER_BLOCK = 25
BUTTON_LABEL_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
NOTIFICATION_LIMIT = 150
ACTION_ID_PREFIX = "coalition:"

_DATE_FORMATS = {
    "t": "{time}",
    "T": "{time_secs}",
    "d": "{date_num}",
    "D": "{date_long}",
    "f": "{date_short_pretty} at {time}",
    "F": "{date_long_pretty} at {time}",
    "R": "{ago}",
}
# Markup the splitter must never cut through: Slack tags and HTML entities.
_UNBREAKABLE = re.compile(r"<[^<>]*>|&[a-z]+;")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One chat.postMessage worth: ``text`` is the notification and accessibility fallback."""

    text: str
    blocks: tuple[Block, ...]


def slack_date(unix: int, style: str) -> str:
    fallback = datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{unix}^{_DATE_FORMATS.get(style, _DATE_FORMATS['f'])}|{escape_entities(fallback)}>"


def mrkdwn(text: str) -> str:
    """Untrusted text made safe, with the core's time stamps rendered for each reader's zone."""
    return render_stamps(escape_mrkdwn(text), slack_date)


def split_text(text: str, limit: int) -> list[str]:
    """Split at line breaks, else spaces, else anywhere — but never inside ``<…>`` or ``&…;``."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = _cut_point(text, limit)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    if text or not chunks:
        chunks.append(text)
    return [chunk for chunk in chunks if chunk] or [""]


def _cut_point(text: str, limit: int) -> int:
    window = text[:limit]
    cut = window.rfind("\n")
    if cut < limit // 2:
        cut = window.rfind(" ")
    if cut < limit // 2:
        cut = limit
    for match in _UNBREAKABLE.finditer(text, 0, limit + 200):
        if match.start() < cut < match.end():
            cut = match.start()
            break
    return max(cut, 1)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _plain(text: str, limit: int) -> dict[str, Any]:
    text = text if len(text) <= limit else text[:limit - 1] + "…"
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def _content_blocks(message: RenderedMessage) -> list[Block]:
    blocks: list[Block] = []
    prefix = ":warning: " if message.is_error else ""
    if message.title:
        blocks += [_section(chunk) for chunk in split_text(f"{prefix}*{mrkdwn(message.title)}*", SECTION_LIMIT)]
        prefix = ""
    for paragraph in message.body:
        text = prefix + mrkdwn(paragraph)
        prefix = ""
        blocks += [_section(chunk) for chunk in split_text(text, SECTION_LIMIT) if chunk.strip()]
    fields: list[dict[str, str]] = []
    for field in message.fields:
        text = f"*{mrkdwn(field.name)}*\n{mrkdwn(field.value)}"
        if len(text) <= FIELD_LIMIT:
            fields.append({"type": "mrkdwn", "text": text})
        else:
            blocks += [_section(chunk) for chunk in split_text(text, SECTION_LIMIT)]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start:start + FIELDS_PER_SECTION]})
    if message.footer:
        blocks += [{"type": "context", "elements": [{"type": "mrkdwn", "text": chunk}]}
                   for chunk in split_text(mrkdwn(message.footer), CONTEXT_LIMIT)]
    if not blocks:
        blocks.append(_section(prefix.strip() or "…"))
    return blocks


def _action_blocks(message: RenderedMessage) -> list[Block]:
    buttons: list[Block] = []
    for index, action in enumerate(message.actions):
        if len(action.command) > BUTTON_VALUE_LIMIT:
            raise ValueError(f"action command longer than {BUTTON_VALUE_LIMIT} characters")
        button: Block = {"type": "button", "action_id": f"{ACTION_ID_PREFIX}{index}",
                         "text": _plain(action.label, BUTTON_LABEL_LIMIT), "value": action.command}
        if action.style is not ActionStyle.DEFAULT:
            button["style"] = action.style.value
        buttons.append(button)
    return [{"type": "actions", "elements": buttons[start:start + BUTTONS_PER_BLOCK]}
            for start in range(0, len(buttons), BUTTONS_PER_BLOCK)]


def _notification_text(blocks: tuple[Block, ...]) -> str:
    for block in blocks:
        text = block.get("text", {}).get("text") if block["type"] == "section" else None
        if text:
            first_line = text.splitlines()[0] if text.splitlines() else text
            # A preview, not the content: the full text is in the blocks.
            return first_line if len(first_line) <= NOTIFICATION_LIMIT else _shorten(first_line)
    return "…"


def _shorten(text: str) -> str:
    cut = _cut_point(text, NOTIFICATION_LIMIT - 1)
    return text[:cut].rstrip() + "…"


def render_slack_blocks(message: RenderedMessage, *, max_blocks: int = MAX_BLOCKS) -> list[SlackMessage]:
    """The message as one or more Slack messages of at most ``max_blocks`` blocks each, buttons last."""
    return as_messages(_content_blocks(message) + _action_blocks(message), max_blocks)


def as_messages(blocks: list[Block], max_blocks: int = MAX_BLOCKS) -> list[SlackMessage]:
    """``blocks`` in order, as messages of at most ``max_blocks`` blocks each."""
    parts = [tuple(blocks[start:start + max_blocks]) for start in range(0, len(blocks), max_blocks)]
    return [SlackMessage(text=_notification_text(part), blocks=part) for part in parts]


def context_block(text: str) -> Block:
    """A small grey line: the adapter's own notes (already mrkdwn, and short: never split)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text or "…"}]}
