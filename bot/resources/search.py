"""Running a search: one page of results a reader may see, and a correction when the words find nothing.

The query language and the spelling suggestions are in :mod:`bot.resources.query` (pure functions); this
module asks the store, because whether a correction helps depends on what this reader may see.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from bot.resources.model import ResourceFilter, ResourcePage, ResourceScope
from bot.resources.query import MAX_TERMS, MIN_CORRECTABLE, Term, corrections, match_expression, ranking_window
from bot.resources.store import ResourceStore
from bot.resources.terms import TermIndex

PAGE_SIZE = 5


@dataclass(frozen=True, slots=True)
class SearchResult:
    page: ResourcePage
    terms: tuple[Term, ...]
    suggestion: tuple[Term, ...] | None
    corrected: bool
    """True when ``page`` holds results for ``suggestion`` because the query itself found nothing."""


async def run_search(resources: ResourceStore, terms: list[Term], scope: ResourceScope, filters: ResourceFilter,
                     page: int, *, own_vocabulary: bool = False) -> SearchResult:
    """One page of results for ``terms`` as ``scope`` may see them, with a correction when one helps.

    When the query finds nothing, every page holds the correction's results, recomputed from the query as
    typed: the next-page action repeats that query, so pages never mix two result sets. The benchmark
    times exactly this function.

    ``own_vocabulary``: decide with the words of what ``scope`` may see only, not the whole library's. With the
    whole vocabulary a word held only by hidden resources costs extra look-ups (it is known, so it is checked
    and corrected), and a stranger timing the public search could learn that a hidden resource holds it.
    """
    offset = (page - 1) * PAGE_SIZE
    index = await resources.terms(scope if own_vocabulary else None)
    found = await resources.search(match_expression(terms), scope, filters, limit=PAGE_SIZE, offset=offset,
                                   window=ranking_window(terms, index))
    if found.items or (page > 1 and await _finds_any(resources, terms, scope, filters)):
        suggestion = await _correction(resources, terms, scope, filters, index, frozenset()) if page == 1 else None
        return SearchResult(found, tuple(terms), suggestion, corrected=False)
    # Words the index knows may still be unknown to this reader (they occur only in hidden resources): as
    # nothing was found, those are corrected too, or a hidden word would block the suggestion.
    unseen = frozenset(await _unseen_words(resources, terms, scope, filters, index))
    suggestion = await _correction(resources, terms, scope, filters, index, unseen)
    if suggestion is None:
        return SearchResult(found, tuple(terms), None, corrected=False)
    alternative = await resources.search(match_expression(suggestion), scope, filters, limit=PAGE_SIZE,
                                         offset=offset, window=ranking_window(suggestion, index))
    return SearchResult(alternative, tuple(terms), suggestion, corrected=True)


async def _correction(resources: ResourceStore, terms: list[Term], scope: ResourceScope, filters: ResourceFilter,
                      index: TermIndex, unseen: frozenset[str]) -> tuple[Term, ...] | None:
    """The first correction whose words this reader may see, or ``None``.

    The vocabulary spans every resource, so a suggestion is checked against the reader's scope with the
    corrected words matched exactly: a visible "zorblatian" must not vouch for a hidden "zorblat".
    """
    for suggestion in corrections(terms, index, unseen=unseen):
        exact = [corrected if corrected == typed else dataclasses.replace(corrected, prefix=False)
                 for corrected, typed in zip(suggestion, terms, strict=True)]
        if await _finds_any(resources, exact, scope, filters):
            return tuple(suggestion)
    return None


async def _finds_any(resources: ResourceStore, terms: Sequence[Term], scope: ResourceScope,
                     filters: ResourceFilter) -> bool:
    # A window of one: the newest visible match is enough, nothing is ranked.
    page = await resources.search(match_expression(terms), scope, filters, limit=1, window=1)
    return bool(page.items)


async def _unseen_words(resources: ResourceStore, terms: list[Term], scope: ResourceScope, filters: ResourceFilter,
                        index: TermIndex) -> list[str]:
    """Indexed words of the query that find nothing this reader may see. Words the index lacks are corrected
    anyway, and words too short to correct are skipped, so this costs at most one look-up per term."""
    candidates = dict.fromkeys(token for term in terms for token in term.tokens
                               if len(token) >= MIN_CORRECTABLE and index.has(token, prefix=False))
    unseen = []
    for token in list(candidates)[:MAX_TERMS]:
        if not await _finds_any(resources, [Term((token,), prefix=False)], scope, filters):
            unseen.append(token)
    return unseen
