"""Core messages as Discord embeds and buttons, within Discord's limits — split, never silently cut.

One :class:`Part` is one Discord message: one embed, optionally buttons and a file. A body longer than an
embed description (4,096) becomes several parts; fields and the footer ride on the last part, and go on to
further parts whenever an embed would pass Discord's 6,000-character total or 25 fields. A message holds at
most 25 buttons (5 rows of 5): more buttons go on to further parts of their own, right after the text. Times
are ``<t:…>`` markers, which every reader's Discord client shows in their own zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

from bot.bidi import SPLIT_ROOM, carried, cut, split_room
from bot.messages import Attachment, RenderedAction, RenderedField, RenderedMessage, render_stamps

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5
BUTTON_LIMIT = BUTTONS_PER_ROW * ROWS_PER_MESSAGE
LABEL_LIMIT = 80

COLOUR = discord.Colour(0x5865F2)
ERROR_COLOUR = discord.Colour(0xE74C3C)
# Untrusted text (announcements, names, topic titles) must never ping anyone.
NO_MENTIONS = discord.AllowedMentions.none()


@dataclass(frozen=True, slots=True)
class Part:
    """One Discord message. ``embed`` is ``None`` only on a part that carries buttons that did not fit above."""

    embed: discord.Embed | None
    actions: tuple[RenderedAction, ...] = ()
    attachment: Attachment | None = None


def discord_stamp(unix: int, style: str) -> str:
    """A full date also gets the relative form ("in 2 hours"), as the issue asks for announcements."""
    if style == "F":
        return f"<t:{unix}:F> (<t:{unix}:R>)"
    return f"<t:{unix}:{style}>"


# A masked link, ``[label](url)`` or ``[label](<url>)``: Discord shows only the label, so untrusted text could
# dress https://evil.example as https://good.example. Shown instead as "label (url)": the real target in sight.
_MASKED_LINK = re.compile(r"\[([^\[\]\n]*)\]\(\s*<?([^\s<>()]+)>?\s*\)")
_ZERO_WIDTH_SPACE = "\u200b"


def unmask_links(text: str) -> str:
    """Every masked link with its target in plain sight; any ``](`` left over (nested brackets, a title, a
    form the pattern above does not know) is broken with a zero-width space, so Discord can form no masked
    link at all — failing closed whatever its parser accepts."""
    shown = _MASKED_LINK.sub(lambda m: f"{m[1]} ({m[2]})" if m[1].strip() else m[2], text)
    return shown.replace("](", "]" + _ZERO_WIDTH_SPACE + "(")


def localise(text: str) -> str:
    """Discord's form of a text: times as ``<t:…>`` markers, masked links unmasked."""
    return render_stamps(unmask_links(text), discord_stamp)


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a paragraph, else a line, else a space, else hard.

    Only the whitespace at a cut is dropped; every other character is kept, in order.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    room = split_room(text) if limit > 2 * SPLIT_ROOM else 0
    if room:  # Arabic text: keep room to close and reopen an isolate a cut falls inside
        return carried(_split_plain(text, limit - room))
    return _split_plain(text, limit)


def _split_plain(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit + 1]
        cut = next((i for sep in ("\n\n", "\n", " ") if (i := window.rfind(sep)) > 0), limit)
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip("\n ") if cut < len(rest) else ""
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def render_parts(message: RenderedMessage) -> list[Part]:
    colour = ERROR_COLOUR if message.is_error else COLOUR
    title = localise(message.title) if message.title else None
    paragraphs = [localise(p) for p in message.body]
    if title is not None and len(title) > TITLE_LIMIT:
        paragraphs.insert(0, f"**{title}**")
        title = None
    fields = [RenderedField(localise(f.name), localise(f.value)) for f in message.fields]
    fields_fit = all(0 < len(f.name) <= FIELD_NAME_LIMIT and 0 < len(f.value) <= FIELD_VALUE_LIMIT
                     for f in fields)
    if not fields_fit:  # fold them into the text rather than lose any
        paragraphs.extend(f"**{f.name}**\n{f.value}" for f in fields)
        fields = []
    footer = localise(message.footer) if message.footer else None
    footer_pieces = split_text(footer, FOOTER_LIMIT) if footer else []
    if len(footer_pieces) > 1:
        paragraphs.extend(footer_pieces)
        footer = None

    chunks = split_text("\n\n".join(paragraphs), DESCRIPTION_LIMIT) if paragraphs else []
    embeds: list[discord.Embed] = []
    for n, chunk in enumerate(chunks):
        embed = discord.Embed(colour=colour, description=chunk or None)
        if n == 0 and title:
            embed.title = title
        embeds.append(embed)
    if not embeds:
        embeds.append(discord.Embed(colour=colour, title=title or None))
    _add_tail(embeds, fields, footer, colour)

    parts: list[Part] = [Part(embed) for embed in embeds]
    groups = _button_groups(_unique_actions(message.actions))
    if groups:
        parts[-1] = Part(parts[-1].embed, actions=groups[0])
        parts.extend(Part(None, actions=group) for group in groups[1:])
    if message.attachment is not None:
        parts[0] = Part(parts[0].embed, parts[0].actions, message.attachment)
    return parts


def _add_tail(embeds: list[discord.Embed], fields: list[RenderedField], footer: str | None,
              colour: discord.Colour) -> None:
    """Fields in order, then the footer: together on the last embed when they fit there, else from a fresh
    embed on, over as many embeds as Discord's limits need."""
    last = embeds[-1]
    tail = sum(len(f.name) + len(f.value) for f in fields) + len(footer or "")
    if tail and len(fields) <= FIELD_COUNT_LIMIT and len(last) + tail > EMBED_TOTAL_LIMIT:
        last = discord.Embed(colour=colour)
        embeds.append(last)

    def room_for(size: int, *, field: bool) -> discord.Embed:
        nonlocal last
        full = field and len(last.fields) >= FIELD_COUNT_LIMIT
        if full or len(last) + size > EMBED_TOTAL_LIMIT:
            last = discord.Embed(colour=colour)
            embeds.append(last)
        return last

    for f in fields:
        room_for(len(f.name) + len(f.value), field=True).add_field(name=f.name, value=f.value,
                                                                     inline=len(f.value) <= 40)
    if footer:
        room_for(len(footer), field=False).set_footer(text=footer)
    if not (last.title or last.description or last.fields or last.footer.text):
        last.description = "\u200b"  # Discord refuses an empty embed


def _button_groups(actions: tuple[RenderedAction, ...]) -> list[tuple[RenderedAction, ...]]:
    return [actions[n:n + BUTTON_LIMIT] for n in range(0, len(actions), BUTTON_LIMIT)]


def _unique_actions(actions: tuple[RenderedAction, ...]) -> tuple[RenderedAction, ...]:
    """One button per invocation: a button's custom_id is its command's token, and Discord refuses two
    components with one custom_id in a message. The same command twice is one action, so nothing is lost."""
    seen: dict[str, RenderedAction] = {}
    for action in actions:
        seen.setdefault(action.command, action)
    return tuple(seen.values())


def button_label(label: str) -> str:
    return cut(label, LABEL_LIMIT)
