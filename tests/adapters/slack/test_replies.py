"""Every Slack interaction gets its whole answer (issue 15, items 3 and 4): forms Slack will not open, modal
updates it refuses, replies past five response_url posts or 100 modal blocks, expired response URLs, files
and failures of the bot itself all end in a message to the person — never in silence or a silent cut.

The fake Slack refuses what Slack refuses (block and view limits, private_metadata as sent, a sixth
response_url post), so a reply the adapter shapes wrongly fails these tests the way it would fail for people.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.slack import handlers
from app.assembly import App
from bot.delivery.errors import PermanentDeliveryError
from bot.i18n import Translator
from bot.messages import Attachment, RenderedMessage
from bot.model import Identity
from bot.topics.model import Policy, Visibility
from tests.adapters.slack.test_slack_adapter import ADMIN, command, everyone, slack_app, text_of
from tests.fakes.slack_server import FakeSlack
from tests.support import FixedClock

MANY = 260  # topics: one section each, so /topics needs six messages of 50 blocks — more than five posts


async def many_topics(app: App, n: int = MANY) -> list[str]:
    slugs = [f"topic-{i:03d}" for i in range(n)]
    now = FixedClock().now()
    for slug in slugs:
        await app.store.topics.create(slug, f"Title {slug}", "", Visibility.PUBLIC, Policy.OPEN, now)
    return slugs


def dm_text(fake: FakeSlack, user: str) -> str:
    return "\n".join(text_of(message) for message in fake.messages(user))


def response_bodies(fake: FakeSlack, rid: str) -> list[dict[str, Any]]:
    return [body for posted, body in fake.responses if posted == rid]


def rid_of_last_envelope(fake: FakeSlack) -> str:
    return str(fake.envelopes[-1]["payload"]["response_url"].rsplit("/", 1)[1])


async def test_a_reply_past_five_response_url_posts_continues_in_a_dm_and_says_so(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            slugs = await many_topics(app)
            await fake.send_slash_command(command="/topics", user_id="UMEM")
            await fake.wait_for_calls("chat.postMessage", 2)
            rid = rid_of_last_envelope(fake)
            await fake.wait_for(lambda: len(response_bodies(fake, rid)) == 5)  # the note comes last, after the DM
            posts = response_bodies(fake, rid)
            assert fake.refused_responses == []  # never a sixth post, never an invalid one
            assert "last 2 parts are in your direct messages with the bot" in text_of(posts[-1])
            shown = "\n".join(text_of(p) for p in posts) + "\n" + dm_text(fake, "UMEM")
            assert all(f"{slug} — Title {slug}" in shown for slug in slugs)  # nothing was left out


async def test_an_expired_response_url_answers_in_the_dm(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            payload = fake.slash_command_payload(command="/coalition", text="whoami", user_id="UMEM")
            fake.expire_response_url(payload["response_url"].rsplit("/", 1)[1])
            await fake.send_envelope("slash_commands", payload, accepts_response_payload=True)
            await fake.wait_for_calls("chat.postMessage", 2)
            text = dm_text(fake, "UMEM")
            assert "Slack could not show this answer where you asked" in text
            assert "mel" in text  # the answer itself
            assert [why for _, _, why in fake.refused_responses] == ["expired_url"]


async def test_a_modal_answer_past_100_blocks_continues_in_a_dm(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            slugs = await many_topics(app, 150)
            opened = await app.platform_runners[0].client.views_open(trigger_id="1.1.x", view={
                "type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []})
            view_id = opened["view"]["id"]
            payload = fake.block_actions_payload(user_id="UMEM", action_id="coalition:0", value="topics")
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = {"id": view_id}
            payload.pop("response_url")
            await fake.send_envelope("interactive", payload)
            await fake.wait_for_calls("chat.postMessage", 2)
            blocks = fake.views[view_id]["blocks"]
            assert len(blocks) == 100
            assert "the rest of it is in your direct messages" in text_of({"blocks": blocks[-1:]})
            shown = text_of({"blocks": blocks}) + "\n" + dm_text(fake, "UMEM")
            assert all(f"{slug} — Title {slug}" in shown for slug in slugs)


async def test_a_click_whose_modal_slack_will_not_update_is_answered_in_the_dm(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            payload = fake.block_actions_payload(user_id="UMEM", action_id="coalition:0", value="whoami")
            payload["container"] = {"type": "view", "view_id": "VGONE"}
            payload["view"] = {"id": "VGONE"}  # closed meanwhile: views.update answers not_found
            payload.pop("response_url")
            await fake.send_envelope("interactive", payload)
            await fake.wait_for_calls("chat.postMessage", 2)
            text = dm_text(fake, "UMEM")
            assert "Slack could not show the answer in the form (not_found)" in text and "mel" in text


async def test_a_form_past_slacks_metadata_limit_is_not_opened_and_the_person_is_told(tmp_path: Path) -> None:
    """Non-ASCII text travels JSON-escaped (six characters each): the limit is measured on that."""
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            typed = f'topic create climat description:"{"é" * 600}"'  # 600 characters, 3,600 as sent
            reply = text_of(await command(fake, "/coalition", typed, ADMIN))
            assert "too long to finish in a form" in reply and "/topic create" in reply
            assert fake.calls_to("views.open") == []
            assert await app.store.topics.by_slug("climat") is None


async def test_a_non_ascii_command_within_the_limit_opens_the_form_and_round_trips(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            description = "Énergie — " + "é" * 300
            await fake.send_slash_command(command="/coalition", text=f'topic create climat description:"{description}"',
                                          user_id=ADMIN)
            await fake.wait_for_calls("views.open")
            view = next(iter(fake.views.values()))
            values = {"compose": {"text": {"type": "plain_text_input", "value": "Climat — été"}}}
            result = await fake.send_view_submission(user_id=ADMIN, callback_id=view["callback_id"],
                                                     values=values, private_metadata=view["private_metadata"])
            assert result["response_action"] == "update"
            topic = await app.store.topics.by_slug("climat")
            assert topic is not None and (topic.title, topic.description) == ("Climat — été", description)


async def test_a_form_slack_refuses_to_open_is_answered_by_message(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            fake.queue("views.open", body={"ok": False, "error": "expired_trigger_id"})
            reply = text_of(await command(fake, "/coalition", "topic create climate", ADMIN))
            assert "Slack could not open the form (expired_trigger_id)" in reply
            assert "/topic create" in reply  # how to do it without the form
            assert await app.store.topics.by_slug("climate") is None


async def test_a_long_error_under_a_form_field_is_cut_visibly_and_sent_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Core errors are short today; a lower bound makes "resource"'s list of subcommands (500+ characters) long.
    monkeypatch.setattr(handlers, "ERROR_TEXT_LIMIT", 200)
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            metadata = json.dumps({"prefix": "resource", "channel": None})
            values = {"compose": {"text": {"type": "plain_text_input", "value": "nonsense"}}}
            refused = await fake.send_view_submission(user_id=ADMIN, callback_id="coalition_compose",
                                                      values=values, private_metadata=metadata)
            assert refused["response_action"] == "errors"
            error = refused["errors"]["compose"]
            assert len(error) <= 200
            assert error.endswith("… (The whole message is in your direct messages with the bot.)")
            await fake.wait_for_calls("chat.postMessage")
            whole = dm_text(fake, ADMIN)
            assert "/resource search" in whole and "/resource remove" in whole


async def test_a_calendar_file_reaches_slack_and_the_reply_says_where(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            await command(fake, "/coalition", "topic create climate Climate", ADMIN)
            reply = text_of(await command(fake, "/coalition", "meeting calendar climate", "UMEM"))
            assert "The file climate.ics is in your direct messages with the bot." in reply
            [(name, data)] = fake.file_data("UMEM")
            assert name == "climate.ics" and data.startswith(b"BEGIN:VCALENDAR")


async def test_a_failure_of_the_bot_itself_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            async def broken(*_args: object) -> object:
                raise RuntimeError("the database is gone")

            monkeypatch.setattr(app.dispatcher, "handle", broken)
            reply = text_of(await command(fake, "/coalition", "whoami", "UMEM"))
            assert "Something went wrong on our side; nothing was changed." in reply
            assert await app.store.people.identity(Identity("slack", "UMEM")) is None


async def test_a_delivered_message_with_a_file_shares_it_in_the_channel(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        fake.add_channel("CWG", is_private=True)
        async with slack_app(tmp_path, fake) as app:
            delivery = app.platform_runners[0].delivery
            ics = Attachment("wg.ics", "text/calendar", b"BEGIN:VCALENDAR")
            message = RenderedMessage(body=("The calendar",), attachment=ics)
            await delivery.send_channel("CWG", message, delivery_key="post:1")
            assert fake.file_data("CWG") == [("wg.ics", b"BEGIN:VCALENDAR")]
            fake.queue("files.getUploadURLExternal", body={"ok": False, "error": "not_allowed_token_type"})
            with pytest.raises(PermanentDeliveryError) as refused:
                await delivery.send_channel("CWG", message, delivery_key="post:2")
            reason = Translator.load().render(refused.value.reason, "en")
            assert "Slack refused the file wg.ics (not_allowed_token_type)" in reason
