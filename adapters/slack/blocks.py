"""Block Kit rendering of the core's neutral messages, within Slack's limits.

Limits that shape this module (Block Kit reference): a section's text holds at most 3,000 characters, a
section at most 10 fields of 2,000 characters, a message at most 50 blocks, an actions block at most 25
elements, a button label 75 characters and its value 2,000. Text that does not fit is split into several
sections and, past 50 blocks, several messages — never silently cut.

A button is a core action: its ``value`` is the command invocation, run as whoever clicks it.
Times are core stamps rendered as ``<!date^UNIX^{date_short_pretty}, {time}|fallback>`` so every
reader sees their own local time; the glue between Slack's tokens and the fallback text (shown where Slack
cannot format the date, in UTC) are in the language the message was rendered in (CLDR, by Babel).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from adapters.slack.escape import escape_entities, escape_mrkdwn
from bot import dates
from bot.bidi import SPLIT_ROOM, carried, closed, cut, split_room
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

# Markup the splitter must never cut through: Slack tags and HTML entities.
_UNBREAKABLE = re.compile(r"<[^<>]*>|&[a-z]+;")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One chat.postMessage worth: ``text`` is the notification and accessibility fallback."""

    text: str
    blocks: tuple[Block, ...]


def slack_date(unix: int, style: str, language: str | None = None) -> str:
    """Slack's own date marker (each reader's zone); the fallback is the same time in UTC, in ``language``."""
    fallback = dates.format_stamp(unix, style if style != "R" else "f", "UTC", language)
    return f"<!date^{unix}^{dates.slack_tokens(style, language)}|{escape_entities(fallback)}>"


def mrkdwn(text: str, language: str | None = None) -> str:
    """Untrusted text made safe, with the core's time stamps rendered for each reader's zone."""
    return render_stamps(escape_mrkdwn(text), lambda unix, style: slack_date(unix, style, language))


def split_text(text: str, limit: int) -> list[str]:
    """Split at line breaks, else spaces, else anywhere — but never inside ``<…>`` or ``&…;``; isolates a cut
    falls inside are closed and reopened (:func:`bot.bidi.carried`)."""
    room = split_room(text) if limit > 2 * SPLIT_ROOM else 0
    if room:  # Arabic text: keep room to close and reopen an isolate a cut falls inside
        return carried(_split_plain(text, limit - room))
    return _split_plain(text, limit)


def _split_plain(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    while len(text) > limit:
        point = _cut_point(text, limit)
        chunks.append(text[:point].rstrip())
        text = text[point:].lstrip("\n ")
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
    return {"type": "plain_text", "text": cut(text, limit) or " ", "emoji": True}


def _content_blocks(message: RenderedMessage) -> list[Block]:
    blocks: list[Block] = []
    language = message.language
    prefix = ":warning: " if message.is_error else ""
    if message.title:
        title = f"{prefix}*{mrkdwn(message.title, language)}*"
        blocks += [_section(chunk) for chunk in split_text(title, SECTION_LIMIT)]
        prefix = ""
    for paragraph in message.body:
        text = prefix + mrkdwn(paragraph, language)
        prefix = ""
        blocks += [_section(chunk) for chunk in split_text(text, SECTION_LIMIT) if chunk.strip()]
    fields: list[dict[str, str]] = []
    for field in message.fields:
        text = f"*{mrkdwn(field.name, language)}*\n{mrkdwn(field.value, language)}"
        if len(text) <= FIELD_LIMIT:
            fields.append({"type": "mrkdwn", "text": text})
        else:
            blocks += [_section(chunk) for chunk in split_text(text, SECTION_LIMIT)]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start:start + FIELDS_PER_SECTION]})
    if message.footer:
        blocks += [{"type": "context", "elements": [{"type": "mrkdwn", "text": chunk}]}
                   for chunk in split_text(mrkdwn(message.footer, language), CONTEXT_LIMIT)]
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
    point = _cut_point(text, NOTIFICATION_LIMIT - 1)
    shortened = closed(text[:point].rstrip())
    while point > 1 and len(shortened) >= NOTIFICATION_LIMIT:  # the isolates it had to close take room too
        point -= 1
        shortened = closed(text[:point].rstrip())
    return shortened + "…"


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
