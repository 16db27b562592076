"""Visibility costs one query per call however many private topics there are (issue 17, item 4): it used to
cost one invitation query per private topic, in each of four features."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.model import Identity
from bot.topics.model import Policy, Visibility
from storage.database import Database
from tests.support import Harness

PRIVATE_TOPICS = 50


@contextmanager
def counting(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements read through ``db`` while the block runs (every read goes through these two)."""
    statements: list[str] = []
    for name in ("fetch_all", "fetch_one"):
        original: Callable[..., Awaitable[Any]] = getattr(db, name)

        async def spy(sql: str, params: Any = (), *, _original: Callable[..., Awaitable[Any]] = original) -> Any:
            statements.append(sql)
            return await _original(sql, params)

        monkeypatch.setattr(db, name, spy)
    yield statements
    monkeypatch.undo()


async def test_one_query_per_call_for_a_caller_invited_to_many_private_topics(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    store, now = h.app.store, h.clock.now()
    record = await store.people.ensure_identity(Identity("console", "v-invitee"), "v-invitee", now)
    admin = await store.people.identity(Identity("console", "demo-admin"))
    assert admin is not None
    async with store.transaction():
        for n in range(PRIVATE_TOPICS):
            topic = await store.topics.create(f"private-{n:02}", f"Private {n}", "", Visibility.PRIVATE,
                                              Policy.OPEN, now)
            await store.subscriptions.add_invitation(record.person_id, topic.id, admin.person_id, now)
    caller = await h.app.services.people.caller_for_person(record.person_id)
    services = h.app.services
    with counting(h.app.db, monkeypatch) as statements:
        visible = await services.topics.visible(caller)
    assert len([t for t in visible if t.slug.startswith("private-")]) == PRIVATE_TOPICS
    assert len(statements) == 1
    # Later look-ups in the same command reuse the rows read (nothing was written since): at most one query.
    with counting(h.app.db, monkeypatch) as statements:
        await services.topics.find_visible(caller, "private-42")
    assert len(statements) <= 1
    with counting(h.app.db, monkeypatch) as statements:
        assert len(await services.resources.visible_topics(caller)) >= PRIVATE_TOPICS
    assert len(statements) <= 1
