"""Every shipped catalogue is complete and correct against the template (issue 18, item 1).

A translator checks their work with ``pytest tests/i18n/test_catalogues.py -k <language>``: each failure names
the message ids and what is wrong with them.
"""

from __future__ import annotations

import gettext
import io
import re
import shlex
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "bot" / "locales"
TEMPLATE = LOCALES / "messages.pot"
LANGUAGES = sorted(path.parent.parent.name for path in LOCALES.glob("*/LC_MESSAGES/messages.po"))
SAMPLE_COUNTS = (0, 1, 2, 3, 11, 100, 1_000_000)
CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")
"""CLDR's order of plural categories (LDML, "Language Plural Rules"); Babel numbers gettext forms in it."""
MAY_DROP_N = frozenset({"zero", "one", "two"})
"""Categories that name exactly one number, so a form for them may say it in words instead of ``{n}``."""


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def entries(catalog: Catalog) -> Iterator[Message]:
    """Every message but the header."""
    return (message for message in catalog if message.id)


def key(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def placeholders(text: str) -> set[str]:
    """The ``{…}`` fields of a format string, with conversion and spec; a malformed string fails the test."""
    return {f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
            for _, name, spec, conversion in string.Formatter().parse(text) if name is not None}


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def short(message_id: str) -> str:
    return repr(message_id if len(message_id) <= 70 else message_id[:67] + "...")


def categories_by_index(code: str) -> list[str]:
    """The CLDR category of each gettext form of ``code``: Babel numbers the categories the locale uses in
    CLDR's order; checked against Babel's own gettext expression on many numbers, so it is not assumed."""
    locale = Locale.parse(code)
    used = set(locale.plural_form.tags) | {"other"}
    order = [tag for tag in CLDR_ORDER if tag in used]
    expression = gettext.c2py(Catalog(locale=code).plural_expr)
    samples = [*range(0, 2_000), *(k * 1_000_000 + d for k in range(1, 4) for d in (0, 1, 2, 11, 100))]
    for n in samples:
        assert order[expression(n)] == locale.plural_form(n), (
            f"{code}: Babel's gettext expression picks form {expression(n)} ({order[expression(n)]}) for n={n}, "
            f"CLDR says {locale.plural_form(n)}")
    return order


@pytest.fixture(scope="module")
def template() -> Catalog:
    return read(TEMPLATE)


@pytest.fixture(scope="module", params=LANGUAGES)
def code(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def catalog(code: str) -> Catalog:
    return read(LOCALES / code / "LC_MESSAGES" / "messages.po", locale=code)


def test_every_shipped_language_has_a_catalogue() -> None:
    assert {"fr", "es", "pt", "ar", "sw"} <= set(LANGUAGES), f"catalogues found: {LANGUAGES}"


def test_ids_equal_the_template(code: str, catalog: Catalog, template: Catalog) -> None:
    wanted = {key(m): m.id for m in entries(template)}
    have = {key(m): m.id for m in entries(catalog)}
    missing = sorted(set(wanted) - set(have))
    extra = sorted(set(have) - set(wanted))
    plural_changed = sorted(k for k in set(wanted) & set(have) if wanted[k] != have[k])
    problems = [f"{len(missing)} missing (run `make messages`): " + ", ".join(map(short, missing))] if missing else []
    problems += [f"{len(extra)} not in the template: " + ", ".join(map(short, extra))] if extra else []
    problems += ["plural form differs from the template: " + ", ".join(map(short, plural_changed))] \
        if plural_changed else []
    assert not problems, f"{code}: " + "\n".join(problems)


def test_no_fuzzy_entries(code: str, catalog: Catalog) -> None:
    fuzzy = [short(key(m)) for m in entries(catalog) if m.fuzzy]
    assert not fuzzy, f"{code}: {len(fuzzy)} fuzzy entries (not used at run time): {', '.join(fuzzy)}"


def test_no_empty_translations(code: str, catalog: Catalog) -> None:
    empty = [f"{short(key(m))}" + (f" (forms {[i for i, f in enumerate(forms(m)) if not f]})" if m.pluralizable
                                   else "")
             for m in entries(catalog) if not all(forms(m))]
    assert not empty, f"{code}: {len(empty)} untranslated entries: {', '.join(empty)}"


def test_plural_forms_header_is_current_cldr(code: str, catalog: Catalog) -> None:
    expected = Catalog(locale=code).plural_forms
    assert catalog.plural_forms == expected, f"{code}: Plural-Forms is {catalog.plural_forms!r}, want {expected!r}"


def test_every_plural_entry_has_one_form_per_category(code: str, catalog: Catalog) -> None:
    wrong = [f"{short(key(m))} has {len(forms(m))}" for m in entries(catalog)
             if m.pluralizable and len(forms(m)) != catalog.num_plurals]
    assert not wrong, f"{code}: want {catalog.num_plurals} forms: {', '.join(wrong)}"


def test_placeholders_are_kept(code: str, catalog: Catalog) -> None:
    categories = categories_by_index(code)
    problems: list[str] = []
    for message in entries(catalog):
        if not message.pluralizable:
            pairs = [(message.id, message.string, "other")]
        else:
            pairs = [(message.id[1], form, categories[i] if i < len(categories) else "?")
                     for i, form in enumerate(forms(message))]
        for source, translated, category in pairs:
            if not translated:
                continue  # reported by test_no_empty_translations
            try:
                got = placeholders(translated)
            except ValueError as error:
                problems.append(f"{short(key(message))} [{category}]: malformed braces ({error})")
                continue
            wanted = placeholders(source)
            if message.pluralizable and category in MAY_DROP_N:
                got |= {"{n}"} & wanted
            if got != wanted:
                problems.append(f"{short(key(message))} [{category}]: missing {sorted(wanted - got)}, "
                                f"unknown {sorted(got - wanted)}")
    assert not problems, f"{code}: placeholders differ from the msgid:\n" + "\n".join(problems)


_EDGE = re.compile(r"^(\s*).*?(\s*)$", re.DOTALL)


def test_markup_is_kept(code: str, catalog: Catalog) -> None:
    """Code spans stay closed (an even number of backticks stays even) and leading or trailing whitespace,
    which joins a fragment to its neighbours, stays as it is."""
    problems: list[str] = []
    for message in entries(catalog):
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        for index, translated in enumerate(forms(message)):
            if not translated:
                continue
            source = sources[min(index, len(sources) - 1)]
            if source.count("`") % 2 != translated.count("`") % 2:
                problems.append(f"{short(key(message))} [form {index}]: backticks {source.count('`')} → "
                                f"{translated.count('`')}")
            edges, translated_edges = _EDGE.match(source), _EDGE.match(translated)
            assert edges is not None and translated_edges is not None
            if edges.groups() != translated_edges.groups():
                problems.append(f"{short(key(message))} [form {index}]: leading/trailing whitespace "
                                f"{edges.groups()!r} → {translated_edges.groups()!r}")
    assert not problems, f"{code}: markup changed:\n" + "\n".join(problems)


def test_gettext_picks_the_cldr_form(code: str, catalog: Catalog) -> None:
    """Compiled as the bot compiles it (:meth:`bot.i18n.Translator.load`), each plural entry gives, for each
    sample count, the form CLDR's category for that count names."""
    categories = categories_by_index(code)
    locale = Locale.parse(code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    compiled = gettext.GNUTranslations(buffer)
    problems: list[str] = []
    for message in entries(catalog):
        if not message.pluralizable or not all(forms(message)):
            continue
        singular, plural = message.id
        for n in SAMPLE_COUNTS:
            category = locale.plural_form(n)
            wanted = forms(message)[categories.index(category)]
            got = compiled.ngettext(singular, plural, n)
            if got != wanted:
                problems.append(f"{short(singular)} n={n} ({category}): got {got!r}, want {wanted!r}")
    assert not problems, f"{code}:\n" + "\n".join(problems)


def extract_command(output: Path) -> list[str]:
    """The Makefile's own ``pybabel extract`` line, writing to ``output`` instead of the template."""
    makefile = (ROOT / "Makefile").read_text()
    line = next(line for line in makefile.splitlines() if "pybabel extract" in line)
    words = shlex.split(line.strip())
    words = words[words.index("$(BIN)/pybabel") + 1:] if "$(BIN)/pybabel" in words else words[1:]
    words[words.index("-o") + 1] = str(output)
    return [sys.executable, "-c", "from babel.messages.frontend import main; main()", *words]


def test_template_is_current(tmp_path: Path, template: Catalog) -> None:
    """The template holds exactly the strings the code marks now: run ``make messages`` when this fails."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(extract_command(fresh), cwd=ROOT, check=True, capture_output=True, timeout=120)
    now = {key(m): m.id for m in entries(read(fresh))}
    stored = {key(m): m.id for m in entries(template)}
    added, gone = sorted(set(now) - set(stored)), sorted(set(stored) - set(now))
    changed = sorted(k for k in set(now) & set(stored) if now[k] != stored[k])
    assert not (added or gone or changed), (
        "bot/locales/messages.pot is stale; run `make messages`.\n"
        f"in the code, not in the template ({len(added)}): {', '.join(map(short, added))}\n"
        f"in the template, no longer in the code ({len(gone)}): {', '.join(map(short, gone))}\n"
        f"plural changed ({len(changed)}): {', '.join(map(short, changed))}")
