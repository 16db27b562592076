"""The platform-neutral message that crosses the boundary between the core and the adapters.

The core builds :class:`Message` with lazy texts; :meth:`Message.render` turns it into a
:class:`RenderedMessage` of plain strings for one reader, which an adapter turns into Block Kit, an embed
or console text. A button is an :class:`Action`: a label plus a command invocation that the core runs as
whoever clicks it, with the same permission checks as if it had been typed.

Times inside text are :func:`stamp` markers so each adapter can show them in the reader's own zone
(``<!date^…>`` on Slack, ``<t:…>`` on Discord, the person's zone on the console), in the language of the
:class:`RenderedMessage` they are in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.commands.invoke import CommandLine
from bot.i18n import Msg, Translator, text_from_json, text_to_json

STAMP_OPEN = "\ue000"
STAMP_CLOSE = "\ue001"
_STAMP_RE = re.compile(f"{STAMP_OPEN}(-?\\d+):([tTdDfFR]){STAMP_CLOSE}")


def stamp(instant: datetime, style: str = "F") -> str:
    """A marker for ``instant`` that adapters render in each reader's zone (styles as Discord's)."""
    return f"{STAMP_OPEN}{int(instant.timestamp())}:{style}{STAMP_CLOSE}"


def render_stamps(text: str, render: Callable[[int, str], str]) -> str:
    """Replace every :func:`stamp` marker in ``text`` by ``render(unix_seconds, style)``."""
    return _STAMP_RE.sub(lambda match: render(int(match.group(1)), match.group(2)), text)


def strip_markers(text: str) -> str:
    """Remove marker characters from untrusted input so it cannot forge a timestamp."""
    return text.replace(STAMP_OPEN, "").replace(STAMP_CLOSE, "")


class ActionStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Action:
    """A button. Its command is built from the command's declaration
    (:func:`bot.commands.invoke.invoke`), never typed as text, so a renamed command or option fails when the
    button is built and in the button tests, not when someone clicks it."""

    label: Msg
    invocation: CommandLine
    style: ActionStyle = ActionStyle.DEFAULT

    @property
    def command(self) -> str:
        """The command line adapters show and store (a Slack button's value, a Discord button's token)."""
        return self.invocation.text


@dataclass(frozen=True, slots=True)
class Field:
    name: Msg
    value: Msg


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the reader receives (an .ics export); the console writes it to disk."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Message:
    """What the core says. ``body`` paragraphs may mix translated text and user content."""

    body: tuple[Msg, ...] = ()
    title: Msg | None = None
    fields: tuple[Field, ...] = ()
    actions: tuple[Action, ...] = ()
    footer: Msg | None = None
    is_error: bool = False
    attachment: Attachment | None = None

    def render(self, translator: Translator, language: str | None) -> RenderedMessage:
        tr = translator.render
        return RenderedMessage(
            title=tr(self.title, language) if self.title is not None else None,
            body=tuple(tr(part, language) for part in self.body),
            fields=tuple(RenderedField(tr(f.name, language), tr(f.value, language)) for f in self.fields),
            actions=tuple(RenderedAction(tr(a.label, language), a.command, a.style) for a in self.actions),
            footer=tr(self.footer, language) if self.footer is not None else None,
            is_error=self.is_error,
            attachment=self.attachment,
            language=language,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form for delivery rows (attachments are not queued)."""
        return {
            "title": text_to_json(self.title) if self.title is not None else None,
            "body": [text_to_json(part) for part in self.body],
            "fields": [[text_to_json(f.name), text_to_json(f.value)] for f in self.fields],
            "actions": [[text_to_json(a.label), a.command, a.style.value] for a in self.actions],
            "footer": text_to_json(self.footer) if self.footer is not None else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            title=text_from_json(data["title"]) if data.get("title") is not None else None,
            body=tuple(text_from_json(part) for part in data.get("body", [])),
            fields=tuple(Field(text_from_json(n), text_from_json(v)) for n, v in data.get("fields", [])),
            actions=tuple(Action(text_from_json(label), CommandLine.recorded(command), ActionStyle(style))
                          for label, command, style in data.get("actions", [])),
            footer=text_from_json(data["footer"]) if data.get("footer") is not None else None,
        )


@dataclass(frozen=True, slots=True)
class RenderedField:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class RenderedAction:
    label: str
    command: str
    style: ActionStyle = ActionStyle.DEFAULT


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A :class:`Message` in one reader's language: plain strings, ready for an adapter."""

    body: tuple[str, ...] = ()
    title: str | None = None
    fields: tuple[RenderedField, ...] = ()
    actions: tuple[RenderedAction, ...] = field(default=())
    footer: str | None = None
    is_error: bool = False
    attachment: Attachment | None = None
    language: str | None = None
    """The language it was rendered in (``None``: the default), so an adapter formats what it adds — a time
    stamp, a fallback text — in the same language as the rest."""

    def plain_text(self) -> str:
        """All text in reading order, e.g. for a notification preview or a log-free fallback."""
        parts = [self.title] if self.title else []
        parts.extend(self.body)
        parts.extend(f"{f.name}: {f.value}" for f in self.fields)
        if self.footer:
            parts.append(self.footer)
        return "\n".join(parts)
