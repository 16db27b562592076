"""Subscriptions and invitations on a real SQLite file: one subscription per person and topic (a new mode
replaces the old), invitations given once and withdrawn together."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility
from storage.database import Database
from storage.store import SqliteStore
from storage.subscriptions import SqliteSubscriptions
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_subscriptions_and_invitations(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)  # the repository the store gathers is this module's
        subscriptions = store.subscriptions
        assert isinstance(subscriptions, SqliteSubscriptions)
        ana, ben = [(await store.people.ensure_identity(Identity("slack", user), user, NOW)).person_id
                    for user in ("U1", "U2")]
        press, casework = [await store.topics.create(slug, slug.title(), "", visibility, Policy.OPEN, NOW)
                           for slug, visibility in (("press", Visibility.PUBLIC), ("casework", Visibility.PRIVATE))]

        await subscriptions.put(ana, press.id, DeliveryMode.DAILY, NOW)
        await subscriptions.put(ana, press.id, DeliveryMode.WEEKLY, NOW)
        await subscriptions.put(ana, casework.id, DeliveryMode.IMMEDIATE, NOW)
        assert [(s.topic_id, s.mode) for s in await subscriptions.of_person(ana)] == \
            [(casework.id, DeliveryMode.IMMEDIATE), (press.id, DeliveryMode.WEEKLY)]  # by slug
        assert [s.person_id for s in await subscriptions.of_topic(press.id)] == [ana]
        assert await subscriptions.remove(ana, press.id)
        assert await subscriptions.get(ana, press.id) is None

        assert await subscriptions.add_invitation(ben, casework.id, ana, NOW)
        assert not await subscriptions.add_invitation(ben, casework.id, ana, NOW)
        assert await subscriptions.is_invited(ben, casework.id)
        invitation = await subscriptions.invitation(ben, casework.id)
        assert invitation is not None and invitation.invited_by == ana
        assert [i.person_id for i in await subscriptions.remove_invitations(casework.id)] == [ben]
        assert not await subscriptions.is_invited(ben, casework.id)
        assert not await subscriptions.remove_invitation(ben, casework.id)


async def test_audience_counts_name_no_platform_as_none(tmp_path: Path) -> None:
    """A subscriber with no preferred platform is counted under ``None`` (first), not under a made-up name."""
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        people = [(await store.people.ensure_identity(Identity("slack", user), user, NOW)).person_id
                  for user in ("U1", "U2", "U3")]
        topic = await store.topics.create("press", "Press", "", Visibility.PUBLIC, Policy.OPEN, NOW)
        for person in people:
            await store.subscriptions.put(person, topic.id, DeliveryMode.DAILY, NOW)
        await db.execute("UPDATE people SET preferred_platform = 'slack' WHERE id = ?", (people[0],))
        await db.execute("UPDATE people SET preferred_platform = NULL WHERE id <> ?", (people[0],))
        assert await store.subscriptions.audience_counts(topic.id) == [
            (DeliveryMode.DAILY, None, 2), (DeliveryMode.DAILY, "slack", 1)]
