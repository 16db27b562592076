"""How many resources hold each indexed word, in memory, for the decisions a search makes before it runs.

Why in memory: SQLite's ``fts5vocab`` counts the resources holding a word by reading the word's whole
posting list, which takes milliseconds for a word found in most of the library, and every search asks for
several counts (the ranking window, the typo check, the "did you mean" candidates). Storage loads the counts
once and then applies each committed change as a delta, so a write costs microseconds here, not a reload.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence


class TermIndex:
    """Document frequency per folded word, with prefix look-ups and the words grouped by length."""

    def __init__(self, frequencies: Iterable[tuple[str, int]] = ()) -> None:
        self._documents: dict[str, int] = {}
        for term, documents in frequencies:
            if documents > 0:
                self._documents[term] = documents
        self._sorted = sorted(self._documents)
        self._by_length: dict[int, list[str]] = {}
        for term in self._sorted:
            self._by_length.setdefault(len(term), []).append(term)

    def __len__(self) -> int:
        return len(self._documents)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TermIndex) and self._documents == other._documents

    __hash__ = None  # type: ignore[assignment]  # mutable

    def has(self, term: str, *, prefix: bool) -> bool:
        """Whether some resource holds ``term`` (with ``prefix``: a word that starts with it)."""
        if not prefix:
            return term in self._documents
        return next(self._starting_with(term), None) is not None

    def frequency(self, term: str, *, prefix: bool) -> int:
        """How many resources hold ``term``; with ``prefix``, the sum over the words it starts, an upper
        bound on the resources holding any of them."""
        if not prefix:
            return self._documents.get(term, 0)
        return sum(self._documents[word] for word in self._starting_with(term))

    def by_length(self) -> Mapping[int, Sequence[str]]:
        """Every word, grouped by length: where "did you mean" looks for a close spelling."""
        return self._by_length

    def count(self, words: Iterable[str], change: int) -> None:
        """Add (``change=1``) or take away (``-1``) one resource that holds ``words``; repeats count once."""
        for term in set(words):
            documents = self._documents.get(term, 0) + change
            if documents > 0:
                if term not in self._documents:
                    bisect.insort(self._sorted, term)
                    bisect.insort(self._by_length.setdefault(len(term), []), term)
                self._documents[term] = documents
            elif term in self._documents:
                del self._documents[term]
                self._sorted.pop(bisect.bisect_left(self._sorted, term))
                same_length = self._by_length[len(term)]
                same_length.pop(bisect.bisect_left(same_length, term))

    def _starting_with(self, prefix: str) -> Iterator[str]:
        for index in range(bisect.bisect_left(self._sorted, prefix), len(self._sorted)):
            word = self._sorted[index]
            if not word.startswith(prefix):
                return
            yield word
