"""The compose-in-a-modal rule reads only command declarations, so it covers ``announce new`` too."""

from __future__ import annotations

from adapters.slack.compose import composable, compose_view, metadata_length, submitted_command
from bot.commands.registry import CommandRegistry
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.i18n import Translator, _

REGISTRY = CommandRegistry([
    Command(("announce", "new"), _("x"),
            args=(Arg("topic", _("t")), Arg("text", _("The announcement text"), rest=True, max_length=4000)),
            options=(Option("when", _("w"), ArgKind.TIME),)),
    Command(("help",), _("x"), args=(Arg("command", _("c"), required=False, rest=True),)),
])


def test_only_a_missing_required_rest_argument_opens_a_modal() -> None:
    found = composable(REGISTRY, "announce new climate")
    assert found is not None and found.arg.name == "text" and found.prefix == "announce new climate"
    with_option = composable(REGISTRY, 'announce new climate when:"tomorrow 09:00"')
    assert with_option is not None and with_option.prefix == 'announce new climate when:"tomorrow 09:00"'
    unquoted = composable(REGISTRY, "announce new climate when:monday 14:00")  # the time took both words
    assert unquoted is not None and unquoted.prefix == "announce new climate when:monday 14:00"
    assert composable(REGISTRY, "announce new climate when:tomorrow 9 Webinar") is None  # a broken time: no form
    for complete_or_wrong in ("announce new climate Hello all", "announce new", "help", "nonsense words",
                              'announce new "unclosed'):
        assert composable(REGISTRY, complete_or_wrong) is None


def test_view_round_trip() -> None:
    found = composable(REGISTRY, "announce new climate")
    assert found is not None
    view = compose_view(found, Translator.load(), "fr", "C1")
    assert view is not None
    assert view["submit"]["text"] == "Envoyer"
    assert view["blocks"][1]["element"]["max_length"] == 3000  # Slack's limit for a text input
    view["state"] = {"values": {"compose": {"text": {"value": "Hello\nall"}}}}
    assert submitted_command(view) == "announce new climate Hello\nall"
    assert submitted_command({"private_metadata": "not json"}) is None


def test_a_form_says_when_slack_caps_the_text_below_what_the_command_takes() -> None:
    """The announcement text may hold 4,000 characters, a Slack text input 3,000: the form says so."""
    found = composable(REGISTRY, "announce new climate")
    assert found is not None
    view = compose_view(found, Translator.load(), "en", None)
    assert view is not None
    field = view["blocks"][-1]
    assert field["element"]["max_length"] == 3000
    assert "at most 3000 characters" in field["hint"]["text"] and "up to 4000" in field["hint"]["text"]
    short = Command(("topic", "create"), _("x"),
                    args=(Arg("slug", _("s")), Arg("title", _("Title"), rest=True, max_length=200)))
    found = composable(CommandRegistry([short]), "topic create climate")
    assert found is not None
    view = compose_view(found, Translator.load(), "en", None)
    assert view is not None and "hint" not in view["blocks"][-1]


def test_the_metadata_limit_is_measured_as_slack_receives_it() -> None:
    """3,000 characters of private_metadata as sent: JSON-encoded, a non-ASCII character counts six."""
    assert metadata_length("abc") == 3 and metadata_length("é") == 6 and metadata_length('"') == 2
    fits = composable(REGISTRY, f'announce new climate when:"{"é" * 400}"')
    too_long = composable(REGISTRY, f'announce new climate when:"{"é" * 600}"')
    assert fits is not None and too_long is not None
    assert compose_view(fits, Translator.load(), "en", "C1") is not None
    assert compose_view(too_long, Translator.load(), "en", "C1") is None  # 600 characters, 3,600 as sent
