"""The text grammar shared by Slack and the console."""

from __future__ import annotations

import pytest

from app.assembly import all_commands
from bot.commands.grammar import parse_arguments, positional_tokens, split_command, tokenize
from bot.commands.registry import CommandRegistry
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.errors import UsageError
from bot.i18n import Translator, _
from bot.when import EXAMPLES

ANNOUNCE = Command(("announce", "new"), _("x"),
                   args=(Arg("topic", _("t")), Arg("text", _("x"), rest=True, max_length=4000)),
                   options=(Option("when", _("w")),))
CREATE = Command(("topic", "create"), _("x"), args=(Arg("slug", _("s")), Arg("title", _("t"), rest=True)),
                 options=(Option("visibility", _("v"), choices=("public", "members", "private")),
                          Option("description", _("d"))))


def test_straight_and_curly_quotes_group_words() -> None:
    assert [t.value for t in tokenize('a "b c" “d e” „f g“ h')] == ["a", "b c", "d e", "f g", "h"]


def test_unbalanced_quote_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        tokenize('subscribe "disinformation')


def test_rest_argument_takes_the_rest_of_the_line_without_quotes() -> None:
    values = parse_arguments(ANNOUNCE, "disinformation Hello all, the report is out")
    assert values == {"topic": "disinformation", "text": "Hello all, the report is out"}


def test_options_are_recognised_anywhere_even_inside_the_rest() -> None:
    values = parse_arguments(ANNOUNCE, 'disinformation when:"tomorrow 09:00" Hello all')
    assert values == {"topic": "disinformation", "text": "Hello all", "when": "tomorrow 09:00"}
    values = parse_arguments(ANNOUNCE, "disinformation Hello all when:“in 2h”")
    assert values["when"] == "in 2h" and values["text"] == "Hello all"


def test_undeclared_name_value_pairs_stay_text() -> None:
    values = parse_arguments(ANNOUNCE, "disinformation Note: see https://example.org/report")
    assert values["text"] == "Note: see https://example.org/report"
    assert "note" not in values


def test_quoted_rest_is_unquoted_and_multiline_text_kept() -> None:
    assert parse_arguments(CREATE, 'whrd "Online harassment"')["title"] == "Online harassment"
    assert parse_arguments(ANNOUNCE, "t line one\nline two")["text"] == "line one\nline two"


def test_choices_are_checked_and_lowercased() -> None:
    assert parse_arguments(CREATE, "x Title visibility:MEMBERS")["visibility"] == "members"
    with pytest.raises(UsageError):
        parse_arguments(CREATE, "x Title visibility:secret")


@pytest.mark.parametrize("line", ["", '""', "x " + "t" * 101, 'x Title description:""'])
def test_empty_or_over_long_arguments_are_usage_errors(line: str) -> None:
    with pytest.raises(UsageError):
        parse_arguments(CREATE, line)


def test_missing_and_extra_arguments() -> None:
    subscribe = Command(("subscribe",), _("x"), args=(Arg("topic", _("t")),))
    with pytest.raises(UsageError):
        parse_arguments(subscribe, "")
    with pytest.raises(UsageError):
        parse_arguments(subscribe, "a b")


def test_option_given_twice_is_refused() -> None:
    with pytest.raises(UsageError):
        parse_arguments(ANNOUNCE, "t text when:now when:later")


def test_split_command_finds_groups_and_subcommands() -> None:
    words = CommandRegistry(all_commands()).known_words()
    assert split_command("/topic create x y", words) == (("topic", "create"), "x y")
    assert split_command("subscribe disinformation", words) == (("subscribe",), "disinformation")
    assert split_command("/topic", words)[0] == ("topic",)
    with pytest.raises(UsageError):
        split_command("/nonsense", words)


def test_declarations_are_valid() -> None:
    with pytest.raises(ValueError, match="last argument"):
        Command(("x",), _("x"), args=(Arg("a", _("a"), rest=True), Arg("b", _("b"))))
    with pytest.raises(ValueError, match="required argument"):
        Command(("x",), _("x"), args=(Arg("a", _("a"), required=False), Arg("b", _("b"))))


def test_a_closing_quote_followed_by_punctuation_closes() -> None:
    values = parse_arguments(ANNOUNCE, "elections Read our “Guide”, it is out")
    assert values["text"] == "Read our “Guide”, it is out"
    assert [t.value for t in tokenize('"Guide". Now')] == ["Guide", ".", "Now"]


def test_free_text_may_contain_a_lone_quote_but_other_arguments_may_not() -> None:
    assert parse_arguments(ANNOUNCE, 'disinformation He said "hello')["text"] == 'He said "hello'
    subscribe = Command(("subscribe",), _("x"), args=(Arg("topic", _("t")),))
    with pytest.raises(UsageError):
        parse_arguments(subscribe, '"whrd-safety')


def test_a_quoted_name_value_pair_is_text_not_an_option() -> None:
    values = parse_arguments(ANNOUNCE, 'disinformation "when: tomorrow" is the question')
    assert "when" not in values
    assert values["text"] == '"when: tomorrow" is the question'


