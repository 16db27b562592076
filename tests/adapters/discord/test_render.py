"""Rendering core messages for Discord: limits are respected by splitting, never by cutting text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.discord.delivery import nonce_for
from adapters.discord.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    render_parts,
    split_text,
)
from bot.messages import RenderedAction, RenderedField, RenderedMessage, stamp


def words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("limit", [CONTENT_LIMIT, DESCRIPTION_LIMIT])
def test_split_text_keeps_every_word_within_the_limit(limit: int) -> None:
    text = "\n\n".join(f"Paragraph {n}. " + "lorem ipsum dolor " * (40 * n) for n in range(12))

    pieces = split_text(text, limit)

    assert len(pieces) > 1 and all(0 < len(p) <= limit for p in pieces)
    assert words(" ".join(pieces)) == words(text)


def test_split_text_prefers_paragraph_then_line_boundaries() -> None:
    assert split_text("aaaa\n\nbbbb\ncccc", 11) == ["aaaa", "bbbb\ncccc"]
    assert split_text("aaaa\nbbbb cccc", 10) == ["aaaa", "bbbb cccc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]  # no space at all: a hard cut, nothing lost
    assert split_text("short", 10) == ["short"]
    assert split_text("", 10) == [""]


def test_times_become_discord_timestamps_that_each_reader_sees_in_their_zone() -> None:
    instant = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    unix = int(instant.timestamp())

    [part] = render_parts(RenderedMessage(body=(f"Starts {stamp(instant)}, ends {stamp(instant, 't')}",)))

    assert part.embed.description == f"Starts <t:{unix}:F> (<t:{unix}:R>), ends <t:{unix}:t>"


def test_over_long_title_fields_and_footer_are_moved_not_cut() -> None:
    title = "T" * 300
    fields = tuple(RenderedField(f"field {n}", "v" * 1500 if n == 0 else "short") for n in range(3))
    message = RenderedMessage(title=title, body=("body",), fields=fields, footer="footer",
                              actions=(RenderedAction("Go", "help"), RenderedAction("Again", "help")))

    parts = render_parts(message)

    embeds = [p.embed for p in parts if p.embed is not None]
    text = " ".join(e.description or "" for e in embeds)
    assert title in text and "v" * 1500 in text and "short" in text
    assert embeds[-1].footer.text == "footer"
    assert [a.label for a in parts[-1].actions] == ["Go"]  # one button per invocation: custom_ids are unique
    assert all(len(e) <= EMBED_TOTAL_LIMIT for e in embeds)


def test_fields_that_would_pass_the_embed_total_get_a_part_of_their_own() -> None:
    body = ("b" * 4000,)
    fields = tuple(RenderedField(f"f{n}", "x" * 1000) for n in range(3))

    parts = render_parts(RenderedMessage(body=body, fields=fields, is_error=True))

    embeds = [p.embed for p in parts if p.embed is not None]
    assert len(embeds) == 2 and len(embeds[1].fields) == 3
    assert all(len(e) <= EMBED_TOTAL_LIMIT for e in embeds)
    assert all(e.colour is not None and e.colour.value == 0xE74C3C for e in embeds)


def test_nonces_are_deterministic_and_short_enough() -> None:
    key = "announcement:12345:person:67890:" + "x" * 200
    assert nonce_for(key, 0) == nonce_for(key, 0) != nonce_for(key, 1)
    assert len(nonce_for(key, 99)) <= 25
