"""Turning what a person typed into a safe FTS5 expression, and "did you mean" corrections for typos.

User input never reaches FTS5 as syntax. It is folded (see :func:`bot.resources.model.fold`) and cut into
words; each word, or each quoted or hyphenated group of words, becomes a double-quoted FTS5 string, so
``NEAR``, ``OR``, ``*``, ``:``, ``(`` and ``"`` in the input are only ever text or separators.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.resources.model import words
from bot.resources.terms import TermIndex

# Straight and curly double quotes: a quoted group is an exact phrase.
_PHRASE = re.compile(r"[\"“”„«»]([^\"“”„«»]*)[\"“”„«»]")
_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})
_OPERATOR_CALL = re.compile(r"\b(?:NEAR|AND|OR|NOT)\(")
MIN_PREFIX = 3
MIN_CORRECTABLE = 3
"""Shorter words are never corrected: too many words lie one letter away."""
MAX_TERMS = 12


@dataclass(frozen=True, slots=True)
class Term:
    """One word, or a phrase of words that must appear together. ``prefix`` lets the last word grow."""

    tokens: tuple[str, ...]
    prefix: bool

    def fts(self) -> str:
        # Tokens hold letters and digits only (see bot.resources.model.words), so they need no escaping.
        star = "*" if self.prefix and len(self.tokens[-1]) >= MIN_PREFIX else ""
        return '"' + " ".join(self.tokens) + '"' + star

    def display(self) -> str:
        text = " ".join(self.tokens)
        return f"“{text}”" if len(self.tokens) > 1 and not self.prefix else text


def parse_query(text: str) -> list[Term]:
    """The terms of a query, all of which must match. Unbalanced quotes are plain separators.

    Upper-case ``AND``/``OR``/``NOT``/``NEAR`` written as operators are dropped rather than searched for.
    """
    terms: list[Term] = []
    cursor = 0
    for match in _PHRASE.finditer(text):
        terms += _loose_terms(text[cursor:match.start()])
        tokens = tuple(words(match.group(1)))
        if tokens:
            terms.append(Term(tokens, prefix=False))
        cursor = match.end()
    terms += _loose_terms(text[cursor:])
    unique = list(dict.fromkeys(terms))
    return unique[:MAX_TERMS]


def _loose_terms(text: str) -> list[Term]:
    terms = []
    for chunk in _OPERATOR_CALL.sub(" ", text).split():
        if chunk.strip("()*:^+-").rstrip("/0123456789") in _OPERATORS:
            continue
        tokens = tuple(words(chunk))
        if tokens:
            # "e-mail" and "whrd-safety" stay together as a phrase; the last word may be a prefix.
            terms.append(Term(tokens, prefix=True))
    return terms


def match_expression(terms: Sequence[Term]) -> str:
    return " ".join(term.fts() for term in terms)


def describe(terms: Sequence[Term]) -> str:
    return " ".join(term.display() for term in terms)


RANK_WINDOW = 1000
"""Above this many possible matches, only the newest ``RANK_WINDOW`` are ranked (see the benchmark)."""


def ranking_window(terms: Sequence[Term], index: TermIndex) -> int | None:
    """``RANK_WINDOW`` when even the rarest word of the query is in more resources than that, else ``None``.

    Every term must match, so the rarest word bounds the number of matches.
    """
    counts = [index.frequency(token, prefix=is_prefix) for term in terms for token, is_prefix in _tokens(term)]
    return RANK_WINDOW if counts and min(counts) > RANK_WINDOW else None


def corrections(terms: Sequence[Term], index: TermIndex, *, unseen: frozenset[str] = frozenset(),
                limit: int = 3) -> list[list[Term]]:
    """Up to ``limit`` corrected versions of the query, most likely first; empty when nothing needs one.

    A word needs correcting when the index has no such term (or, for a prefix, no term starting with it),
    or when it is in ``unseen``: words the reader finds nothing for, because they occur only in resources
    hidden from them. Alternatives matter because the closest word may itself occur only in hidden
    resources; the caller offers the first alternative that finds something the reader may see.
    Candidates are drawn from words of nearly the same length, which keeps difflib fast on a large index.
    """
    options: dict[str, list[str]] = {}
    for term in terms:
        for token, is_prefix in _tokens(term):
            if token in options or (token not in unseen and index.has(token, prefix=is_prefix)):
                continue
            candidates = [word for word in closest(token, index.by_length(), limit + 1) if word != token][:limit]
            if candidates:
                options[token] = candidates
    alternatives = max((len(candidates) for candidates in options.values()), default=0)
    return [[replace(term, tokens=tuple(_pick(options, token, rank) for token in term.tokens)) for term in terms]
            for rank in range(alternatives)]


def _pick(options: Mapping[str, Sequence[str]], token: str, rank: int) -> str:
    candidates = options.get(token)
    return candidates[min(rank, len(candidates) - 1)] if candidates else token


def _tokens(term: Term) -> Iterator[tuple[str, bool]]:
    """Each token of ``term`` and whether FTS5 matches it as a prefix (only the last, and only if long)."""
    last = len(term.tokens) - 1
    for position, token in enumerate(term.tokens):
        yield token, term.prefix and position == last and len(token) >= MIN_PREFIX


def closest(token: str, vocabulary: Mapping[int, Sequence[str]], limit: int = 1) -> list[str]:
    """Up to ``limit`` indexed words spelt most like ``token``, closest first."""
    if len(token) < MIN_CORRECTABLE:
        return []
    spread = 1  # a typo is a swap, a wrong letter, or one letter too many or too few
    # Typos rarely touch both the first letter and the second and third: this keeps difflib's work small.
    head, middle = token[0], token[1:3]
    candidates = [term for length in range(len(token) - spread, len(token) + spread + 1)
                  for term in vocabulary.get(length, ()) if term[0] == head or term[1:3] == middle]
    cutoff = 0.75 if len(token) <= 5 else 0.8
    return difflib.get_close_matches(token, candidates, n=limit, cutoff=cutoff)