def test_rest_text_keeps_its_indentation() -> None:
    text = "disinformation Agenda:\n  1. Intro\n  2.  Reports when:now"
    values = parse_arguments(ANNOUNCE, text)
    assert values["text"] == "Agenda:\n  1. Intro\n  2.  Reports"
    assert values["when"] == "now"


@pytest.mark.parametrize(("typed", "title"), [
    ('"Title with "inner" quotes"', 'Title with "inner" quotes'),
    ('“The “Year of Action” report”', "The “Year of Action” report"),
    ('"Quoted" and unquoted "bits"', '"Quoted" and unquoted "bits"'),
    ('"Guide", part "two"', '"Guide", part "two"'),
    ('Plain title', "Plain title"),
    ('"Just quoted"', "Just quoted"),
])
def test_a_rest_argument_wrapped_in_quotes_loses_the_wrapping_only(typed: str, title: str) -> None:
    values = parse_arguments(CREATE, f"reports {typed}")
    assert values["title"] == title


# --- time-valued options and arguments (issue 15, item 6) ----------------------------------------------------

TIMED = Command(("announce", "new"), _("x"),
                args=(Arg("topic", _("t")), Arg("text", _("x"), rest=True, max_length=4000)),
                options=(Option("when", _("w"), ArgKind.TIME), Option("note", _("n"))))
AT_THEN_TITLE = Command(("meeting", "plan"), _("x"),
                        args=(Arg("at", _("a"), ArgKind.TIME), Arg("title", _("t"), rest=True)))


@pytest.mark.parametrize(("line", "when", "text"), [
    ("t Webinar soon when:monday 14:00", "monday 14:00", "Webinar soon"),
    ("t when:monday 14:00 Webinar soon", "monday 14:00", "Webinar soon"),
    ("t when:in 2h Webinar soon", "in 2h", "Webinar soon"),
    ("t when:in 2 hours 30 minutes Webinar", "in 2 hours 30 minutes", "Webinar"),
    ("t when:tomorrow at 9:30 pm Webinar", "tomorrow at 9:30 pm", "Webinar"),
    ("t when:2026-12-01 14:00 +03:00 Webinar", "2026-12-01 14:00 +03:00", "Webinar"),
    ("t when:tomorrow 2026 report", "tomorrow", "2026 report"),
    ("t when: tomorrow 9am Webinar", "tomorrow 9am", "Webinar"),
    ('t when:"tomorrow" 09:00 call', "tomorrow", "09:00 call"),  # quotes say where the time ends
    ("t Agenda when:monday\n14:00 start", "monday", "Agenda\n14:00 start"),  # a time stays on its line
    ("t when:soon Webinar", "soon", "Webinar"),  # no time at all: one word, refused by the handler
])
def test_an_unquoted_time_option_takes_every_word_of_its_time(line: str, when: str, text: str) -> None:
    values = parse_arguments(TIMED, line)
    assert (values["when"], values["text"]) == (when, text)


@pytest.mark.parametrize(("line", "shown"), [
    ("t when:tomorrow 9 Webinar", "tomorrow 9 Webinar"),
    ("t when:in 2h 30 people expected", "in 2h 30 people"),
    ("t when:in 2 Webinar", "in 2 Webinar"),
    ("t Webinar when:in", "in"),
    ("t Webinar when:monday at", "monday at"),
])
def test_a_time_option_that_begins_a_time_it_does_not_finish_is_refused(line: str, shown: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(TIMED, line)
    rendered = Translator.load().render(caught.value.message, "en")
    assert rendered.startswith(f"“{shown}” is not a complete date or time")
    assert rendered.endswith(f"Try, for example: {EXAMPLES}.")


def test_other_options_still_take_one_word() -> None:
    values = parse_arguments(TIMED, "t note:monday 14:00 Webinar")
    assert values["note"] == "monday" and values["text"] == "14:00 Webinar"


def test_a_time_option_stops_at_the_next_option() -> None:
    values = parse_arguments(TIMED, "t when:tomorrow note:x 14:00")
    assert (values["when"], values["note"], values["text"]) == ("tomorrow", "x", "14:00")


def test_a_positional_time_argument_takes_every_word_of_its_time() -> None:
    assert parse_arguments(AT_THEN_TITLE, "monday 14:00 Weekly sync") == {"at": "monday 14:00",
                                                                          "title": "Weekly sync"}
    assert parse_arguments(AT_THEN_TITLE, '"monday" 14:00 sync')["title"] == "14:00 sync"
    with pytest.raises(UsageError):
        parse_arguments(AT_THEN_TITLE, "tomorrow 9 sync")


def test_positional_tokens_leave_out_the_words_a_time_option_took() -> None:
    assert [t.value for t in positional_tokens(TIMED, "t when:monday 14:00")] == ["t"]
    assert [t.value for t in positional_tokens(TIMED, "t hello when:in 2h there")] == ["t", "hello", "there"]


def test_every_time_valued_declaration_is_declared_a_time() -> None:
    """The grammar reads a time only where the kind says so: every option or argument that holds a time."""
    time_valued = {"when", "occurrence"}
    for command in all_commands():
        for spec in (*command.args, *command.options):
            if spec.name in time_valued:
                assert spec.kind is ArgKind.TIME, f"{command.name} {spec.name}"
