"""A :class:`~bot.messages.RenderedMessage` as the two bodies of a mail: plain text and HTML, same content.

Both are built from the same message in the reader's language, with every time stamp on the reader's wall clock
(their zone chosen on the subscribe form). The HTML is escaped throughout (titles and bodies are user content),
links only ``http(s)`` URLs found in the text, loads nothing from elsewhere (no images, fonts or style sheets:
mail clients block them, and a fetched pixel would tell a sender who read what), and is marked ``dir="rtl"`` for
a right-to-left language so the mail client lays it out like the chat platforms do.

Actions (chat buttons) are dropped: each runs a chat command as whoever clicks it, and a mail has no
authenticated clicker; what a follower can change by email is on the manage page the footer links to.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot import bidi, dates
from bot.i18n import Msg, _
from bot.messages import RenderedMessage, render_stamps, strip_markers

Tr = Callable[[Msg], str]
"""Renders a message in the mail's language (a translator bound to it)."""

_URL = re.compile(r"https?://[^\s<>\"'\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»”’"
"""Punctuation that ends a sentence rather than a URL written at its end."""
_BLANK_LINE = re.compile(r"\n[ \t]*\n+")


@dataclass(frozen=True, slots=True)
class Footer:
    """The links every mail to a subscriber ends with (none for a mail to an address that follows nothing)."""

    coalition: str
    manage_url: str
    unsubscribe_url: str


@dataclass(frozen=True, slots=True)
class Bodies:
    text: str
    html: str


def stamps_in(zone: str, language: str | None) -> Callable[[str], str]:
    """Replaces the core's time stamps in a text by the time on ``zone``'s wall clock, in ``language``."""
    def render(text: str) -> str:
        local = render_stamps(text, lambda unix, style: dates.format_stamp(unix, style, zone, language))
        return strip_markers(local)
    return render


def headline(message: RenderedMessage, times: Callable[[str], str]) -> str:
    """What the subject names: the title, else the first line that says something; one line, times rendered."""
    candidates = [message.title or "", *message.body, *(f.value for f in message.fields)]
    for candidate in candidates:
        for line in times(candidate).splitlines():
            if bidi.stripped(line).strip():
                return " ".join(line.split())
    return ""


def render_bodies(message: RenderedMessage, *, tr: Tr, times: Callable[[str], str], subject: str,
                  notice: str | None = None, footer: Footer | None = None) -> Bodies:
    """The text and HTML bodies of ``message``. ``notice`` is a line shown before it (a correction says so);
    ``footer`` adds the manage and unsubscribe links."""
    title = times(message.title) if message.title else None
    paragraphs = [times(part) for part in message.body if part.strip()]
    fields = [tr(_("{label}: {value}", label=_field_label(times(f.name)), value=times(f.value)))
              for f in message.fields]
    closing = times(message.footer) if message.footer else None
    return Bodies(
        text=_text(title, paragraphs, fields, closing, tr=tr, notice=notice, footer=footer),
        html=_html(title, paragraphs, fields, closing, tr=tr, notice=notice, footer=footer, subject=subject,
                   language=message.language),
    )


def _field_label(name: str) -> str:
    return name.rstrip().rstrip(":：").rstrip() or name


def _text(title: str | None, paragraphs: list[str], fields: list[str], closing: str | None, *, tr: Tr,
          notice: str | None, footer: Footer | None) -> str:
    blocks: list[str] = []
    if notice:
        blocks.append(notice)
    if title:
        blocks.append(title)
    blocks.extend(paragraphs)
    if fields:
        blocks.append("\n".join(fields))
    if closing:
        blocks.append(closing)
    text = "\n\n".join(block.strip("\n") for block in blocks)
    if footer is not None:
        # "-- " is the signature separator: mail clients dim what follows and leave it out of replies.
        text += "\n\n-- \n" + "\n".join((
            tr(_("You receive this because this address follows {coalition} by email.",
                 coalition=footer.coalition)),
            tr(_("Manage your subscription: {url}", url=footer.manage_url)),
            tr(_("Unsubscribe: {url}", url=footer.unsubscribe_url)),
        ))
    return text + "\n"


def _html(title: str | None, paragraphs: list[str], fields: list[str], closing: str | None, *, tr: Tr,
          notice: str | None, footer: Footer | None, subject: str, language: str | None) -> str:
    lang = html.escape(language or "en", quote=True)
    direction = "rtl" if bidi.is_rtl(language) else "ltr"
    parts = ["<!DOCTYPE html>", f'<html lang="{lang}" dir="{direction}">',
             '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
             f"<title>{html.escape(subject)}</title></head>",
             '<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em">']
    if notice:
        parts.append(f"<p><em>{_inline(notice)}</em></p>")
    if title:
        parts.append(f"<h1 style=\"font-size: 1.3em\">{_inline(title)}</h1>")
    for paragraph in paragraphs:
        parts.extend(f"<p>{_inline(piece)}</p>" for piece in _BLANK_LINE.split(paragraph.strip("\n")) if piece.strip())
    if fields:
        parts.append("<p>" + "<br>\n".join(_inline(field) for field in fields) + "</p>")
    if closing:
        parts.append(f"<p><small>{_inline(closing)}</small></p>")
    if footer is not None:
        manage = html.escape(footer.manage_url, quote=True)
        unsubscribe = html.escape(footer.unsubscribe_url, quote=True)
        why = html.escape(tr(_("You receive this because this address follows {coalition} by email.",
                               coalition=footer.coalition)))
        parts.append('<hr><p style="color: #555"><small>' + why + "<br>\n"
                     f'<a href="{manage}">{html.escape(tr(_("Manage your subscription")))}</a> · '
                     f'<a href="{unsubscribe}">{html.escape(tr(_("Unsubscribe")))}</a></small></p>')
    parts.append("</body>")
    parts.append("</html>")
    return "\n".join(parts) + "\n"


def _inline(text: str) -> str:
    """One paragraph as HTML: escaped, line breaks kept, ``http(s)`` URLs made links (nothing else is)."""
    return "<br>\n".join(_linked(line) for line in text.split("\n"))


def _linked(line: str) -> str:
    out: list[str] = []
    position = 0
    for match in _URL.finditer(line):
        url = match.group(0).rstrip(_TRAILING)
        if url.count("(") > url.count(")") and match.group(0)[len(url):].startswith(")"):
            url += ")"  # a URL with parentheses of its own (Wikipedia) keeps its closing one
        if len(url) <= len("https://"):
            continue
        end = match.start() + len(url)
        out.append(html.escape(line[position:match.start()]))
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>')
        position = end
    out.append(html.escape(line[position:]))
    return "".join(out)
