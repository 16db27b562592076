"""Translation guards: every marked string is in every catalogue, placeholders survive translation, the
template is current, and :class:`Translator` renders and serialises :class:`Text` as promised."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import (
    LOCALES_DIR,
    Text,
    Translator,
    _,
    _n,
    exact_duration,
    listing,
    moment,
    text_from_json,
    text_to_json,
    wall_clock,
    weekdays,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bot", "adapters")  # the same trees `make messages` extracts from (see babel.cfg)
KEYWORDS = {"_": None, "_n": (1, 2)}
TEMPLATE = LOCALES_DIR / "messages.pot"
CATALOGUES = sorted(LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))
NBSP = "\u00a0"

MsgKey = str | tuple[str, ...]
"""A msgid as Babel keys it: the string, or (singular, plural) for an ``_n`` message."""


@cache
def source_messages() -> dict[MsgKey, tuple[str, ...]]:
    """Every message marked in the source, with the ``file:line`` places that use it."""
    found: dict[MsgKey, list[str]] = {}
    for directory in SOURCE_DIRS:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / directory, method_map=[("**.py", "python")], keywords=KEYWORDS,
        ):
            key: MsgKey = tuple(message) if isinstance(message, (tuple, list)) else message
            found.setdefault(key, []).append(f"{directory}/{filename}:{lineno}")
    return {key: tuple(places) for key, places in found.items()}


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=None if path == TEMPLATE else path.parent.parent.name)


def entries(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def key_of(message: Message) -> MsgKey:
    return tuple(message.id) if isinstance(message.id, (tuple, list)) else message.id


def forms_of(message: Message) -> tuple[str, ...]:
    """The translation of ``message``: one string, or one per plural form."""
    if isinstance(message.string, (tuple, list)):
        return tuple(message.string)
    return (message.string or "",)


def placeholders(text: str) -> set[str]:
    """Names of the ``{name}`` fields in ``text`` (``{a.b}`` and ``{a[0]}`` count as ``a``)."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(text):
        if field is not None:
            names.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    return names


def describe(key: MsgKey) -> str:
    return " / ".join(repr(part) for part in key) if isinstance(key, tuple) else repr(key)


def test_source_has_messages() -> None:
    """Guards the guard: if extraction silently found nothing, every other check here would pass."""
    messages = source_messages()
    assert len(messages) > 50
    assert "outsider" in messages
    assert any(isinstance(key, tuple) for key in messages), "no _n(...) plural message was extracted"


