"""Core messages as Discord embeds and buttons, within Discord's limits — split, never silently cut.

One :class:`Part` is one Discord message: one embed, optionally the buttons and a file. A body longer than
an embed description (4,096) becomes several parts; fields and the footer ride on the last part, or on a
part of their own when the embed would pass Discord's 6,000-character total. Times are ``<t:…>`` markers,
which every reader's Discord client shows in their own zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.messages import Attachment, RenderedAction, RenderedField, RenderedMessage, render_stamps

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
BUTTON_LIMIT = 25
LABEL_LIMIT = 80

COLOUR = discord.Colour(0x5865F2)
ERROR_COLOUR = discord.Colour(0xE74C3C)
# Untrusted text (announcements, names, topic titles) must never ping anyone.
NO_MENTIONS = discord.AllowedMentions.none()


@dataclass(frozen=True, slots=True)
class Part:
    embed: discord.Embed
    actions: tuple[RenderedAction, ...] = ()
    attachment: Attachment | None = None


def discord_stamp(unix: int, style: str) -> str:
    """A full date also gets the relative form ("in 2 hours"), as the issue asks for announcements."""
    if style == "F":
        return f"<t:{unix}:F> (<t:{unix}:R>)"
    return f"<t:{unix}:{style}>"


def localise(text: str) -> str:
    return render_stamps(text, discord_stamp)


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a paragraph, else a line, else a space, else hard.

    Only the whitespace at a cut is dropped; every other character is kept, in order.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
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
    fields_fit = len(fields) <= FIELD_COUNT_LIMIT and all(
        0 < len(f.name) <= FIELD_NAME_LIMIT and 0 < len(f.value) <= FIELD_VALUE_LIMIT for f in fields)
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

    tail_size = sum(len(f.name) + len(f.value) for f in fields) + len(footer or "")
    last = embeds[-1]
    if tail_size and len(last) + tail_size > EMBED_TOTAL_LIMIT:
        last = discord.Embed(colour=colour)
        embeds.append(last)
    for f in fields:
        last.add_field(name=f.name, value=f.value, inline=len(f.value) <= 40)
    if footer:
        last.set_footer(text=footer)
    if not (last.title or last.description or last.fields or last.footer.text):
        last.description = "\u200b"  # Discord refuses an empty embed

    actions = _unique_actions(message.actions)
    parts = [Part(embed) for embed in embeds]
    parts[-1] = Part(embeds[-1], actions=actions)
    if message.attachment is not None:
        parts[0] = Part(parts[0].embed, parts[0].actions, message.attachment)
    return parts


def _unique_actions(actions: tuple[RenderedAction, ...]) -> tuple[RenderedAction, ...]:
    """Discord refuses two components with one custom_id, and a message holds at most 25 buttons."""
    seen: dict[str, RenderedAction] = {}
    for action in actions:
        seen.setdefault(action.command, action)
    return tuple(seen.values())[:BUTTON_LIMIT]


def button_label(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[:LABEL_LIMIT - 1] + "…"
