"""Arabic messages holding Latin topic names, URLs and numbers, rendered by the real translator and the real
platform renderers: every inserted value sits in its own isolate, and the isolates balance in the final
platform text (issue 18, item 3).

This states the intended behaviour: ``Translator.render`` isolates every parameter value and every plain
user-content paragraph when the reader's language is right to left (with :func:`bot.bidi.isolate`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.console import render_text
from adapters.discord.render import render_parts
from adapters.discord.render import split_text as discord_split
from adapters.slack.blocks import render_slack_blocks
from adapters.slack.blocks import split_text as slack_split
from bot.bidi import FSI, PDI, balanced, is_rtl, stripped
from bot.i18n import Translator, _, _n
from bot.messages import Field, Message, RenderedMessage, stamp
from tests.support import console_settings, harness, strings_in

TOPIC = "Election Watch 2026"
PERSON = "demo-member"
URL = "https://example.org/reports/7?page=2"
USER_PARAGRAPH = "Read https://example.org/brief/ (PDF, 12 pages) before #3."
COUNT = 3

def arabic_message() -> Message:
    """Translated sentences with Latin values, a count, a time, and a plain user paragraph."""
    return Message(
        title=_("{person} asks to join “{topic}” (request #{id}).", person=PERSON, topic=TOPIC, id=12),
        body=(
            _n("You follow {n} topic:", "You follow {n} topics:", COUNT),
            _("“{url}” is not a web link. Give a full address starting with http:// or https://.", url=URL),
            USER_PARAGRAPH,
            _("Approved: {person} now follows “{topic}”.", person=PERSON,
              topic=_("{topic} at {time}", topic=TOPIC, time=stamp(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)))),
        ),
        fields=(Field(_("Link"), URL),),
        footer=USER_PARAGRAPH,
    )


INSERTED = (TOPIC, PERSON, URL, USER_PARAGRAPH, str(COUNT), "12")
"""Every value the message inserts into a translated sentence, and the plain user content."""


def rendered() -> RenderedMessage:
    assert is_rtl("ar")
    return arabic_message().render(Translator.load(), "ar")


def slack_text() -> str:
    messages = render_slack_blocks(rendered())
    return "\n".join([m.text for m in messages] + [s for m in messages for s in strings_in(list(m.blocks))])


def discord_text() -> str:
    texts: list[str] = []
    for part in render_parts(rendered()):
        if part.embed is None:
            continue
        texts += [part.embed.title or "", part.embed.description or "", part.embed.footer.text or ""]
        texts += [f"{f.name}\n{f.value}" for f in part.embed.fields]
    return "\n".join(texts)


def console_text() -> str:
    return render_text(rendered(), "Africa/Cairo")


PLATFORMS = {"slack": slack_text, "discord": discord_text, "console": console_text}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_isolates_balance_in_the_final_platform_text(platform: str) -> None:
    text = PLATFORMS[platform]()
    bad = [line for line in text.splitlines() if not balanced(line)]
    assert not bad, f"{platform}: unbalanced isolates in {bad!r}"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_inserted_value_is_isolated_on_every_platform(platform: str) -> None:
    text = PLATFORMS[platform]()
    missing = [value for value in INSERTED if f"{FSI}{value}{PDI}" not in text and f"{FSI}{value} {PDI}" not in text]
    assert not missing, f"{platform}: not wrapped in FSI…PDI in Arabic text: {missing!r}\n{text!r}"


def test_left_to_right_readers_get_no_isolates() -> None:
    """Isolation is for right-to-left readers only: French and English text stays free of controls."""
    translator = Translator.load()
    for language in ("en", "fr"):
        text = arabic_message().render(translator, language).plain_text()
        assert FSI not in text and PDI not in text, (language, text)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_link_ends_before_its_isolate_closes(platform: str) -> None:
    """Discord and Slack link every non-space character after ``https://``: a PDI glued to the address would
    become part of the link, so an isolated link ends with a space inside the isolate."""
    text = PLATFORMS[platform]()
    for found in re.finditer(r"https?://\w[^\s<>|]*", text):  # a link, not the words "http://"
        assert PDI not in found.group(0) and FSI not in found.group(0), (platform, found.group(0))
    assert URL in text


@pytest.mark.parametrize("split", [slack_split, discord_split])
def test_a_long_arabic_paragraph_split_for_a_platform_keeps_every_piece_balanced(split: Any) -> None:
    translator = Translator.load()
    paragraph = " ".join(["كلمة", TOPIC, "نص"] * 400)  # one line, longer than any message
    rendered = Message(body=(paragraph,)).render(translator, "ar").body[0]
    pieces = split(rendered, 2000)
    assert len(pieces) > 1 and all(len(piece) <= 2000 for piece in pieces)
    assert all(balanced(piece) for piece in pieces), [piece[-20:] for piece in pieces]
    assert stripped("".join(pieces)).replace(" ", "") == stripped(rendered).replace(" ", "")


@pytest.mark.parametrize("typed", ["\u2068rsvp 1 yes\u2069", "rsvp \u20681\u2069 yes", "rsvp 1 \u2068نعم\u2069",
                                   "\u200frsvp 1 yes"])
async def test_a_command_copied_out_of_an_arabic_reply_reads_as_typed(typed: str, tmp_path: Path) -> None:
    """Copying ``rsvp 1 yes`` from an Arabic reply copies its isolates too; the command reads the same."""
    async with harness(console_settings(tmp_path)) as h:
        await h.say("demo-member", "settings language ar")
        clean = stripped(await h.text("demo-member", "rsvp 1 yes"))
        assert stripped(await h.text("demo-member", typed)) == clean
        assert "rsvp" not in clean or "Unknown" not in clean
