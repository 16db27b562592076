"""Time zone and language: validated with helpful answers, used in replies."""

from __future__ import annotations

from tests.support import Harness


async def test_time_zone_order_own_then_platform_then_default(h: Harness) -> None:
    assert "(the coalition default)" in await h.text("demo-member", "whoami")
    assert "settings timezone" in await h.text("demo-member", "whoami")
    await h.say("demo-member", "settings timezone asia/kolkata")
    assert "Asia/Kolkata (your setting)" in await h.text("demo-member", "whoami")


async def test_invalid_zone_gives_examples_and_a_close_match(h: Harness) -> None:
    text = await h.text("demo-member", "settings timezone Europe/Pari")
    assert "Did you mean Europe/Paris?" in text and "Africa/Nairobi" in text
    text = await h.text("demo-member", "settings timezone Nowhere")
    assert "Unknown time zone" in text and "Asia/Kolkata" in text
    assert "(the coalition default)" in await h.text("demo-member", "whoami")


async def test_unknown_language_lists_the_supported_ones(h: Harness) -> None:
    text = await h.text("demo-member", "settings language xx")
    assert "en (English)" in text and "fr (français)" in text


async def test_language_switches_replies(h: Harness) -> None:
    reply = await h.say("demo-member", "settings language fr")
    assert reply.language == "fr"
    assert "Your language" not in reply.message.plain_text()
    english = await h.text("demo-outsider", "subscribe disinformation")
    french = await h.text("demo-member", "subscribe disinformation")
    assert english != french and "disinformation" in french
    back = await h.say("demo-member", "settings language en")
    assert back.message.plain_text() == "Your language is now English."


async def test_platform_locale_is_used_until_a_language_is_set(h: Harness) -> None:
    reply = await h.say("U9", "topics", platform="test", locale="fr-FR")
    assert reply.language == "fr"
