"""Resources per topic, kept in memory so the library's first page does not count every link (issue 23, item 5):
always the same numbers as counting in SQL, after adds, edits, removals, a rollback and another connection's
writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.resources.model import ResourceFields, ResourceKind, ResourceScope, ResourceVisibility
from bot.topics.model import Policy, Visibility
from storage.database import Database
from storage.resources import SqliteResources, scope_sql
from storage.topics import SqliteTopics
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _fields(n: int, topic_ids: tuple[int, ...], visibility: ResourceVisibility) -> ResourceFields:
    return ResourceFields(url=f"https://example.org/{n}", url_key=f"example.org/{n}", title=f"Resource {n}",
                          summary="", kind=ResourceKind.REPORT, topic_ids=topic_ids, tags=(), language="en",
                          visibility=visibility)


async def _counted_in_sql(db: Database, scope: ResourceScope | None) -> dict[int, int]:
    """The definition: resources the scope may see, per topic they are linked to, for topics in the scope."""
    where, params = scope_sql(scope)
    rows = await db.fetch_all(
        "SELECT t.topic_id, count(*) FROM resource_topics t JOIN resources r ON r.id = t.resource_id"
        f" WHERE {where} GROUP BY t.topic_id", params)
    return {row[0]: row[1] for row in rows if scope is None or row[0] in scope.topic_ids}


async def _check(db: Database, resources: SqliteResources, scopes: list[ResourceScope | None]) -> None:
    for scope in scopes:
        assert await resources.count_by_topic(scope) == await _counted_in_sql(db, scope), scope


async def test_counts_per_topic_follow_every_write(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        topics = SqliteTopics(db)
        a, b, c = [(await topics.create(slug, slug, "", Visibility.PUBLIC, Policy.OPEN, NOW)).id
                   for slug in ("a", "b", "c")]
        scopes: list[ResourceScope | None] = [
            None, ResourceScope(True, frozenset({a, b})), ResourceScope(False, frozenset({a, b})),
            ResourceScope(False, frozenset({c})), ResourceScope(True, frozenset())]
        resources = SqliteResources(db)
        one = await resources.add(_fields(1, (a,), ResourceVisibility.PUBLIC), None, NOW)
        two = await resources.add(_fields(2, (a, b), ResourceVisibility.MEMBERS), None, NOW)
        await _check(db, resources, scopes)  # loaded here, then moved by each write
        assert await resources.count_by_topic(ResourceScope(False, frozenset({a, b}))) == {a: 1}

        three = await resources.add(_fields(3, (b, c), ResourceVisibility.PUBLIC), None, NOW)
        await resources.add(_fields(4, (), ResourceVisibility.PUBLIC), None, NOW)
        await _check(db, resources, scopes)
        await resources.update(two.id, _fields(2, (c,), ResourceVisibility.PUBLIC), NOW)
        await _check(db, resources, scopes)
        await resources.update(one.id, replace(_fields(1, (a, b), ResourceVisibility.MEMBERS), title="One"), NOW)
        await _check(db, resources, scopes)
        assert await resources.remove(three.id)
        await _check(db, resources, scopes)

        with pytest.raises(RuntimeError):  # a rolled-back write moves nothing
            async with db.transaction():
                await resources.add(_fields(5, (a,), ResourceVisibility.PUBLIC), None, NOW)
                raise RuntimeError("rolled back")
        await _check(db, resources, scopes)

        # Another connection (an import from the command line) writes: the counts are loaded again.
        async with Database.open(storage_target(tmp_path, "bot.db")) as other:
            await SqliteResources(other).add(_fields(6, (a, c), ResourceVisibility.PUBLIC), None, NOW)
        await _check(db, resources, scopes)
        assert (await resources.count_by_topic(None))[a] == 2


async def test_scoped_word_counts_hold_only_what_the_scope_sees_and_refresh_at_most_every_minute(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.resources as module

    clock = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        topic = (await SqliteTopics(db).create("a", "a", "", Visibility.PUBLIC, Policy.OPEN, NOW)).id
        resources = SqliteResources(db)
        public = ResourceScope(False, frozenset({topic}))
        await resources.add(replace(_fields(1, (topic,), ResourceVisibility.PUBLIC), title="Zanzibar atlas"), None, NOW)
        await resources.add(replace(_fields(2, (topic,), ResourceVisibility.MEMBERS), title="Quokka plan"), None, NOW)
        index = await resources.terms(public)
        assert index.has("zanzibar", prefix=False) and not index.has("quokka", prefix=False)
        assert (await resources.terms()).has("quokka", prefix=False)  # the whole library's counts know it

        await resources.add(replace(_fields(3, (topic,), ResourceVisibility.PUBLIC), title="Wombat guide"), None, NOW)
        clock[0] += module.SCOPED_REFRESH_SECONDS - 1
        assert await resources.terms(public) is index  # within the minute: not rebuilt for each edit
        clock[0] += 2
        assert (await resources.terms(public)).has("wombat", prefix=False)
