"""Mentions in untrusted text become readable words that ping nobody, on every platform (issue 15, item 5).

Before, ``<!channel>`` became ``<⁠!channel>``: harmless, but Slack showed it as raw markup. Now every mention
markup reads as what it stands for, with an invisible word joiner after the ``@``.
"""

from __future__ import annotations

import pytest

from bot.messages import STAMP_OPEN
from bot.untrusted import WORD_JOINER, neutralise_mentions

J = WORD_JOINER


@pytest.mark.parametrize(("typed", "shown"), [
    ("<!channel> meeting moved", f"@{J}channel meeting moved"),
    ("<!here|here> and <!EVERYONE>", f"@{J}here and @{J}everyone"),
    ("ask <!subteam^S123|@comms> or <!subteam^S9>", f"ask @{J}comms or @{J}S9"),
    ("thanks <@U1|ada> and <@U2>", f"thanks @{J}ada and @{J}U2"),
    ("Discord <@123>, <@!456> and role <@&789>", f"Discord @{J}123, @{J}456 and role @{J}789"),
    ("@everyone @here @channel", f"@{J}everyone @{J}here @{J}channel"),
    ("mail me at ada@example.org, a < b & c > d", "mail me at ada@example.org, a < b & c > d"),
    ("<#C123|general> is a channel, not a ping", "<#C123|general> is a channel, not a ping"),
])
def test_mention_markup_reads_as_words_and_pings_nobody(typed: str, shown: str) -> None:
    assert neutralise_mentions(typed) == shown


def test_no_half_broken_markup_is_left() -> None:
    text = neutralise_mentions("<!channel> <!here> <@U1|x> <@&2> <!subteam^S1|@t> @everyone")
    assert "<" not in text and ">" not in text
    assert text.replace(WORD_JOINER, "") == "@channel @here @x @2 @t @everyone"  # what a reader sees


def test_a_label_cannot_smuggle_a_broadcast() -> None:
    assert neutralise_mentions("<@U1|@everyone>") == f"@{J}everyone"
    assert neutralise_mentions("<@U1|ada @here>") == f"@{J}ada @{J}here"


def test_forged_time_stamps_are_still_removed() -> None:
    assert STAMP_OPEN not in neutralise_mentions(f"{STAMP_OPEN}1700000000|f")
