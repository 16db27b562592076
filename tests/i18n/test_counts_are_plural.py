"""Every count goes through plural-aware translation (issue 18, item 1): "1 notices" must not be possible.

A count inside a sentence changes the words around it in most languages (Arabic has six forms), so a message
whose placeholders hold a count must be an ``_n(singular, plural, n)`` entry. This scans the template for
singular messages with a count-like placeholder name — the names the code uses for counts."""

from __future__ import annotations

import string
import subprocess
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from tests.i18n.test_catalogues import ROOT, TEMPLATE, extract_command, key, read

COUNT_NAMES = frozenset({
    "n", "count", "total", "limit", "most", "days",
    "sent", "failed", "skipped", "queued", "digested", "added", "updated", "unchanged", "rejected",
})
"""Placeholder names the code gives to a number of things (from the template's placeholders)."""

BARE_NUMBERS = frozenset({
    "{total} ({platforms})",  # a figure on its own beside a list, as a field value: no word agrees with it
})
"""Singular messages where the count stands alone, with no word that changes with it."""

LEGACY = frozenset({
    # bot/delivery/retry.py GAVE_UP_BEFORE: the reason stored in rows failed by an earlier version, by this
    # very id; made plural, those stored rows would no longer find their translation.
    "gave up after {n} attempts: {reason}",
})


def count_names(message_id: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message_id) if name} & COUNT_NAMES


def offenders(catalog: Catalog) -> dict[str, set[str]]:
    return {message.id: count_names(message.id) for message in catalog
            if message.id and not message.pluralizable and count_names(message.id)
            and message.id not in BARE_NUMBERS | LEGACY}


def locations(ids: set[str], tmp_path: Path) -> dict[str, list[str]]:
    """Where the code says each message (an extraction with locations, only when something failed)."""
    located = tmp_path / "located.pot"
    command = [word for word in extract_command(located) if word != "--no-location"]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=120)
    with located.open("rb") as handle:
        catalog = read_po(handle)
    return {key(m): [f"{path}:{line}" for path, line in m.locations] for m in catalog if m.id and key(m) in ids}


def test_no_count_in_a_singular_message(tmp_path: Path) -> None:
    found = offenders(read(TEMPLATE))
    if found:
        where = locations(set(found), tmp_path)
        lines = [f"{', '.join(where.get(i, ['?']))}: {i!r} counts {sorted(names)}"
                 for i, names in sorted(found.items())]
        raise AssertionError(f"{len(found)} messages put a count in a singular sentence; use _n(singular, plural, n) "
                             "(one count per message: split a sentence with several):\n" + "\n".join(lines))


def test_the_scan_finds_a_count() -> None:
    """The check itself: a singular sentence with ``{n}`` is caught, a plural entry and an id are not."""
    catalog = Catalog()
    catalog.add("{n} notices are on their way.")
    catalog.add(("{n} topic", "{n} topics"))
    catalog.add("Meeting #{id} is cancelled.")
    catalog.add("{total} ({platforms})")
    assert offenders(catalog) == {"{n} notices are on their way.": {"n"}}
