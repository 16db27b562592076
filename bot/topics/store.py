"""The store the topics feature needs. It lives beside the feature rather than in :mod:`bot.ports` (which names
it in :class:`bot.ports.Store`) to keep that module readable; ``storage/topics.py`` implements it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.topics.model import Policy, SeenTopic, Topic, Visibility


class TopicStore(Protocol):
    async def create(self, slug: str, title: str, description: str, visibility: Visibility, policy: Policy,
                     now: datetime) -> Topic: ...
    async def by_slug(self, slug: str) -> Topic | None: ...
    async def get(self, topic_id: int) -> Topic | None: ...
    async def all(self, *, include_archived: bool = False) -> list[Topic]: ...
    async def update(self, topic: Topic) -> None: ...

    async def seen_by(self, person_id: int, *, slug: str | None = None,
                      topic_id: int | None = None) -> list[SeenTopic]:
        """Every topic, archived included (or only the one named by ``slug`` or ``topic_id``), ordered by slug,
        with whether ``person_id`` follows it and holds an invitation to it. One query, whatever the number of
        topics: :mod:`bot.topics.visibility` applies the rule to what it returns. An unknown slug or id gives []."""
        ...
