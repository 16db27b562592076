"""Slack and languages: the locale ``users.info`` gives (asked for with ``include_locale``) answers the person
until they choose a language, is remembered for the DMs sent to them later, and whoami says where it came
from."""

from __future__ import annotations

import json
from pathlib import Path

from bot.i18n import _
from bot.messages import Message
from bot.model import Identity
from bot.topics.commands import TITLE
from tests.adapters.slack.test_slack_adapter import command, everyone, slack_app, text_of
from tests.fakes.slack_server import FakeSlack


async def test_the_slack_locale_answers_and_is_remembered_for_later_dms(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        fake.add_user("UPT", name="paula")["locale"] = "pt-BR"
        fake.add_user("UDE", name="dieter")["locale"] = "de-DE"  # not shipped: the coalition's language
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            whoami = text_of(await command(fake, "/coalition", "whoami", "UPT"))
            assert "português" in whoami and "Slack" in whoami
            assert all(str(call.params.get("include_locale")).lower() in ("true", "1")
                       for call in fake.calls_to("users.info"))
            await command(fake, "/coalition", "whoami", "UDE")
            people = [await app.store.people.identity(Identity("slack", user)) for user in ("UPT", "UDE")]
            assert all(people)
            ids = [record.person_id for record in people if record is not None]

            await app.services.notifier.to_people(ids, Message(body=(_("Welcome"),)), key="hello")
            await app.run_due()

            [to_paula] = fake.messages(fake.dm_channel("UPT"))
            [to_dieter] = fake.messages(fake.dm_channel("UDE"))
            assert "Boas-vindas" in json.dumps(to_paula, ensure_ascii=False)
            assert "Welcome" in json.dumps(to_dieter) and "Boas-vindas" not in json.dumps(to_dieter)

            # Their own choice wins over the platform's.
            await command(fake, "/settings", "language sw", "UPT")
            await app.services.notifier.to_people(ids[:1], Message(body=(_("Welcome"),)), key="again")
            await app.run_due()
            assert "Karibu" in json.dumps(fake.messages(fake.dm_channel("UPT"))[-1], ensure_ascii=False)


async def test_guests_set_their_own_zone_and_language_and_are_still_refused_members_only_commands(
        tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            for user in ("UGUEST", "UCONNECT"):
                zone = text_of(await command(fake, "/settings", "timezone Europe/Paris", user))
                assert "Europe/Paris" in zone and ":warning:" not in zone
                language = text_of(await command(fake, "/settings", "language fr", user))
                assert "français" in language and ":warning:" not in language
                record = await app.store.people.identity(Identity("slack", user))
                assert record is not None
                person = await app.store.people.get(record.person_id)
                assert person is not None and (person.timezone, person.language) == ("Europe/Paris", "fr")
                refused = text_of(await command(fake, "/coalition", "rsvp 1 yes", user))
                assert ":warning:" in refused and "membre" in refused  # refused, in their language now
            member = text_of(await command(fake, "/coalition", "rsvp 1 yes", "UMEM"))
            assert "This needs" not in member


async def test_a_form_opens_in_the_language_the_person_chose_not_only_their_slack_locale(tmp_path: Path) -> None:
    """Someone with `settings language fr` on an English Slack gets the form in French, as the reply will be."""
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            await command(fake, "/coalition", "settings language fr", "UADMIN")
            await fake.send_slash_command(command="/coalition", text="topic create climate", user_id="UADMIN")
            await fake.wait_for_calls("views.open")
            view = next(iter(fake.views.values()))
            french = app.services.translator.render(TITLE.help, "fr")
            assert french != "Title" and view["blocks"][1]["label"]["text"] == french
