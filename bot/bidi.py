"""Unicode bidi isolation, so Arabic sentences holding Latin names, URLs and numbers read in the right order.

Why: in a right-to-left sentence, an inserted left-to-right value (a topic slug, a URL, ``#12``, a person's
name) is laid out by the Unicode Bidirectional Algorithm (UAX #9) together with its neighbours, so its
punctuation and the numbers around it move: "#12" can show as "12#" and a URL's trailing slash jumps to the
other end. Wrapping each inserted value in FIRST STRONG ISOLATE (U+2068) … POP DIRECTIONAL ISOLATE (U+2069)
lays it out on its own, in its own direction, and leaves the sentence around it untouched. Slack, Discord
and terminals all honour isolates (they are invisible where nothing needs reordering).

An isolate ends at the end of a paragraph whatever its PDI says (UAX #9, X8), and the adapters split long
text at line breaks into separate blocks or embeds, so isolation here is per line: a multi-line value has
each of its lines isolated, and "balanced" is checked per line.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError

__all__ = ["FSI", "LRI", "PDI", "RLI", "SPLIT_ROOM", "balanced", "carried", "closed", "cut", "is_rtl", "isolate",
           "split_room", "stripped"]

LRI = "\u2066"
"""LEFT-TO-RIGHT ISOLATE."""
RLI = "\u2067"
"""RIGHT-TO-LEFT ISOLATE."""
FSI = "\u2068"
"""FIRST STRONG ISOLATE: the value's own first strong character decides its direction."""
PDI = "\u2069"
"""POP DIRECTIONAL ISOLATE: closes the innermost open isolate."""
OPENERS = frozenset({LRI, RLI, FSI})

# Paragraph separators (bidi class B): the algorithm closes every open isolate at each of them.
_PARAGRAPH = re.compile("(\r\n|[\n\r\x1c-\x1e\x85\u2029])")


_ENDS_WITH_LINK = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)

_CONTROLS = {ord(c): None for c in "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"}
"""Every bidi control: marks (LRM, RLM, ALM), embeddings and overrides, isolates."""


@lru_cache(maxsize=64)
def is_rtl(language: str | None) -> bool:
    """Whether ``language`` is written right to left, from CLDR's character order (Babel).

    Accepts ``ar``, ``ar_EG`` and ``ar-EG``; an unknown or missing code is left to right (English is the
    fallback language everywhere)."""
    if not language:
        return False
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return locale.character_order == "right-to-left"


def isolate(text: str) -> str:
    """``text`` with each non-empty line wrapped in FSI … PDI.

    Idempotent: a line that is already exactly one isolate is kept as it is, so a value isolated twice (a
    translated parameter inside another) gains nothing. Isolate controls already in ``text`` (pasted user
    content) are repaired first: a PDI that closes nothing is dropped and an opener left open is closed at
    the end of its line, so no value can close the wrapper early or leave a later one open."""
    if not text:
        return text
    pieces = _PARAGRAPH.split(text)
    # Odd indices are the separators, kept as they were.
    return "".join(piece if index % 2 else _isolate_line(piece) for index, piece in enumerate(pieces))


def closed(text: str) -> str:
    """``text`` with every isolate it leaves open closed at the end of its line, and any PDI that closes
    nothing dropped.

    For text cut short (a notification preview, a button label at its platform's limit): the cut may fall
    inside an isolate, and an isolate left open would swallow whatever the platform puts after it."""
    pieces = _PARAGRAPH.split(text)
    return "".join(piece if index % 2 else _repaired(piece) for index, piece in enumerate(pieces))


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters with ``ellipsis`` at the end, its isolates still closed.

    Every place that shortens rendered text for a platform's limit (a button label, a plain-text field, a
    notification preview) goes through here, so an Arabic label cut inside an isolate does not leave it open
    (the PDIs it needs are counted in the limit)."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(ellipsis))
    while keep > 0:
        shortened = closed(text[:keep].rstrip())
        if len(shortened) + len(ellipsis) <= limit:
            return shortened + ellipsis
        keep -= 1
    return ellipsis[:limit]


SPLIT_ROOM = 8
"""Characters a splitter keeps free in each piece of text that holds isolates, for :func:`carried` to close
and reopen them (four levels of nesting; the bot nests two)."""


def split_room(text: str) -> int:
    """How much shorter than its limit a splitter should cut ``text``: :data:`SPLIT_ROOM` when it holds an
    isolate opener, else 0 (text without isolates is cut exactly as before)."""
    return SPLIT_ROOM if any(opener in text for opener in OPENERS) else 0


def carried(pieces: list[str]) -> list[str]:
    """Pieces of one text split for a platform's limit, each with its isolates balanced: an isolate a cut
    leaves open is closed at the end of its piece and opened again at the start of the next, so each message
    or section the platform shows on its own reads in the right direction."""
    out: list[str] = []
    reopen = ""
    for piece in pieces:
        piece = reopen + piece
        still_open = _still_open(_PARAGRAPH.split(piece)[-1])
        out.append(piece + PDI * len(still_open))
        reopen = "".join(still_open)
    return out


def _still_open(line: str) -> list[str]:
    stack: list[str] = []
    for char in line:
        if char in OPENERS:
            stack.append(char)
        elif char == PDI and stack:
            stack.pop()
    return stack


def stripped(text: str) -> str:
    """``text`` without any bidi control (marks, embeddings, overrides, isolates).

    What a reader sees, to compare two renderings; and what a command is read from: an Arabic reader who copies
    a command, a topic name or an id out of a reply copies the isolates around it too, and ``⁨rsvp 1 yes⁩`` must
    read as ``rsvp 1 yes``."""
    return text.translate(_CONTROLS)


def balanced(text: str) -> bool:
    """Whether every isolate opener (U+2066, U+2067, U+2068) is closed by a PDI (U+2069) on its own line, in
    order, and no PDI closes more than was opened."""
    for index, line in enumerate(_PARAGRAPH.split(text)):
        if index % 2 == 0 and not _line_balanced(line):
            return False
    return True


def _isolate_line(line: str) -> str:
    if not line or _is_one_isolate(line):
        return line
    repaired = _repaired(line)
    # A link that ends the line ends at a space, not at the PDI: Discord and Slack take every non-space
    # character after "https://" into the link, and a PDI glued to it would break the address.
    return f"{FSI}{repaired} {PDI}" if _ENDS_WITH_LINK.search(repaired) else f"{FSI}{repaired}{PDI}"


def _is_one_isolate(line: str) -> bool:
    """The line is an opener, balanced content, and the PDI that closes that very opener."""
    if len(line) < 2 or line[0] not in OPENERS or line[-1] != PDI:
        return False
    depth = 0
    for position, char in enumerate(line):
        if char in OPENERS:
            depth += 1
        elif char == PDI:
            depth -= 1
            if depth == 0:
                return position == len(line) - 1
    return False


def _repaired(line: str) -> str:
    depth = 0
    kept: list[str] = []
    for char in line:
        if char in OPENERS:
            depth += 1
        elif char == PDI:
            if depth == 0:
                continue  # would close the wrapper (or something outside it)
            depth -= 1
        kept.append(char)
    return "".join(kept) + PDI * depth


def _line_balanced(line: str) -> bool:
    depth = 0
    for char in line:
        if char in OPENERS:
            depth += 1
        elif char == PDI:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0
