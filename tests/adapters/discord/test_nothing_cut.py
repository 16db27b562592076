"""Nothing is cut silently on Discord: what passes a Discord limit (25 buttons, 6,000 characters an embed, 25
fields, 25 choices) is spread over more messages, embeds or autocomplete, and the fake refuses anything over a
limit (400, 50035) as Discord does, so a violation fails here as it would in production."""

from __future__ import annotations

from discord import app_commands

from adapters.discord.client import DiscordRunner
from adapters.discord.commands import build_commands
from adapters.discord.interactions import choices_for
from adapters.discord.render import BUTTON_LIMIT, EMBED_TOTAL_LIMIT, FIELD_COUNT_LIMIT, render_parts
from app.assembly import App
from bot.commands.invoke import invoke
from bot.commands.registry import CommandRegistry
from bot.commands.spec import Arg, ArgKind, Command
from bot.delivery.model import SentMessage
from bot.i18n import _
from bot.messages import Action, Field, Message, RenderedAction, RenderedField, RenderedMessage
from bot.model import Identity
from bot.subscriptions.declarations import SUBSCRIBE
from tests.fakes.discord_server import BOB, GENERAL, FakeDiscord
from tests.support import FixedClock

MESSAGES = "/channels/{channel_id}/messages"


def many_actions(count: int) -> tuple[Action, ...]:
    return tuple(Action(f"Topic {n}", invoke(SUBSCRIBE, topic=f"topic-{n}")) for n in range(count))


def big_fields(count: int, size: int = 1000) -> tuple[Field, ...]:
    return tuple(Field(f"Field {n}", f"{n}:" + "x" * (size - len(f"{n}:"))) for n in range(count))


