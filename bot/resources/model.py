"""Value objects of the resource library, and the two normalisations its storage relies on.

:func:`fold` is applied both to what is indexed and to what is searched, so "København", "kobenhavn" and
"KØBENHAVN" meet in the middle; :func:`normalise_url` gives the key under which a link is stored once.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.i18n import Text, _


class ResourceKind(StrEnum):
    REPORT = "report"
    TOOLKIT = "toolkit"
    GUIDE = "guide"
    DATASET = "dataset"
    RECORDING = "recording"
    ARTICLE = "article"
    COURSE = "course"
    OTHER = "other"

    @property
    def label(self) -> Text:
        return KIND_LABELS[self]


KIND_LABELS: dict[ResourceKind, Text] = {
    ResourceKind.REPORT: _("report"),
    ResourceKind.TOOLKIT: _("toolkit"),
    ResourceKind.GUIDE: _("guide"),
    ResourceKind.DATASET: _("dataset"),
    ResourceKind.RECORDING: _("recording"),
    ResourceKind.ARTICLE: _("article"),
    ResourceKind.COURSE: _("course"),
    ResourceKind.OTHER: _("other"),
}


class ResourceVisibility(StrEnum):
    """``public``: everyone, outsiders included; ``members``: members and up."""

    PUBLIC = "public"
    MEMBERS = "members"


@dataclass(frozen=True, slots=True)
class ResourceFields:
    """What a person or a CSV row says about a resource; validated before it reaches the store."""

    url: str
    url_key: str
    title: str
    summary: str
    kind: ResourceKind
    topic_ids: tuple[int, ...]
    tags: tuple[str, ...]
    language: str
    visibility: ResourceVisibility


@dataclass(frozen=True, slots=True)
class Resource(ResourceFields):
    """A stored resource: what was said about it, and what the library records."""

    id: int
    added_by: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def fields(self) -> ResourceFields:
        """Only what was said, comparable with an edit's or a CSV row's fields."""
        return ResourceFields(**{name: getattr(self, name) for name in _FIELD_NAMES})


_FIELD_NAMES = tuple(field.name for field in dataclasses.fields(ResourceFields))


@dataclass(frozen=True, slots=True)
class ResourceScope:
    """What one reader may see, applied inside every query (never by filtering results afterwards).

    A resource is visible when its own visibility allows it, and it has no topic or at least one topic the
    reader can see. ``None`` in place of a scope means everything (the CSV importer, the demo loader).
    """

    include_members: bool
    topic_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class ResourceFilter:
    topic_id: int | None = None
    kind: ResourceKind | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ResourcePage:
    items: tuple[Resource, ...]
    has_more: bool


# --- text folding ------------------------------------------------------------------------------------

# Letters that carry no combining mark in Unicode, so NFKD leaves them alone.
_LETTERS = str.maketrans({
    "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ß": "ss", "ẞ": "ss", "đ": "d", "Đ": "d",
    "ð": "d", "Ð": "d", "ł": "l", "Ł": "l", "þ": "th", "Þ": "th", "ħ": "h", "Ħ": "h", "ı": "i", "ŧ": "t",
    "Ŧ": "t",
})
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def fold(text: str) -> str:
    """``text`` as the search index stores it: lower case, without accents, ligatures or the letters unicode61
    does not fold (ø æ ß đ ł …), every character that is not part of a word turned into a space.

    The table applies before and after decomposition: "ǣ" only becomes "æ" once its macron is gone.
    Accents and other combining marks go, except viramas, which spell Brahmic consonant clusters. Invisible
    characters go (soft hyphens, zero-width joiners, the bidi isolates that come with Arabic or Hebrew text
    copied from the web, emoji variation selectors), and so does a mark that follows no letter.
    Punctuation and symbols become spaces here rather than in SQLite, because SQLite's Unicode tables are
    older than Python's: it would glue a recent emoji to a word.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    if decomposed.isascii():
        return decomposed.translate(_ASCII_SEPARATORS).lower()
    kept: list[str] = []
    in_word = False
    for character in decomposed:
        kind = _kind(character)
        if kind is _Kind.LETTER or (kind is _Kind.MARK and in_word):
            kept.append(character)
            in_word = True
        elif kind is _Kind.SEPARATOR:
            kept.append(" ")
            in_word = False
    return "".join(kept).translate(_LETTERS).casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text``, split exactly as the index's tokenizer splits them.

    Words are runs of letters, digits, marks and private-use characters (the index's categories
    ``L* N* M* Co``, migration 0007): without marks, Hindi "चुनाव" would fall apart into "च", "न" and "व"
    at its vowel signs.
    """
    return fold(text).split()


class _Kind(Enum):
    LETTER = "letter"  # letters, digits, private use
    MARK = "mark"  # a vowel sign or virama: part of the word it follows
    SEPARATOR = "separator"
    INVISIBLE = "invisible"


_VIRAMA = 9  # the canonical combining class of viramas (Devanagari ्, Bengali ্, Tamil ், …)


@functools.cache
def _kind(character: str) -> _Kind:
    if character.isascii():
        return _Kind.LETTER if character.isalnum() else _Kind.SEPARATOR
    category = unicodedata.category(character)
    combining = unicodedata.combining(character)
    if combining == _VIRAMA:  # spells a consonant cluster in Brahmic scripts: "सत्य" is not "सतय"
        return _Kind.MARK
    if combining or category == "Cf" or "VARIATION SELECTOR" in unicodedata.name(character, ""):
        return _Kind.INVISIBLE
    if category[0] == "M":
        return _Kind.MARK
    return _Kind.LETTER if category[0] in "LN" or category == "Co" else _Kind.SEPARATOR


# --- links -------------------------------------------------------------------------------------------

_TRACKING = re.compile(r"^(utm_[a-z_]*|fbclid|gclid|mc_cid|mc_eid)$", re.IGNORECASE)
MAX_URL = 2000


def normalise_url(raw: str) -> tuple[str, str]:
    """``(url, key)``: the link to store and show, and the key that detects duplicates.

    The link is kept as given, minus its tracking parameters (``utm_*``, ``fbclid``, …) and with a lower-case
    scheme: re-encoding or reordering the rest of the query, or dropping the fragment, breaks links
    (``?a=1;b=2``, ``?download``, a PDF's ``#page=12``). The key ignores the scheme (http and https name the
    same document), the case of the host, a default port, a trailing slash, tracking parameters and a
    fragment that points inside the page (``#section``), but keeps one that routes content in a hash-routed
    app (``#/reports/2024``, ``#!/…``). Raises ``ValueError`` when ``raw`` is not an absolute http(s) link.
    """
    raw = raw.strip().strip("<>")
    if not raw or len(raw) > MAX_URL or any(c.isspace() for c in raw):
        raise ValueError("not a link")
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError("not http(s)")
    try:
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as error:
        raise ValueError("bad host or port") from error
    if not host or ("." not in host.strip(".") and host != "localhost"):
        raise ValueError("no host")
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    if parts.username or parts.password:
        raise ValueError("credentials in link")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    path = parts.path or "/"
    key = urlunsplit(("", netloc, path.rstrip("/"), query, _route(parts.fragment))).lstrip("/")
    link = raw.lstrip(_C0_CONTROL_OR_SPACE)  # what urlsplit skips before the scheme
    return scheme + _without_tracking(link[len(scheme):]), key


_C0_CONTROL_OR_SPACE = "".join(map(chr, range(0x21)))


def _route(fragment: str) -> str:
    """The part of a fragment that names content, for the key: a route such as ``/reports/2024`` or
    ``!/reports``, without a trailing slash; nothing for an anchor inside the page."""
    return fragment.rstrip("/") if fragment.startswith(("/", "!")) else ""


def _without_tracking(link: str) -> str:
    """``link`` without its tracking parameters, everything else character for character.

    Parameters are split and their names decoded as for the key, so both drop the same ones.
    """
    head, hash_mark, fragment = link.partition("#")
    address, question_mark, query = head.partition("?")
    pairs = query.split("&")
    kept = [pair for pair in pairs if not _is_tracking(pair)]
    if len(kept) < len(pairs):
        query = "&".join(pair for pair in kept if pair)
        question_mark = "?" if query else ""
    return address + question_mark + query + hash_mark + fragment


def _is_tracking(pair: str) -> bool:
    return any(_TRACKING.match(name) for name, _value in parse_qsl(pair, keep_blank_values=True))