def test_there_is_a_french_catalogue() -> None:
    assert LOCALES_DIR / "fr" / "LC_MESSAGES" / "messages.po" in CATALOGUES


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_catalogue_translates_every_message(po_path: Path) -> None:
    catalog = read_catalogue(po_path)
    translated = {key_of(m): m for m in entries(catalog)}
    problems = []
    for key, places in sorted(source_messages().items(), key=lambda item: describe(item[0])):
        message = translated.get(key)
        if message is None:
            problems.append(f"missing: {describe(key)} (used at {', '.join(places)})")
        elif isinstance(key, tuple):
            forms = forms_of(message)
            if len(forms) != catalog.num_plurals or not all(forms):
                problems.append(f"plural forms incomplete ({catalog.num_plurals} needed): {describe(key)}")
        elif not message.string:
            problems.append(f"empty: {describe(key)}")
        elif message.fuzzy:
            problems.append(f"fuzzy (ignored at run time): {describe(key)}")
    assert not problems, (
        f"{po_path.relative_to(ROOT)} lacks {len(problems)} translation(s); run `make messages`, "
        "then translate:\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_catalogue_has_no_fuzzy_entries(po_path: Path) -> None:
    """Fuzzy entries are left out when compiling, so readers would silently get English."""
    fuzzy = [describe(key_of(m)) for m in entries(read_catalogue(po_path)) if m.fuzzy]
    assert not fuzzy, "fuzzy entries (review them and remove the flag):\n" + "\n".join(fuzzy)


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_translations_keep_placeholders(po_path: Path) -> None:
    problems = []
    for message in entries(read_catalogue(po_path)):
        key = key_of(message)
        try:
            if isinstance(key, tuple):
                # Any form may leave out {n} (e.g. "one topic"); all other names must stay.
                expected = (placeholders(key[0]) | placeholders(key[1])) - {"n"}
                for index, form in enumerate(forms_of(message)):
                    if form and placeholders(form) - {"n"} != expected:
                        problems.append(f"{describe(key)} form {index}: {sorted(placeholders(form))} "
                                        f"instead of {sorted(expected | {'n'})}")
            else:
                translation = forms_of(message)[0]
                if translation and placeholders(translation) != placeholders(key):
                    problems.append(f"{describe(key)}: {sorted(placeholders(translation))} "
                                    f"instead of {sorted(placeholders(key))}")
        except ValueError as error:  # unbalanced braces: the translation could never be formatted
            problems.append(f"{describe(key)}: {error}")
    assert not problems, f"placeholders differ in {po_path.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_french_header() -> None:
    catalog = read_catalogue(LOCALES_DIR / "fr" / "LC_MESSAGES" / "messages.po")
    assert catalog.charset.lower() == "utf-8"
    assert str(catalog.locale) == "fr"
    assert catalog.num_plurals == 3  # current CLDR: one (0 and 1), many (exact millions), other
    assert catalog.plural_expr.replace(" ", "") == "(n==0||n==1)?0:n!=0&&n%1000000==0?1:2"
    assert not catalog.fuzzy


def test_template_is_up_to_date() -> None:
    in_template = {key_of(m) for m in entries(read_catalogue(TEMPLATE))}
    in_source = set(source_messages())
    added = sorted(describe(k) for k in in_source - in_template)
    removed = sorted(describe(k) for k in in_template - in_source)
    assert not added and not removed, (
        f"{TEMPLATE.relative_to(ROOT)} is out of date; run `make messages` and translate what is new.\n"
        + "".join(f"not in the template: {k}\n" for k in added)
        + "".join(f"no longer in the source: {k}\n" for k in removed)
    )


# --- Translator --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator.load()


def test_load_finds_french(translator: Translator) -> None:
    assert "fr" in translator.languages
    assert translator.supports("en")
    assert translator.supports("fr")


def test_renders_french(translator: Translator) -> None:
    assert translator.render(_("You no longer follow “{topic}”.", topic="climat"), "fr") == \
        f"Vous ne suivez plus «{NBSP}climat{NBSP}»."
    assert translator.render(_("Topics"), "fr") == "Thématiques"


def test_renders_french_plurals(translator: Translator) -> None:
    def follow(n: int) -> Text:
        return _n("You follow {n} topic:", "You follow {n} topics:", n)

    assert translator.render(follow(1), "fr") == f"Vous suivez 1 thématique{NBSP}:"
    assert translator.render(follow(2), "fr") == f"Vous suivez 2 thématiques{NBSP}:"
    assert translator.render(follow(0), "fr") == f"Vous suivez 0 thématique{NBSP}:"  # French: 0 is singular
    left = _n("You left {n} topic.", "You left {n} topics.", 3)
    assert translator.render(left, "fr") == "Vous vous êtes désabonné·e de 3 thématiques."


def test_renders_nested_text_in_the_reader_language(translator: Translator) -> None:
    message = _("Switch to {mode}", mode=_("daily digest"))
    assert translator.render(message, "fr") == "Passer en résumé quotidien"
    assert translator.render(message, "en") == "Switch to daily digest"


def test_english_and_unknown_languages_fall_back_to_the_msgid(translator: Translator) -> None:
    message = _("You no longer follow “{topic}”.", topic="climate")
    expected = "You no longer follow “climate”."
    assert translator.render(message, "en") == expected
    assert translator.render(message, "xx") == expected
    assert translator.render(message, None) == expected
    plural = _n("You follow {n} topic:", "You follow {n} topics:", 1)
    assert translator.render(plural, "xx") == "You follow 1 topic:"
    assert translator.render(_n("You follow {n} topic:", "You follow {n} topics:", 0), "xx") == \
        "You follow 0 topics:"


def test_plain_strings_pass_through(translator: Translator) -> None:
    assert translator.render("Topics {not a placeholder}", "fr") == "Topics {not a placeholder}"


def test_untranslated_translator_renders_english() -> None:
    assert Translator.untranslated().render(_("Topics"), "fr") == "Topics"


# --- JSON form ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("message", [
    "user content, {kept} as is",
    _("Topics"),
    _("Reason: {reason}", reason="late"),
    _("That is too long: at most {limit} characters.", limit=8000),
    _n("You follow {n} topic:", "You follow {n} topics:", 2),
    _("Switch to {mode}", mode=_("daily digest")),
    _("{person} now has the {role} role{scope}.", person="Amina", role=_("coordinator"),
      scope=_(" for “{topic}”", topic="climate")),
    _("Request #{id} was already {status}.", id=7, status=_n("{n} topic:", "{n} topics:", 1, extra=1.5)),
    _("Sends at {time}.", time=moment(datetime(2026, 12, 1, 11, 0, tzinfo=UTC), ZoneInfo("Africa/Nairobi"))),
    listing(["Amina", _("coordinator"), exact_duration(5400), weekdays([1, 3])], counts=True),
    wall_clock(datetime(2027, 3, 28, 2, 30, tzinfo=UTC)),
], ids=lambda m: m if isinstance(m, str) else m.msgid.strip("\x00"))
def test_json_round_trip(message: Text | str) -> None:
    data = text_to_json(message)
    through_json = json.loads(json.dumps(data))
    assert text_from_json(through_json) == message


def test_json_round_trip_renders_the_same(translator: Translator) -> None:
    message = _("{person} now has the {role} role{scope}.", person="Amina", role=_("coordinator"),
                scope=_(" for “{topic}”", topic="climate"))
    restored = text_from_json(json.loads(json.dumps(text_to_json(message))))
    for language in ("en", "fr"):
        assert translator.render(restored, language) == translator.render(message, language)
    assert translator.render(restored, "fr") == \
        f"Amina a désormais le rôle coordinateur·rice pour «{NBSP}climate{NBSP}»."


def test_formatted_values_render_in_the_readers_language(translator: Translator) -> None:
    message = _("Meeting #{id} starts {time}, repeating {rule}.", id=3,
                time=moment(datetime(2026, 12, 1, 11, 0, tzinfo=UTC), ZoneInfo("Africa/Nairobi")),
                rule=_("every {days}", days=weekdays([1, 3])))
    french = translator.render(message, "fr")
    assert "mardi 1 décembre 2026, 14:00" in french and "mardi et jeudi" in french
    assert "Tuesday" not in french and "December" not in french


@pytest.mark.parametrize("data", [None, 3, [], {"plural": None}, {"msgid": 5}])
def test_text_from_json_rejects_malformed_values(data: object) -> None:
    with pytest.raises(ValueError):
        text_from_json(data)