async def test_a_dm_with_30_buttons_and_30_long_fields_arrives_whole(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    bob = await app.store.people.ensure_identity(Identity("discord", str(BOB.id)), "bob", app.services.clock.now())
    message = Message(title="Everything", body=("Pick topics.",), fields=big_fields(30), actions=many_actions(30))

    await app.services.notifier.to_people([bob.person_id], message, key="whole")
    await app.worker.run_due()

    assert all(r.status == 200 for r in fake.requests_to("POST", MESSAGES))  # the fake checks every limit
    delivered = fake.dm_messages_to(BOB.id)
    labels = [c["label"] for m in delivered for row in m.components for c in row["components"]]
    assert labels == [f"Topic {n}" for n in range(30)]
    values = [f["value"] for m in delivered for e in m.embeds for f in e.get("fields", [])]
    assert [v.split(":")[0] for v in values] == [str(n) for n in range(30)]
    [row] = await app.store.outbox.by_kind("notice")
    assert row.sent is not None and len(row.sent.message_ids) == len(delivered)


async def test_ten_long_fields_passing_6000_characters_are_delivered_over_several_embeds(
        fake: FakeDiscord, running: tuple[App, DiscordRunner]) -> None:
    app, _ = running
    bob = await app.store.people.ensure_identity(Identity("discord", str(BOB.id)), "bob", app.services.clock.now())

    await app.services.notifier.to_people([bob.person_id], Message(body=("Report",), fields=big_fields(10)),
                                          key="fields")
    await app.worker.run_due()

    [row] = await app.store.outbox.by_kind("notice")
    assert row.sent is not None, row
    values = [f["value"] for m in fake.dm_messages_to(BOB.id) for e in m.embeds for f in e.get("fields", [])]
    assert [v.split(":")[0] for v in values] == [str(n) for n in range(10)]


async def test_an_edit_that_drops_the_buttons_removes_them(fake: FakeDiscord,
                                                           running: tuple[App, DiscordRunner]) -> None:
    app, runner = running
    tr = app.services.translator
    sent = await runner.delivery.send_channel(
        str(GENERAL.id), Message(body=("v1",), actions=many_actions(2)).render(tr, "en"), delivery_key="edit:1")
    await runner.delivery.edit(sent, Message(body=("v2 (cancelled)",)).render(tr, "en"))

    [message] = fake.messages_in(GENERAL.id)
    assert message.embeds[0]["description"] == "v2 (cancelled)" and message.components == []


def test_more_than_25_buttons_go_on_to_further_parts_in_order() -> None:
    actions = tuple(RenderedAction(f"B{n}", f"cmd {n}") for n in range(60))

    parts = render_parts(RenderedMessage(body=("text",), actions=actions))

    assert [len(p.actions) for p in parts] == [25, 25, 10]
    assert parts[0].embed is not None and parts[1].embed is None and parts[2].embed is None
    assert [a.label for p in parts for a in p.actions] == [a.label for a in actions]


def test_fields_over_the_embed_total_are_spread_over_several_embeds() -> None:
    fields = tuple(RenderedField(f"f{n}", "v" * 1024) for n in range(20))  # 20,000+ characters

    parts = render_parts(RenderedMessage(title="T", body=("b",), fields=fields, footer="foot"))

    embeds = [p.embed for p in parts if p.embed is not None]
    assert all(len(e) <= EMBED_TOTAL_LIMIT and len(e.fields) <= FIELD_COUNT_LIMIT for e in embeds)
    assert [f.name for e in embeds for f in e.fields] == [f.name for f in fields]
    assert embeds[-1].footer.text == "foot"


def test_more_than_25_short_fields_stay_fields_over_two_embeds() -> None:
    fields = tuple(RenderedField(f"f{n}", "v") for n in range(30))

    parts = render_parts(RenderedMessage(body=("b",), fields=fields))

    counts = [len(p.embed.fields) for p in parts if p.embed is not None]
    assert counts == [FIELD_COUNT_LIMIT, 5]


def test_more_than_25_fixed_choices_become_autocomplete_over_all_of_them() -> None:
    many = tuple(f"choice-{n:02}" for n in range(30))
    command = Command(path=("pick",), help=_("Pick one"),
                      args=(Arg("value", _("A value"), ArgKind.CHOICE, choices=many),))
    few = Command(path=("mode",), help=_("Pick a mode"),
                  args=(Arg("value", _("A value"), ArgKind.CHOICE, choices=("a", "b")),))

    async def invoke(*_: object) -> None:
        return None

    async def complete(*_: object) -> list[app_commands.Choice[str]]:
        return []

    built = {c.name: c for c in build_commands(CommandRegistry([command, few]), str, invoke, complete)}
    pick, mode = built["pick"], built["mode"]
    assert isinstance(pick, app_commands.Command) and isinstance(mode, app_commands.Command)
    [value] = pick.parameters
    assert value.autocomplete and not value.choices
    assert [c.value for c in mode.parameters[0].choices] == ["a", "b"]


def test_autocomplete_offers_at_most_25_and_never_a_shortened_value() -> None:
    suggestions = [(f"label {n}", f"v{n}") for n in range(30)] + [("long", "x" * 101), ("L" * 120, "ok")]

    choices = choices_for(reversed(suggestions))

    assert len(choices) == BUTTON_LIMIT
    assert all(len(c.value) <= 100 and len(c.name) <= 100 for c in choices)
    assert "x" * 101 not in [c.value for c in choices]
    assert choices[0].value == "ok" and choices[0].name.endswith("…")


async def test_a_retry_after_the_nonce_window_recognises_a_part_of_buttons_only(
        fake: FakeDiscord, running: tuple[App, DiscordRunner], clock: FixedClock) -> None:
    app, runner = running
    await app.store.people.ensure_identity(Identity("discord", str(BOB.id)), "bob", app.services.clock.now())
    fake.nonce_window = 0.0  # Discord has forgotten the nonces: only reading the DM can prevent a repost
    rendered = Message(body=("Pick",), actions=many_actions(30)).render(app.services.translator, "en")

    async def send() -> SentMessage:
        bob = await app.store.people.identity(Identity("discord", str(BOB.id)))
        assert bob is not None
        return await runner.delivery.send_direct(bob, rendered, delivery_key="buttons:1")

    first = await send()
    clock.advance(minutes=10)
    again = await send()

    assert again == first and len(first.message_ids) == 2
    assert len(fake.dm_messages_to(BOB.id)) == 2
