"""Topics (``topics``): their slug, title, who may see them, how one joins, and whether they are archived."""

from __future__ import annotations

from datetime import datetime

from bot.topics.model import Policy, SeenTopic, Topic, Visibility
from storage.database import Database, Row, from_db_time, to_db_time


def _topic(row: Row) -> Topic:
    return Topic(
        id=row["id"], slug=row["slug"], title=row["title"], description=row["description"],
        visibility=Visibility(row["visibility"]), policy=Policy(row["policy"]), archived=bool(row["archived"]),
        created_at=from_db_time(row["created_at"]),
    )


class SqliteTopics:
    """The :class:`bot.topics.store.TopicStore` on the ``topics`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, slug: str, title: str, description: str, visibility: Visibility, policy: Policy,
                     now: datetime) -> Topic:
        async with self._db.transaction():
            topic_id = await self._db.insert(
                "INSERT INTO topics (slug, title, description, visibility, policy, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (slug, title, description, visibility.value, policy.value, to_db_time(now)),
            )
            topic = await self.get(topic_id)
            assert topic is not None
            return topic

    async def by_slug(self, slug: str) -> Topic | None:
        row = await self._db.fetch_one("SELECT * FROM topics WHERE slug = ?", (slug.lower(),))
        return _topic(row) if row else None

    async def get(self, topic_id: int) -> Topic | None:
        row = await self._db.fetch_one("SELECT * FROM topics WHERE id = ?", (topic_id,))
        return _topic(row) if row else None

    async def all(self, *, include_archived: bool = False) -> list[Topic]:
        where = "" if include_archived else " WHERE archived = 0"
        rows = await self._db.fetch_all(f"SELECT * FROM topics{where} ORDER BY slug")
        return [_topic(row) for row in rows]

    async def update(self, topic: Topic) -> None:
        await self._db.execute(
            "UPDATE topics SET title = ?, description = ?, visibility = ?, policy = ?, archived = ? WHERE id = ?",
            (topic.title, topic.description, topic.visibility.value, topic.policy.value, int(topic.archived),
             topic.id),
        )

    def writes(self) -> int:
        return self._db.writes

    async def seen_by(self, person_id: int, *, slug: str | None = None,
                      topic_id: int | None = None) -> list[SeenTopic]:
        """Both flags come from the primary keys of ``subscriptions`` and ``invitations`` (person, topic)."""
        params: list[object] = [person_id, person_id]
        where = ""
        if slug is not None:
            where, params = " WHERE t.slug = ?", [*params, slug.lower()]
        elif topic_id is not None:
            where, params = " WHERE t.id = ?", [*params, topic_id]
        rows = await self._db.fetch_all(
            "SELECT t.*,"
            " EXISTS (SELECT 1 FROM subscriptions s WHERE s.person_id = ? AND s.topic_id = t.id) AS subscribed,"
            " EXISTS (SELECT 1 FROM invitations i WHERE i.person_id = ? AND i.topic_id = t.id) AS invited"
            f" FROM topics t{where} ORDER BY t.slug", params)
        return [SeenTopic(_topic(row), bool(row["subscribed"]), bool(row["invited"])) for row in rows]
