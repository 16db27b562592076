"""Words in the reader's language on the command line: choices (``rsvp 1 oui``), times (``when:demain 14h``) and
language tags (``pt-BR``), read strictly: the reader's words and English, never another language's, never a guess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.commands.context import Caller, Context, ZoneSource
from bot.commands.grammar import parse_arguments, validate
from bot.commands.spec import Arg, ArgKind, ChoiceWords, Command, Option, choice_meanings
from bot.commands.values import parse_language
from bot.errors import UsageError, UserError
from bot.i18n import Translator, _, available_languages
from bot.meetings.declarations import ANSWER, RSVP, SCOPE
from bot.meetings.model import Answer
from bot.model import Identity, IdentityRecord, Person, Role, RoleSources
from tests.support import Harness

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)  # Tuesday, 13:00 in Nairobi
NAIROBI = ZoneInfo("Africa/Nairobi")
TRANSLATOR = Translator.load()
WHEN = Option("when", _("x"), ArgKind.TIME)
AT = Arg("at", _("x"), ArgKind.TIME)
TEXT = Arg("text", _("x"), rest=True)
ANNOUNCE = Command(("try",), _("x"), args=(TEXT,), options=(WHEN,))
AT_THEN_TITLE = Command(("at",), _("x"), args=(AT, Arg("title", _("x"), rest=True)))
SHIPPED = ("ar", "es", "fr", "pt", "sw")
WORDS = {  # the answers as a reader of each language types them, besides English
    "fr": {"oui": Answer.YES, "NON": Answer.NO, "peut-être": Answer.MAYBE, "peut-etre": Answer.MAYBE},
    "es": {"sí": Answer.YES, "si": Answer.YES, "no": Answer.NO, "quizás": Answer.MAYBE, "quizas": Answer.MAYBE},
    "pt": {"sim": Answer.YES, "não": Answer.NO, "nao": Answer.NO, "talvez": Answer.MAYBE},
    "ar": {"نعم": Answer.YES, "لا": Answer.NO, "ربما": Answer.MAYBE},
    "sw": {"ndiyo": Answer.YES, "Ndio": Answer.YES, "hapana": Answer.NO, "labda": Answer.MAYBE},
}


def _context(command: Command, values: dict[str, str], language: str) -> Context[None]:
    caller = Caller(person=Person(1, "Ada", None, None, None, None, None, None, NOW),
                    identity=IdentityRecord(Identity("console", "ada"), 1, "Ada", Role.MEMBER, None, None),
                    roles=RoleSources(Role.OUTSIDER, Role.MEMBER, Role.OUTSIDER), coordinated=frozenset(),
                    language=language, timezone="Africa/Nairobi", timezone_source=ZoneSource.OWN)
    return Context(caller=caller, command=command, values=values, deps=None, now=NOW)


# --- choices --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "typed", "answer"),
                         [(language, typed, answer) for language, words in WORDS.items()
                          for typed, answer in words.items()])
def test_an_answer_in_the_readers_words(language: str, typed: str, answer: Answer) -> None:
    assert validate(RSVP, {"id": "1", "answer": typed}, language)["answer"] == answer.value
    kept = validate(RSVP, {"id": "1", "answer": typed})  # no reader known: read later, in their language
    assert _context(RSVP, kept, language).choice(ANSWER, Answer) is answer
    assert _context(RSVP, {"id": "1", "answer": "Yes"}, language).choice(ANSWER, Answer) is Answer.YES


@pytest.mark.parametrize(("language", "typed", "shown"), [
    ("fr", "sim", "oui, non, peut-être"), ("pt", "oui", "sim, não, talvez"), ("en", "oui", "yes, no, maybe"),
    ("es", "ndiyo", "sí, no, quizás"), ("sw", "نعم", "ndiyo, hapana, labda"), ("ar", "talvez", "نعم, لا, ربما"),
])
def test_an_answer_in_another_languages_words_is_refused(language: str, typed: str, shown: str) -> None:
    with pytest.raises(UsageError):
        validate(RSVP, {"id": "1", "answer": typed}, language)
    kept = validate(RSVP, {"id": "1", "answer": typed})
    with pytest.raises(UsageError) as refused:
        _context(RSVP, kept, language).choice(ANSWER, Answer)
    assert refused.value.message == _("“{name}” must be one of: {choices}.", name="answer", choices=shown)


def test_no_word_is_kept_that_names_no_choice_in_any_language() -> None:
    with pytest.raises(UsageError):
        validate(RSVP, {"id": "1", "answer": "perhaps"})


def test_every_shipped_language_has_a_word_for_every_answer_and_the_scope() -> None:
    assert set(SHIPPED) <= set(available_languages())
    for language in SHIPPED:
        assert {entry.choice for entry in ANSWER.words if entry.language == language and entry.words} == set(Answer)
        assert set(choice_meanings(ANSWER.name, ANSWER.choices, ANSWER.words)[language].values()) == set(Answer)
        assert SCOPE.choice_for({"fr": "toutes", "es": "todas", "pt": "todos", "ar": "الكل",
                                 "sw": "zote"}[language], language) == "all"


@pytest.mark.parametrize("words", [
    (ChoiceWords("fr", "yes", ("oui",)), ChoiceWords("fr", "no", ("OUI",))),  # one word, two choices
    (ChoiceWords("fr", "no", ("Yes",)),),  # an English choice every reader may type
    (ChoiceWords("en", "no", ("y",)), ChoiceWords("fr", "yes", ("Y",))),  # an English word, likewise
    (ChoiceWords("fr", "si", ("oui",)),),  # not a declared choice
    (ChoiceWords("fr", "yes", ("peut-être",)), ChoiceWords("fr", "no", ("peut-etre",))),  # the same once folded
])
def test_a_word_that_would_name_two_choices_is_a_declaration_error(words: tuple[ChoiceWords, ...]) -> None:
    with pytest.raises(ValueError):
        Arg("answer", _("x"), ArgKind.CHOICE, choices=("yes", "no"), words=words)
    with pytest.raises(ValueError):
        Option("answer", _("x"), ArgKind.CHOICE, choices=("yes", "no"), words=words)


def test_the_same_word_in_two_languages_may_name_different_choices() -> None:
    arg = Arg("a", _("x"), ArgKind.CHOICE, choices=("yes", "no"),
              words=(ChoiceWords("xx", "yes", ("da",)), ChoiceWords("yy", "no", ("da",))))
    assert arg.choice_for("da", "xx") == "yes" and arg.choice_for("da", "yy") == "no"
    assert arg.choice_for("da", None) is None  # which one cannot be told without the reader


async def test_rsvp_in_each_language_through_the_dispatcher(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation")
    member = (await h.app.store.people.find_by_name("demo-member"))[0].id
    first = (await h.app.store.meetings.occurrences(1))[0]
    for language, words in WORDS.items():
        await h.say("demo-member", f"settings language {language}")
        for typed, answer in words.items():
            reply = await h.say("demo-member", f"rsvp 1 {typed}")
            assert not reply.message.is_error, reply.message.plain_text()
            assert (await h.app.services.meetings.answers(1, first))[member] is answer
    refused = await h.say("demo-member", "rsvp 1 oui")  # a Swahili reader now
    assert refused.message.is_error and "ndiyo, hapana, labda" in refused.message.plain_text()
    assert not (await h.say("demo-member", "rsvp 1 yes")).message.is_error  # English always works


# --- times on the command line --------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "line", "when", "text"), [
    ("fr", "when:demain 14h Bonjour à tous", "demain 14h", "Bonjour à tous"),
    ("fr", "Bonjour when:lundi à 9h30", "lundi à 9h30", "Bonjour"),
    ("es", "when:el lunes a las 14:00 Hola", "el lunes a las 14:00", "Hola"),
    ("pt", "when:amanhã às 9h Olá", "amanhã às 9h", "Olá"),
    ("ar", "when:بعد ساعتين مرحبا", "بعد ساعتين", "مرحبا"),
    ("sw", "when:kesho 09:00 Habari", "kesho 09:00", "Habari"),
    ("en", "when:tomorrow a great day", "tomorrow", "a great day"),  # "a" is not "at" in English
])
def test_a_time_option_takes_the_readers_words(language: str, line: str, when: str, text: str) -> None:
    assert parse_arguments(ANNOUNCE, line, language) == {"when": when, "text": text}


@pytest.mark.parametrize(("language", "line"), [("fr", "when:demain 9 Bonjour"), ("es", "when:mañana a Hola")])
def test_a_time_begun_in_the_readers_words_and_not_finished_is_refused(language: str, line: str) -> None:
    with pytest.raises(UsageError):
        parse_arguments(ANNOUNCE, line, language)


def test_a_positional_time_in_the_readers_words() -> None:
    assert parse_arguments(AT_THEN_TITLE, "segunda 14:00 Reunião semanal", "pt") == {
        "at": "segunda 14:00", "title": "Reunião semanal"}


def test_a_time_read_through_the_context_in_the_callers_words() -> None:
    values = parse_arguments(ANNOUNCE, "when:demain 14h Bonjour", "fr")
    reading = _context(ANNOUNCE, values, "fr").optional_time(WHEN, max_ahead=timedelta(days=366))
    assert reading is not None and reading.instant == datetime(2026, 11, 25, 11, tzinfo=UTC)
    with pytest.raises(UserError) as refused:
        _context(ANNOUNCE, {"when": "demain 14h", "text": "x"}, "es").optional_time(WHEN, max_ahead=timedelta(1))
    rendered = TRANSLATOR.render(refused.value.message, "es")
    assert "mañana 09:00" in rendered and "demain 14h" in rendered


async def test_a_meeting_created_in_french_words_through_the_dispatcher(h: Harness) -> None:
    await h.say("demo-coordinator", "settings language fr")
    await h.say("demo-coordinator", "settings timezone Africa/Nairobi")
    reply = await h.say("demo-coordinator", "meeting create disinformation Réunion demain à 14h")
    assert not reply.message.is_error, reply.message.plain_text()
    created = [m for m in await h.app.store.meetings.active() if m.title == "Réunion"]
    assert created and created[0].start_local.isoformat() == "2026-11-24T14:00:00"  # the clock's "tomorrow"


# --- language tags --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "code"), [
    ("pt-BR", "pt"), ("pt_PT", "pt"), ("PT-br", "pt"), ("es-419", "es"), ("es-ES", "es"), ("fr-CA", "fr"),
    ("ar-EG", "ar"), ("sw-KE", "sw"), ("en-US", "en"), ("zh-Hant-TW", "zh"), (" fr ", "fr"),
])
def test_a_language_tag_names_its_language(typed: str, code: str) -> None:
    among = (*SHIPPED, "en", "zh")
    assert parse_language(typed, among) == code


@pytest.mark.parametrize("typed", ["de-DE", "pt-", "pt-BRR-", "português", "p", "xx-YY"])
def test_a_tag_of_no_shipped_language_is_refused_with_the_list(typed: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_language(typed, ("en", *SHIPPED))
    rendered = TRANSLATOR.render(refused.value.message, "en")
    assert all(f"{code} (" in rendered for code in ("en", *SHIPPED)), rendered


async def test_settings_language_takes_a_tag(h: Harness) -> None:
    reply = await h.say("demo-member", "settings language pt-BR")
    assert reply.language == "pt"
    reply = await h.say("demo-member", "settings language es_419")
    assert reply.language == "es"
    refused = await h.say("demo-member", "settings language de-DE")
    assert refused.message.is_error and refused.language == "es"
