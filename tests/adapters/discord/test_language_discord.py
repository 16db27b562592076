"""Discord and languages: command descriptions carry a localisation for each Discord locale we ship (es-ES,
es-419, pt-BR, fr; Discord has no Arabic or Swahili locale), names stay English; an interaction's locale
answers the person and is remembered for the DMs sent to them later."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from adapters.discord.client import DiscordRunner
from app.assembly import App
from bot.i18n import Translator, _
from bot.messages import Message
from tests.adapters.discord.test_discord_adapter import embed_text, person_of
from tests.fakes.discord_server import ALICE, BOB, FakeDiscord

SHIPPED_DISCORD_LOCALES = {"es-ES", "es-419", "pt-BR", "fr"}


def _described(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every command, subcommand and option in a synced tree (anything with a description)."""
    for item in items:
        yield item
        yield from _described(item.get("options") or [])


async def test_every_description_is_localised_for_each_shipped_discord_locale_and_names_are_not(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    synced = fake.synced_commands(fake.guild_id)
    described = list(_described(synced))
    assert len(described) > 50  # commands, subcommands and their options
    for item in described:
        localised = item.get("description_localizations") or {}
        assert set(localised) == SHIPPED_DISCORD_LOCALES, (item["name"], sorted(localised))
        assert localised["es-ES"] == localised["es-419"]  # both Spanish locales read the one catalogue
        assert all(0 < len(text) <= 100 for text in localised.values())
        assert not item.get("name_localizations"), item["name"]  # names are English everywhere
    subscribe = next(c for c in synced if c["name"] == "subscribe")
    translator = Translator.load()
    english = subscribe["description"]
    for locale, language in (("es-ES", "es"), ("pt-BR", "pt"), ("fr", "fr")):
        expected = translator.render(_("Follow a topic; choose how you receive its posts."), language)
        assert subscribe["description_localizations"][locale] == " ".join(expected.split()) != english


async def test_the_interaction_locale_answers_and_is_remembered_for_later_dms(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _runner = running
    handle = await fake.send_slash_command("whoami", user_id=BOB.id, locale="es-419")
    data = (await handle.callback())["data"]
    whoami = embed_text(data) + "".join(f"\n{f['name']}: {f['value']}" for e in data["embeds"]
                                        for f in e.get("fields") or [])
    assert "español" in whoami and "Discord" in whoami  # the language by name, and where it comes from
    bob, alice = await person_of(app, BOB.id, "bob"), await person_of(app, ALICE.id, "alice")
    handle = await fake.send_slash_command("whoami", user_id=ALICE.id, locale="de")  # not shipped: the default
    await handle.callback()

    await app.services.notifier.to_people([bob, alice], Message(body=(_("Welcome"),)), key="hello")
    await app.worker.run_due()

    [to_bob] = fake.dm_messages_to(BOB.id)
    [to_alice] = fake.dm_messages_to(ALICE.id)
    assert to_bob.embeds[0]["description"] == "Te damos la bienvenida"
    assert to_alice.embeds[0]["description"] == "Welcome"

    # A later interaction from a Portuguese client: what follows is in Portuguese.
    handle = await fake.send_slash_command("topics", user_id=BOB.id, locale="pt-BR")
    await handle.callback()
    await app.services.notifier.to_people([bob], Message(body=(_("Welcome"),)), key="again")
    await app.worker.run_due()
    assert fake.dm_messages_to(BOB.id)[-1].embeds[0]["description"] == "Boas-vindas"
