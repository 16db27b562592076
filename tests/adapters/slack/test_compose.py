"""The compose-in-a-modal rule reads only command declarations, so it covers ``announce new`` too."""

from __future__ import annotations

from adapters.slack.compose import composable, compose_view, submitted_command
from bot.commands.context import Context
from bot.commands.registry import CommandRegistry
from bot.commands.spec import Arg, Command, Option
from bot.i18n import Translator, _
from bot.messages import Message


async def _handler(ctx: Context) -> Message:
    return Message()


REGISTRY = CommandRegistry([
    Command(("announce", "new"), _("x"), _handler,
            args=(Arg("topic", _("t")), Arg("text", _("The announcement text"), rest=True, max_length=4000)),
            options=(Option("when", _("w")),)),
    Command(("help",), _("x"), _handler, args=(Arg("command", _("c"), required=False, rest=True),)),
])


def test_only_a_missing_required_rest_argument_opens_a_modal() -> None:
    found = composable(REGISTRY, "announce new climate")
    assert found is not None and found.arg.name == "text" and found.prefix == "announce new climate"
    with_option = composable(REGISTRY, 'announce new climate when:"tomorrow 09:00"')
    assert with_option is not None and with_option.prefix == 'announce new climate when:"tomorrow 09:00"'
    for complete_or_wrong in ("announce new climate Hello all", "announce new", "help", "nonsense words",
                              'announce new "unclosed'):
        assert composable(REGISTRY, complete_or_wrong) is None


def test_view_round_trip() -> None:
    found = composable(REGISTRY, "announce new climate")
    assert found is not None
    view = compose_view(found, Translator.load(), "fr", "C1")
    assert view["submit"]["text"] == "Envoyer"
    assert view["blocks"][1]["element"]["max_length"] == 3000  # Slack's limit for a text input
    view["state"] = {"values": {"compose": {"text": {"value": "Hello\nall"}}}}
    assert submitted_command(view) == "announce new climate Hello\nall"
    assert submitted_command({"private_metadata": "not json"}) is None
