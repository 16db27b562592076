"""The resource library: rows, topic links, and the full-text index kept in step with them.

SQLite indexes the folded search columns with FTS5 (triggers keep the external-content table in step, bm25
ranks, the ``resources_vocab`` fts5vocab table counts the words). PostgreSQL keeps a weighted tsvector of the
same words in ``resources.search_document`` (a generated column, GIN-indexed), matches a tsquery built from the
same quoted tokens, ranks with ts_rank and counts the words with ts_stat. Both split exactly where
:func:`bot.resources.model.words` splits, so results, counts and corrections agree.

Every read that serves a person takes a :class:`ResourceScope` and applies it in the SQL ``WHERE`` clause, so
a hidden row is never fetched, counted or ranked for someone who may not see it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.resources.model import (
    Resource,
    ResourceFields,
    ResourceFilter,
    ResourceKind,
    ResourcePage,
    ResourceScope,
    ResourceVisibility,
    fold,
)
from bot.resources.terms import TermIndex
from storage.database import Database, Dialect, Row, from_db_time, to_db_time
from storage.resources_postgres import RANK_WEIGHTS, indexed_words, to_tsquery

_TOPIC_LIST: dict[Dialect, str] = {
    "sqlite": "(SELECT group_concat(topic_id) FROM resource_topics WHERE resource_id = r.id)",
    "postgresql": "(SELECT string_agg(CAST(topic_id AS TEXT), ',') FROM resource_topics WHERE resource_id = r.id)",
}
_COLUMNS: dict[Dialect, str] = {
    dialect: ("r.id, r.url, r.url_key, r.title, r.summary, r.kind, r.tags, r.language, r.visibility, r.added_by,"
              f" r.created_at, r.updated_at, {topic_list} AS topic_list")
    for dialect, topic_list in _TOPIC_LIST.items()
}

SCOPED_INDEXES = 8
"""Scoped word counts kept at once (the public web asks for one scope; a topic's visibility changing makes
another)."""
SCOPED_REFRESH_SECONDS = 60.0
"""How stale scoped word counts may get while resources change: a rebuild reads and splits every row the scope may
see (about a second at 100,000 resources), so it happens at most this often, not after every edit. Only typo
corrections read these counts; results always come from the full-text index."""


_VOCABULARY: dict[Dialect, str] = {
    "sqlite": "SELECT term, doc FROM resources_vocab",
    "postgresql": "SELECT word, ndoc FROM ts_stat('SELECT search_document FROM resources')",
}
"""Each indexed word and how many resources hold it."""


def _resource(row: Row) -> Resource:
    topics = tuple(sorted(int(t) for t in (row["topic_list"] or "").split(",") if t))
    return Resource(
        id=row["id"], url=row["url"], url_key=row["url_key"], title=row["title"], summary=row["summary"],
        kind=ResourceKind(row["kind"]), topic_ids=topics, tags=tuple(t for t in row["tags"].split(",") if t),
        language=row["language"], visibility=ResourceVisibility(row["visibility"]), added_by=row["added_by"],
        created_at=from_db_time(row["created_at"]), updated_at=from_db_time(row["updated_at"]),
    )


def scope_sql(scope: ResourceScope | None) -> tuple[str, list[Any]]:
    """The ``WHERE`` fragment (on alias ``r``) that hides what ``scope`` may not see."""
    if scope is None:
        return "TRUE", []
    topics = ",".join(str(int(t)) for t in sorted(scope.topic_ids))
    visibility = "TRUE" if scope.include_members else "r.visibility = 'public'"
    # Topic ids are integers from the database, inlined so the check is an index probe per row.
    return (f"{visibility} AND (EXISTS (SELECT 1 FROM resource_topics rt WHERE rt.resource_id = r.id"
            f" AND rt.topic_id IN ({topics or 'NULL'}))"
            f" OR NOT EXISTS (SELECT 1 FROM resource_topics rt WHERE rt.resource_id = r.id))"), []


def filter_sql(filters: ResourceFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if filters.kind is not None:
        clauses.append("r.kind = ?")
        params.append(filters.kind.value)
    if filters.language is not None:
        clauses.append("r.language = ?")
        params.append(filters.language)
    if filters.topic_id is not None:
        clauses.append("EXISTS (SELECT 1 FROM resource_topics ft WHERE ft.resource_id = r.id AND ft.topic_id = ?)")
        params.append(filters.topic_id)
    return " AND ".join(clauses), params


def _search_columns(fields: ResourceFields) -> tuple[str, str, str]:
    return fold(fields.title), fold(" ".join(fields.tags)), fold(fields.summary)


class SqliteResources:
    """The library on either engine (the name is the one the rest of storage imports)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._columns = _COLUMNS[db.dialect]
        # The term counts, and the data_version and commits in doubt they were loaded at: another
        # connection's commit (an import from the command line) changes the first, an interrupted commit the
        # second, and the counts are loaded again. This connection's own writes arrive as deltas on commit (on
        # PostgreSQL they move data_version too, so there the next read loads the counts again anyway).
        self._terms: tuple[tuple[int, int], TermIndex] | None = None
        # Links per (topic, public?), kept the same way as the term counts: counting them in SQL reads every link
        # and its resource's row (~300 ms at 100,000 resources), on every "resources" page.
        self._links: tuple[tuple[int, int], Counter[tuple[int, bool]]] | None = None
        # Counts of the words one scope may see (the public web's): built from that scope's rows when asked, kept
        # until a resource changes (``_changes``, moved after each commit that touched one) or the version does.
        self._changes = 0
        self._scoped: OrderedDict[ResourceScope, tuple[tuple[tuple[int, int], int], float, TermIndex]] = OrderedDict()

    async def add(self, fields: ResourceFields, added_by: int | None, now: datetime) -> Resource:
        title, tags, summary = _search_columns(fields)
        async with self._db.transaction():
            resource_id = await self._db.insert(
                "INSERT INTO resources (url, url_key, title, summary, kind, tags, language, visibility, added_by,"
                " created_at, updated_at, search_title, search_tags, search_summary)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (fields.url, fields.url_key, fields.title, fields.summary, fields.kind.value, ",".join(fields.tags),
                 fields.language, fields.visibility.value, added_by, to_db_time(now), to_db_time(now), title, tags,
                 summary),
            )
            await self._set_topics(resource_id, fields.topic_ids)
            self._count_after_commit((title, tags, summary), 1)
            self._links_after_commit(fields.topic_ids, fields.visibility, 1)
            resource = await self.get(resource_id, None)
            assert resource is not None
            return resource

    async def update(self, resource_id: int, fields: ResourceFields, now: datetime) -> Resource:
        """Replace every field of resource ``resource_id``; raises ``LookupError`` when it does not exist."""
        title, tags, summary = _search_columns(fields)
        async with self._db.transaction():
            before = await self._search_text(resource_id)
            linked = await self._linked(resource_id)
            changed = await self._db.execute(
                "UPDATE resources SET url = ?, url_key = ?, title = ?, summary = ?, kind = ?, tags = ?,"
                " language = ?, visibility = ?, updated_at = ?, search_title = ?, search_tags = ?,"
                " search_summary = ? WHERE id = ?",
                (fields.url, fields.url_key, fields.title, fields.summary, fields.kind.value, ",".join(fields.tags),
                 fields.language, fields.visibility.value, to_db_time(now), title, tags, summary, resource_id),
            )
            if not changed:
                raise LookupError(f"no resource {resource_id}")
            await self._db.execute("DELETE FROM resource_topics WHERE resource_id = ?", (resource_id,))
            await self._set_topics(resource_id, fields.topic_ids)
            if before is not None:
                self._count_after_commit(before, -1)
            self._count_after_commit((title, tags, summary), 1)
            if linked is not None:
                self._links_after_commit(linked.topic_ids, linked.visibility, -1)
            self._links_after_commit(fields.topic_ids, fields.visibility, 1)
            resource = await self.get(resource_id, None)
            assert resource is not None
            return resource

    async def _set_topics(self, resource_id: int, topic_ids: Sequence[int]) -> None:
        if topic_ids:
            await self._db.execute_many(
                "INSERT INTO resource_topics (resource_id, topic_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(resource_id, topic_id) for topic_id in topic_ids])

    async def remove(self, resource_id: int) -> bool:
        async with self._db.transaction():
            before = await self._search_text(resource_id)
            linked = await self._linked(resource_id)
            changed = await self._db.execute("DELETE FROM resources WHERE id = ?", (resource_id,))
            if changed and before is not None:
                self._count_after_commit(before, -1)
            if changed and linked is not None:
                self._links_after_commit(linked.topic_ids, linked.visibility, -1)
        return changed > 0

    async def _search_text(self, resource_id: int) -> tuple[str, str, str] | None:
        """A row's indexed text before a change, for the counts' delta; not read when no counts are kept."""
        if self._terms is None:
            return None
        row = await self._db.fetch_one(
            "SELECT search_title, search_tags, search_summary FROM resources WHERE id = ?", (resource_id,))
        return (row[0], row[1], row[2]) if row else None

    def _changed(self) -> None:
        self._changes += 1

    def _count_after_commit(self, columns: tuple[str, str, str], change: int) -> None:
        self._db.after_commit(self._changed)  # every write that counts words also changes scoped counts
        if self._terms is None:
            # Nothing to keep current (an import from the command line never searches). Counts cannot be
            # loaded before this transaction ends: loading waits for it, and then sees its rows.
            return
        counts = self._terms[1]
        tokens = indexed_words(self._db.dialect, columns)
        self._db.after_commit(lambda: counts.count(tokens, change))

    async def _linked(self, resource_id: int) -> Resource | None:
        """A row's topics and visibility before a change, for the link counts' delta; not read when none are kept."""
        return None if self._links is None else await self.get(resource_id, None)

    def _links_after_commit(self, topic_ids: Iterable[int], visibility: ResourceVisibility, change: int) -> None:
        if self._links is None:
            return  # as for the term counts: nothing kept, and a load waits for this transaction to end
        counts = self._links[1]
        public = visibility is ResourceVisibility.PUBLIC
        keys = [(topic_id, public) for topic_id in set(topic_ids)]

        def apply() -> None:
            for key in keys:
                counts[key] += change

        self._db.after_commit(apply)

    async def _version(self) -> tuple[int, int]:
        """Changes with another connection's commit (:meth:`Database.data_version`) or a commit in doubt: what is kept
        in memory from this connection's deltas must then be loaded again."""
        return await self._db.data_version(), self._db.commits_in_doubt

    async def get(self, resource_id: int, scope: ResourceScope | None) -> Resource | None:
        where, params = scope_sql(scope)
        row = await self._db.fetch_one(f"SELECT {self._columns} FROM resources r WHERE r.id = ? AND {where}",
                                       (resource_id, *params))
        return _resource(row) if row else None

    async def by_url_key(self, url_key: str) -> Resource | None:
        row = await self._db.fetch_one(f"SELECT {self._columns} FROM resources r WHERE r.url_key = ?",
                                       (url_key,))
        return _resource(row) if row else None

    async def search(self, match: str, scope: ResourceScope | None, filters: ResourceFilter, *, limit: int,
                     offset: int = 0, window: int | None = None) -> ResourcePage:
        """Rows matching the FTS5 expression ``match``, best first (title > tags > summary), newest first among
        equals.

        ``match`` must be built from quoted tokens by the caller; it is bound as a parameter (on PostgreSQL as
        the tsquery :func:`to_tsquery` makes of it). Fetches one row more than ``limit`` to know whether another
        page exists. With ``window``, only the newest ``window`` matches are ranked: ranking costs time in
        proportion to the matches, and a word found in most of the library says little about relevance anyway.
        """
        where, params = scope_sql(scope)
        where_filters, filter_params = filter_sql(filters)
        if self._db.dialect == "postgresql":
            return await self._search_postgres(match, (where, params), (where_filters, filter_params),
                                               limit=limit, offset=offset, window=window)
        # Scope and filters apply inside the window: the newest ``window`` matches this reader may see. They
        # are checked on every match (filters first: a language is cheaper to compare than topics to look
        # up), through the small covering index, never the full rows, which the planner would pick without
        # ANALYZE statistics (three to five times slower on a large library).
        candidates = ("SELECT f.rowid AS id, f.rank AS score FROM resources_fts f"
                      " JOIN resources r INDEXED BY resources_facets ON r.id = f.rowid"
                      f" WHERE resources_fts MATCH ? AND {where_filters} AND {where}")
        window_params: list[Any] = []
        if window is not None:
            candidates = f"SELECT id, score FROM ({candidates} ORDER BY f.rowid DESC LIMIT ?)"
            window_params = [window]
        # The page is cut inside the subquery, so only its rows are read in full (SQLite would otherwise
        # flatten the join and fetch every match's row and topics before sorting).
        rows = await self._db.fetch_all(
            f"SELECT {self._columns} FROM ({candidates} ORDER BY score, id DESC LIMIT ? OFFSET ?) m"
            " JOIN resources r ON r.id = m.id ORDER BY m.score, m.id DESC",
            (match, *filter_params, *params, *window_params, limit + 1, offset))
        return ResourcePage(tuple(_resource(row) for row in rows[:limit]), len(rows) > limit)

    async def _search_postgres(self, match: str, scope: tuple[str, list[Any]], filters: tuple[str, list[Any]], *,
                               limit: int, offset: int, window: int | None) -> ResourcePage:
        """:meth:`search` on PostgreSQL: the GIN index finds the matches, the window keeps the newest (by id, as
        FTS5's rowid), ts_rank orders them (higher is better, so the order is descending)."""
        query = to_tsquery(match)
        if query is None:
            return ResourcePage((), False)
        (where, params), (where_filters, filter_params) = scope, filters
        candidates = ("SELECT r.id, r.search_document FROM resources r"
                      f" WHERE r.search_document @@ CAST(? AS tsquery) AND {where_filters} AND {where}")
        window_params: list[Any] = []
        if window is not None:
            candidates += " ORDER BY r.id DESC LIMIT ?"
            window_params = [window]
        # Ranked outside the window, so only the newest ``window`` matches are ranked; the page is cut before
        # the full rows and their topics are read.
        rows = await self._db.fetch_all(
            f"SELECT {self._columns} FROM (SELECT c.id, ts_rank({RANK_WEIGHTS}, c.search_document, CAST(? AS tsquery))"
            f" AS score FROM ({candidates}) c ORDER BY score DESC, c.id DESC LIMIT ? OFFSET ?) m"
            " JOIN resources r ON r.id = m.id ORDER BY m.score DESC, m.id DESC",
            (query, query, *filter_params, *params, *window_params, limit + 1, offset))
        return ResourcePage(tuple(_resource(row) for row in rows[:limit]), len(rows) > limit)

    async def browse(self, scope: ResourceScope | None, filters: ResourceFilter, *, limit: int,
                     offset: int = 0) -> ResourcePage:
        """Newest first."""
        where, params = scope_sql(scope)
        where_filters, filter_params = filter_sql(filters)
        rows = await self._db.fetch_all(
            f"SELECT {self._columns} FROM resources r WHERE {where} AND {where_filters}"
            " ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?",
            (*params, *filter_params, limit + 1, offset))
        return ResourcePage(tuple(_resource(row) for row in rows[:limit]), len(rows) > limit)

    async def count_by_topic(self, scope: ResourceScope | None) -> dict[int, int]:
        """From the link counts kept in memory (loaded once, then moved by this connection's commits): a resource
        linked to a topic in ``scope`` is visible to it whatever its other topics, so the count of a topic in
        scope depends only on its links and their resources' visibility. Topics outside ``scope`` are absent: the
        reader may not see them."""
        version = await self._version()
        if self._links is None or self._links[0] != version:
            async with self._db.settled():  # see terms(): never count another coroutine's uncommitted rows
                rows = await self._db.fetch_all(
                    "SELECT t.topic_id, r.visibility = 'public', count(*) FROM resource_topics t"
                    " JOIN resources r ON r.id = t.resource_id GROUP BY 1, 2")
            self._links = (version, Counter({(row[0], bool(row[1])): row[2] for row in rows}))
        counts: Counter[int] = Counter()
        for (topic_id, public), n in self._links[1].items():
            if scope is None or (topic_id in scope.topic_ids and (public or scope.include_members)):
                counts[topic_id] += n
        return {topic_id: n for topic_id, n in counts.items() if n > 0}

    async def terms(self, scope: ResourceScope | None = None) -> TermIndex:
        """How many resources hold each indexed word (see :mod:`bot.resources.terms`); with ``scope``, only the
        resources that scope may see (for readers who must not learn, even from timing, which words hidden
        resources hold: the public web)."""
        version = await self._version()
        if scope is not None:
            return await self._scoped_terms(version, scope)
        if self._terms is None or self._terms[0] != version:
            # Between transactions: the connection is shared, and a load that saw another coroutine's
            # uncommitted row would count it twice once that row's delta arrives (or once after a rollback).
            async with self._db.settled():
                rows = await self._db.fetch_all(_VOCABULARY[self._db.dialect])
            self._terms = (version, TermIndex((term_row[0], term_row[1]) for term_row in rows))
        return self._terms[1]

    async def _scoped_terms(self, version: tuple[int, int], scope: ResourceScope) -> TermIndex:
        state, now = (version, self._changes), time.monotonic()
        found = self._scoped.get(scope)
        if found is not None and (found[0] == state or now - found[1] < SCOPED_REFRESH_SECONDS):
            self._scoped.move_to_end(scope)
            return found[2]
        where, params = scope_sql(scope)
        async with self._db.settled():  # as terms(): never another coroutine's uncommitted rows
            rows = await self._db.fetch_all(
                f"SELECT r.search_title, r.search_tags, r.search_summary FROM resources r WHERE {where}", params)
        # Splitting every row into words takes a while on a large library: off the event loop.
        index = await asyncio.to_thread(_counted, self._db.dialect, [(row[0], row[1], row[2]) for row in rows])
        self._scoped[scope] = (state, now, index)
        self._scoped.move_to_end(scope)
        while len(self._scoped) > SCOPED_INDEXES:
            self._scoped.popitem(last=False)
        return index


def _counted(dialect: Dialect, rows: list[tuple[str, str, str]]) -> TermIndex:
    """Word counts of these rows' indexed columns, each word once per row."""
    counts: Counter[str] = Counter()
    for columns in rows:
        counts.update(set(indexed_words(dialect, columns)))
    return TermIndex(counts.items())
