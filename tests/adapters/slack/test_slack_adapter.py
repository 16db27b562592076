"""The Slack adapter end to end: the real slack_bolt / slack_sdk against the loopback fake Slack, wired by
the composition root on a real SQLite file. Commands, buttons, modals, identity and roles."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from adapters.slack.manifest import build_manifest
from app.assembly import App, all_commands, build_app
from app.settings import Settings
from bot.commands.registry import CommandRegistry
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from tests.fakes.slack_server import FakeSlack
from tests.postgres_server import storage_settings
from tests.support import FixedClock

ADMIN = "UADMIN"


def slack_settings(tmp_path: Path, fake: FakeSlack, **slack: Any) -> Settings:
    return Settings(
        storage=storage_settings(tmp_path, "bot.db"),
        slack={"bot_token": "xoxb-test", "app_token": "xapp-test", "signing_secret": "s3cret",
               "api_base_url": fake.api_url, **slack},
        coalition={"admins": [f"slack:{ADMIN}"]},
        delivery={"slack_workspace_per_second": 50.0},
        web={"host": "127.0.0.1", "port": 0},
    )


def install(fake: FakeSlack, settings: Settings) -> None:
    """Install the app in the fake with exactly the scopes its generated manifest asks for: a method the
    adapter calls without a granted scope is refused with ``missing_scope``, as Slack does."""
    manifest = build_manifest(settings, CommandRegistry(all_commands()))
    fake.grant(manifest["oauth_config"]["scopes"]["bot"])


@asynccontextmanager
async def slack_app(tmp_path: Path, fake: FakeSlack, clock: FixedClock | None = None,
                    **slack: Any) -> AsyncIterator[App]:
    settings = slack_settings(tmp_path, fake, **slack)
    install(fake, settings)
    async with build_app(settings, clock=clock or FixedClock()) as app:
        yield app


def everyone(fake: FakeSlack) -> None:
    fake.add_user(ADMIN, name="ada", tz="Europe/Paris")
    fake.add_user("UMEM", name="mel", tz="Africa/Nairobi")
    fake.add_user("UGUEST", name="gus", is_restricted=True)
    fake.add_user("UCONNECT", name="conny", is_stranger=True)


async def command(fake: FakeSlack, slash: str, text: str, user: str) -> dict[str, Any]:
    """Run a slash command; returns the ephemeral reply posted to its response_url."""
    ack = await fake.send_slash_command(command=slash, text=text, user_id=user)
    assert ack == {}  # acked at once, answered through response_url
    return await last_reply(fake)


async def last_reply(fake: FakeSlack) -> dict[str, Any]:
    """The reply to the last envelope, posted to its response_url."""
    rid = fake.envelopes[-1]["payload"]["response_url"].rsplit("/", 1)[1]
    return await fake.next_response(rid)


def text_of(reply: dict[str, Any]) -> str:
    parts = [reply.get("text", "")]
    for block in reply.get("blocks", []):
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e.get("text", "") if isinstance(e.get("text"), str) else e["text"]["text"]
                  for e in block.get("elements", [])]
    return "\n".join(parts)


def buttons(reply: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in reply.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


async def test_umbrella_and_shortcut_commands_reply_ephemerally(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            created = await command(fake, "/coalition", "topic create climate Climate & energy", ADMIN)
            assert created["response_type"] == "ephemeral"
            assert created["replace_original"] is False
            assert "Topic “climate” created: Climate &amp; energy" in text_of(created)

            listed = await command(fake, "/topics", "", "UMEM")
            assert listed["response_type"] == "ephemeral"
            assert "climate — Climate &amp; energy" in text_of(listed)
            assert [(b["action_id"], b["value"]) for b in buttons(listed)] == [("coalition:0", "subscribe climate")]

            joined = await command(fake, "/subscribe", "climate mode:daily", "UMEM")
            assert "You now follow “climate”" in text_of(joined)
            helped = await command(fake, "/coalition", "", "UMEM")  # the bare umbrella shows help
            assert "Commands you can use" in text_of(helped)

            person = await app.store.people.identity(Identity("slack", "UMEM"))
            assert person is not None and person.display_name == "mel"
            topic = await app.store.topics.by_slug("climate")
            assert topic is not None
            subscription = await app.store.subscriptions.get(person.person_id, topic.id)
            assert subscription is not None and subscription.mode is DeliveryMode.DAILY
            # The platform zone came from users.info.
            mel = await app.store.people.get(person.person_id)
            assert mel is not None and mel.platform_timezone == "Africa/Nairobi"


async def test_button_click_runs_the_action_as_the_clicking_person(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            created = await command(fake, "/coalition", "topic create climate Climate", ADMIN)
            button = buttons(created)[0]
            assert button["value"] == "subscribe climate" and button["style"] == "primary"

            # Someone else clicks the button the admin saw: it runs as them.
            ack = await fake.send_block_action(user_id="UMEM", action_id=button["action_id"], value=button["value"])
            assert ack == {}
            reply = await last_reply(fake)
            assert reply["response_type"] == "ephemeral"
            assert "You now follow “climate”" in text_of(reply)

            topic = await app.store.topics.by_slug("climate")
            assert topic is not None
            member = await app.store.people.identity(Identity("slack", "UMEM"))
            admin = await app.store.people.identity(Identity("slack", ADMIN))
            assert member is not None and admin is not None
            assert await app.store.subscriptions.get(member.person_id, topic.id) is not None
            assert await app.store.subscriptions.get(admin.person_id, topic.id) is None

            # A guest clicking an admin-only action is refused by the core, naming the role.
            await fake.send_block_action(user_id="UGUEST", action_id="coalition:0", value="topic archive climate")
            refused = await last_reply(fake)
            assert "This needs the coordinator role." in text_of(refused)
            topic = await app.store.topics.by_slug("climate")
            assert topic is not None and not topic.archived


async def test_guests_and_slack_connect_users_are_refused_members_only_commands(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            for user in ("UGUEST", "UCONNECT"):
                reply = await command(fake, "/coalition", "rsvp 1 yes", user)
                assert reply["response_type"] == "ephemeral"
                assert ":warning:" in text_of(reply) and "This needs the member role." in text_of(reply)
                assert await app.store.people.identity(Identity("slack", user)) is not None
            member = await command(fake, "/coalition", "rsvp 1 yes", "UMEM")
            assert "This needs" not in text_of(member)


async def test_coordinator_group_maps_to_coordinator(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        fake.add_user("UCOORD", name="cora")
        fake.add_usergroup("S0COORD", ["UCOORD"])
        async with slack_app(tmp_path, fake, coordinator_group="S0COORD") as app, \
                fake.socket_mode(app.platform_runners[0].bolt):
            allowed = await command(fake, "/coalition", "topic create climate Climate", "UCOORD")
            assert "created" in text_of(allowed)
            refused = await command(fake, "/coalition", "topic create other Other", "UMEM")
            assert "This needs the coordinator role." in text_of(refused)
            # Cached: one usergroups call for both commands.
            assert len(fake.calls_to("usergroups.users.list")) == 1


async def test_mentions_in_untrusted_text_are_neutralised(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            # Slack sends mentions in command text as markup (should_escape: true).
            title = "Alert <!here> <!channel> <!everyone> <!subteam^S123|@team> <@U999|bob> <b>x</b>"
            reply = await command(fake, "/coalition", f"topic create climate {title}", ADMIN)
            text = text_of(reply)
            for markup in ("<!here>", "<!channel>", "<!everyone>", "<!subteam", "<@U999"):
                assert markup not in text
            assert "@\u2060here" in text and "@\u2060bob" in text
            assert "&lt;b&gt;x&lt;/b&gt;" in text


async def test_modal_composes_the_rest_of_a_command(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            ack = await fake.send_slash_command(command="/coalition", text="topic create climate", user_id=ADMIN)
            assert ack == {}
            await fake.wait_for_calls("views.open")
            view = next(iter(fake.views.values()))
            assert view["callback_id"] == "coalition_compose"
            assert [b["type"] for b in view["blocks"]] == ["context", "input"]
            assert view["blocks"][1]["element"]["multiline"] is True
            assert fake.responses == []  # nothing ran yet

            values = {"compose": {"text": {"type": "plain_text_input", "value": "Climate and\nenergy"}}}
            result = await fake.send_view_submission(user_id=ADMIN, callback_id=view["callback_id"],
                                                     values=values, private_metadata=view["private_metadata"])
            assert result["response_action"] == "update"
            assert "Topic “climate” created" in text_of({"blocks": result["view"]["blocks"]})
            topic = await app.store.topics.by_slug("climate")
            assert topic is not None and topic.title == "Climate and\nenergy"

            # The same modal submitted by someone without the role keeps the modal open with the reason.
            again = dict(json.loads(view["private_metadata"]), prefix="topic create other")
            refused = await fake.send_view_submission(user_id="UMEM", callback_id=view["callback_id"],
                                                      values=values, private_metadata=json.dumps(again))
            assert refused["response_action"] == "errors"
            assert "This needs the coordinator role." in refused["errors"]["compose"]
            assert await app.store.topics.by_slug("other") is None

            # A complete command runs directly, without a modal.
            await command(fake, "/coalition", "topic create third Third topic", ADMIN)
            assert len(fake.calls_to("views.open")) == 1


async def test_modal_button_click_updates_the_modal(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            await command(fake, "/coalition", "topic create climate Climate", ADMIN)
            payload = fake.block_actions_payload(user_id="UMEM", action_id="coalition:0", value="subscribe climate")
            payload["container"] = {"type": "view", "view_id": "V1"}
            payload["view"] = {"id": "V1"}
            payload.pop("response_url")
            fake.views["V1"] = {"id": "V1"}
            await fake.send_envelope("interactive", payload)
            await fake.wait_for_calls("views.update")
            assert "You now follow “climate”" in text_of({"blocks": fake.views["V1"]["blocks"]})
