"""The language is picked without asking: their own setting, else the platform locale of the identity being
answered (remembered for later DMs), else the coalition default; whoami says which, by the language's name.
Outsiders may set their own zone and language, and nothing else members can."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n import _
from bot.messages import Message
from bot.model import Identity, Role
from bot.people.languages import LanguageChoice, LanguageSource, language_name, own_names, platform_language
from tests.support import FixedClock, Harness, console_settings, harness

SHIPPED = ("ar", "en", "es", "fr", "pt", "sw")


@pytest.mark.parametrize(("locale", "language"), [
    ("es-ES", "es"), ("es-419", "es"), ("pt-BR", "pt"), ("pt-PT", "pt"), ("fr", "fr"), ("fr-CA", "fr"),
    ("ar", "ar"), ("ar-EG", "ar"), ("sw-KE", "sw"), ("en-US", "en"), ("en-GB", "en"), ("en_GB", "en"),
    ("de", None), ("zh-CN", None), ("", None), (None, None),
])
def test_platform_locales_map_to_shipped_languages(locale: str | None, language: str | None) -> None:
    assert platform_language(locale, SHIPPED) == language


def test_languages_are_named_as_their_readers_name_them() -> None:
    assert language_name("fr", "fr") == "français"
    assert language_name("fr", "en") == "French"
    assert language_name("sw", "sw") == "Kiswahili"
    assert language_name("xx-nothing", "en") == "xx-nothing"  # no CLDR name: the code, not a crash
    listed = own_names(SHIPPED)
    assert "English (en)" in listed and "español (es)" in listed and "Kiswahili (sw)" in listed
    assert "\u2068العربية\u2069 (ar)" in listed  # right-to-left name isolated, so "(ar)" stays after it


async def _source(h: Harness, user: str, platform: str) -> LanguageChoice:
    record = await h.app.store.people.identity(Identity(platform, user))
    assert record is not None
    recipient = await h.app.services.people.recipient(record.person_id)
    return recipient.language_through(record.identity)


async def test_own_setting_then_platform_locale_then_default_and_whoami_says_which(h: Harness) -> None:
    whoami = await h.text("U7", "whoami", platform="discord")
    assert "English (the coalition default)" in whoami
    assert await _source(h, "U7", "discord") == LanguageChoice("en", LanguageSource.DEFAULT)

    reply = await h.say("U7", "whoami", platform="discord", locale="es-419")
    assert reply.language == "es"
    assert "español" in reply.message.plain_text() and "Discord" in reply.message.plain_text()
    assert await _source(h, "U7", "discord") == LanguageChoice("es", LanguageSource.PLATFORM, "discord")

    await h.say("U7", "settings language fr", platform="discord", locale="es-419")
    reply = await h.say("U7", "whoami", platform="discord", locale="es-419")
    assert reply.language == "fr" and "français" in reply.message.plain_text()
    assert await _source(h, "U7", "discord") == LanguageChoice("fr", LanguageSource.OWN)


async def test_an_unshipped_locale_falls_back_to_the_coalition_language(tmp_path: Path, clock: FixedClock) -> None:
    async with harness(console_settings(tmp_path, language="fr"), clock) as h:
        assert (await h.say("U1", "help", platform="discord", locale="de")).language == "fr"
        assert (await h.say("U2", "help", platform="discord", locale="en-GB")).language == "en"
        assert (await h.say("U3", "help", platform="discord", locale="pt-BR")).language == "pt"


async def test_the_platform_locale_is_remembered_for_later_direct_messages(h: Harness) -> None:
    reply = await h.say("alice", "whoami", platform="test", platform_role=Role.MEMBER, locale="es-ES")
    alice = reply.person_id
    await h.say("alice", "help", platform="test", platform_role=Role.MEMBER)  # no locale this time: kept
    await h.app.services.notifier.to_people([alice], Message(body=(_("Welcome"),)), key="k1")
    await h.app.run_due()
    assert [m.body for m in h.adapter.dms_to("alice")] == [("Te damos la bienvenida",)]

    # A new locale replaces the remembered one; the person's own choice beats both.
    await h.say("alice", "help", platform="test", platform_role=Role.MEMBER, locale="pt-BR")
    await h.app.services.notifier.to_people([alice], Message(body=(_("Welcome"),)), key="k2")
    await h.app.run_due()
    assert h.adapter.dms_to("alice")[-1].body == ("Boas-vindas",)
    await h.say("alice", "settings language fr", platform="test", platform_role=Role.MEMBER, locale="pt-BR")
    await h.app.services.notifier.to_people([alice], Message(body=(_("Welcome"),)), key="k3")
    await h.app.run_due()
    assert h.adapter.dms_to("alice")[-1].body == ("Bienvenue",)


async def test_a_locale_is_stored_only_when_it_changes(h: Harness) -> None:
    await h.say("bob", "help", platform="test", locale="sw-KE")
    writes = h.app.store.people.writes()
    await h.say("bob", "help", platform="test", locale="sw-KE")
    assert h.app.store.people.writes() == writes  # the same locale again: nothing to write
    profile = await h.app.store.people.profile_of(Identity("test", "bob"))
    assert profile is not None and profile.locale_of(Identity("test", "bob")) == "sw-KE"


async def test_setting_the_language_answers_with_its_name_never_its_code(h: Harness) -> None:
    reply = await h.say("demo-member", "settings language fr")
    text = reply.message.plain_text()
    assert "français" in text and not text.rstrip(".").endswith(" fr")
    assert "Votre langue est désormais\u00a0: français" in text  # French spacing: a no-break space
    whoami = await h.text("demo-member", "whoami")
    assert "français" in whoami and "\nfr" not in whoami
    assert (await h.say("demo-member", "settings language en")).message.plain_text() == \
        "Your language is now English."


async def test_help_of_settings_language_lists_the_shipped_languages_by_name(h: Harness) -> None:
    text = await h.text("demo-member", "help settings language")
    for name in ("English (en)", "español (es)", "français (fr)", "português (pt)", "العربية", "Kiswahili (sw)"):
        assert name in text, text


async def test_an_outsider_sets_their_own_zone_and_language_and_nothing_else(h: Harness) -> None:
    zone = await h.say("demo-outsider", "settings timezone Asia/Kolkata")
    assert not zone.message.is_error and "Asia/Kolkata" in zone.message.plain_text()
    language = await h.say("demo-outsider", "settings language fr")
    assert not language.message.is_error and language.language == "fr"
    whoami = await h.say("demo-outsider", "whoami")
    assert whoami.language == "fr" and whoami.timezone == "Asia/Kolkata"
    assert "Asia/Kolkata" in whoami.message.plain_text() and "français" in whoami.message.plain_text()
    assert (await h.say("demo-outsider", "topics")).language == "fr"

    # Still an outsider for everything else: a members-only topic does not exist for them, RSVP needs a member.
    refused = await h.say("demo-outsider", "subscribe research")
    assert refused.message.is_error
    outsider = await h.app.store.people.identity(Identity("console", "demo-outsider"))
    research = await h.app.store.topics.by_slug("research")
    assert outsider is not None and research is not None
    assert await h.app.store.subscriptions.get(outsider.person_id, research.id) is None
    rsvp = await h.say("demo-outsider", "rsvp 1 yes")
    assert rsvp.message.is_error
