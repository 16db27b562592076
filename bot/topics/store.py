"""The store the topics feature needs. It lives beside the feature rather than in :mod:`bot.ports` (which names
it in :class:`bot.ports.Store`); ``storage/topics.py`` implements it.

What every store method may raise beyond what it names (the database failing, a foreign key, a naive
``datetime``) is said once in :mod:`bot.ports`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.topics.model import Policy, SeenTopic, Topic, Visibility


class TopicStore(Protocol):
    """Topics: slug, title, who may see them, how one joins, and whether they are archived."""

    async def create(self, slug: str, title: str, description: str, visibility: Visibility, policy: Policy,
                     now: datetime) -> Topic:
        """Returns the new topic. Raises the database's integrity error for a slug already taken: callers look with
        :meth:`by_slug` first, in the same transaction."""
        ...

    async def by_slug(self, slug: str) -> Topic | None:
        """Returns the topic, archived or not, with this slug (looked up in lower case), or ``None``. Raises nothing of
        its own."""
        ...

    async def get(self, topic_id: int) -> Topic | None:
        """Returns the topic, archived or not, or ``None`` for an unknown id. Raises nothing of its own."""
        ...

    async def all(self, *, include_archived: bool = False) -> list[Topic]:
        """Returns every topic not archived (or every one, with ``include_archived``), by slug. Raises nothing of its
        own."""
        ...

    async def update(self, topic: Topic) -> None:
        """Store the topic's title, description, visibility, policy and archived flag (its slug stays). An
        unknown id changes nothing; returns nothing and raises nothing of its own."""
        ...

    async def seen_by(self, person_id: int, *, slug: str | None = None,
                      topic_id: int | None = None) -> list[SeenTopic]:
        """Every topic, archived included (or only the one named by ``slug`` or ``topic_id``), ordered by slug,
        with whether ``person_id`` follows it and holds an invitation to it. One query, whatever the number of
        topics: :mod:`bot.topics.visibility` applies the rule to what it returns. An unknown slug or id gives [];
        raises nothing of its own."""
        ...

    def writes(self) -> int:
        """Returns a number that moves whenever this process may have written to the store (any write, committed or
        not, rolled back, and not only to topics): what :meth:`seen_by` returned while it stayed the same is still
        what it returns now. Costs no query; raises nothing."""
        ...
