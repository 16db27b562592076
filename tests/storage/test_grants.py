"""Role grants on a real SQLite file: one grant per person, role and scope; coordinators of a topic include the
coalition-wide ones; admins by grant or by identity."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.model import Identity, Role
from bot.topics.model import Policy, Visibility
from storage.database import Database
from storage.grants import SqliteGrants
from storage.people import SqlitePeople
from storage.topics import SqliteTopics
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_grants_by_person_topic_and_identity(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        people, grants = SqlitePeople(db), SqliteGrants(db)
        ana = (await people.ensure_identity(Identity("slack", "U1"), "Ana", NOW)).person_id
        ben = (await people.ensure_identity(Identity("slack", "U2"), "Ben", NOW)).person_id
        settings_admin = (await people.ensure_identity(Identity("console", "root"), "Root", NOW)).person_id
        topic = await SqliteTopics(db).create("climate", "Climate", "", Visibility.PUBLIC, Policy.OPEN, NOW)

        assert await grants.add(ana, Role.COORDINATOR, topic.id, None, NOW)
        assert not await grants.add(ana, Role.COORDINATOR, topic.id, None, NOW)  # already held
        assert await grants.add(ben, Role.COORDINATOR, None, ana, NOW)  # every topic
        assert await grants.add(ben, Role.ADMIN, None, ana, NOW)

        assert [(g.role, g.topic_id, g.granted_by) for g in await grants.of_person(ben)] == \
            [(Role.COORDINATOR, None, ana), (Role.ADMIN, None, ana)]
        assert await grants.coordinators_of(topic.id) == [ana, ben]
        assert await grants.admins([Identity("console", "root"), Identity("console", "nobody")]) == \
            [ben, settings_admin]
        assert await grants.remove(ben, Role.COORDINATOR, None)
        assert not await grants.remove(ben, Role.COORDINATOR, None)
        assert await grants.coordinators_of(topic.id) == [ana]
