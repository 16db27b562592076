"""PostgreSQL's side of the resource search: FTS5 expressions as tsquery text, and the words its index holds.

The index (``resources.search_document``, built by the baseline's ``resource_document``) holds the words of the
folded search columns verbatim, as tsvector literals, so that it splits exactly where
:func:`bot.resources.model.words` splits whatever the server's locale. The queries are tsquery literals of the
same words for the same reason: ``to_tsquery`` would run them through the locale's parser and ``lower()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.resources.model import words
from storage.database import Dialect

RANK_WEIGHTS = "CAST('{0.1, 0.1, 0.4, 1.0}' AS real[])"
"""ts_rank's weights for D (unused), C (summary), B (tags) and A (title): the order of FTS5's bm25(10, 4, 1)."""
MAX_LEXEME = 2047
"""Bytes in a tsvector lexeme: ``resource_document`` leaves longer words out (as ``to_tsvector`` does), so they
are neither counted nor found there."""
_FTS_TERM = re.compile(r'"([^"]*)"(\*?)(?: |$)')


def to_tsquery(match: str) -> str | None:
    """The FTS5 expression ``match`` as tsquery text, or ``None`` when it can find nothing in the index.

    ``match`` is what :func:`bot.resources.query.match_expression` builds: double-quoted groups of words, each
    optionally followed by ``*`` (its last word is a prefix), all of which must match. A group becomes a phrase
    (``<->``), ``*`` becomes ``:*``, and the groups are joined with ``&``. Anything else is a caller's bug.
    """
    groups: list[str] = []
    position = 0
    while position < len(match):
        found = _FTS_TERM.match(match, position)
        if found is None:
            raise ValueError(f"not an expression of quoted terms: {match!r}")
        tokens = found.group(1).split()
        if not tokens:
            raise ValueError(f"an empty quoted term in {match!r}")
        if any(len(token.encode()) > MAX_LEXEME for token in tokens):
            return None
        lexemes = ["'" + token.replace("\\", "\\\\").replace("'", "''") + "'" for token in tokens]
        if found.group(2):
            lexemes[-1] += ":*"
        groups.append(lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")")
        position = found.end()
    if not groups:
        raise ValueError("an empty expression matches nothing")  # FTS5 refuses it too
    return " & ".join(groups)


def indexed_words(dialect: Dialect, columns: Iterable[str]) -> list[str]:
    """The words of these folded columns that ``dialect``'s index holds: every word in SQLite's; in
    PostgreSQL's, none longer than :data:`MAX_LEXEME` bytes."""
    tokens = [token for column in columns for token in words(column)]
    if dialect == "sqlite":
        return tokens
    return [token for token in tokens if len(token.encode()) <= MAX_LEXEME]
