"""Slack date markers: Slack fills in each reader's own zone; the glue between its tokens and the fallback text
(shown where a client cannot format the date) are in the language the message was rendered in, never English
strftime."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.slack.blocks import mrkdwn, render_slack_blocks, slack_date
from bot.messages import RenderedField, RenderedMessage, stamp

INSTANT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
UNIX = int(INSTANT.timestamp())


def test_the_fallback_is_in_french_and_the_tokens_are_glued_the_french_way() -> None:
    assert slack_date(UNIX, "F", "fr") == \
        f"<!date^{UNIX}^{{date_long_pretty}}, {{time}}|mardi 1 décembre 2026, 14:00 (UTC)>"
    assert slack_date(UNIX, "t", "fr") == f"<!date^{UNIX}^{{time}}|14:00 (UTC)>"
    assert slack_date(UNIX, "D", "fr") == f"<!date^{UNIX}^{{date_long_full}}|1 décembre 2026 (UTC)>"


@pytest.mark.parametrize(("language", "shown"), [
    ("en", "December 1, 2026, 2:00\u202fPM (UTC)"),
    ("es", "1 de diciembre de 2026, 14:00 (UTC)"),
    ("pt", "1 de dezembro de 2026 14:00 (UTC)"),
    ("ar", "1 ديسمبر 2026، 2:00 م (UTC)"),
    ("sw", "1 Desemba 2026 14:00 (UTC)"),
])
def test_every_language_gets_its_own_fallback_and_no_english_glue(language: str, shown: str) -> None:
    marker = slack_date(UNIX, "f", language)
    assert marker.endswith(f"|{shown}>")
    assert " at " not in marker and "%" not in marker


def test_a_message_rendered_in_french_carries_french_dates_in_every_part() -> None:
    message = RenderedMessage(title=f"Réunion {stamp(INSTANT, 't')}", body=(f"Commence {stamp(INSTANT)}",),
                              fields=(RenderedField("Quand", stamp(INSTANT, "f")),), footer=stamp(INSTANT, "d"),
                              language="fr")
    [slack] = render_slack_blocks(message)
    text = str(slack.blocks)
    assert "|14:00 (UTC)>" in text
    assert "|mardi 1 décembre 2026, 14:00 (UTC)>" in text
    assert "|1 décembre 2026, 14:00 (UTC)>" in text
    assert "|01/12/2026 (UTC)>" in text
    assert "December" not in text and " at " not in text


def test_without_a_language_the_fallback_is_english_and_escaped() -> None:
    assert mrkdwn(f"<b> {stamp(INSTANT, 'f')}") == \
        f"&lt;b&gt; <!date^{UNIX}^{{date_short_pretty}}, {{time}}|December 1, 2026, 2:00\u202fPM (UTC)>"
