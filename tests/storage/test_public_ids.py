"""Migration 0015 names every announcement and meeting by an opaque public id: rows of an older database get
distinct random ones and keep everything else, new rows get one when created, and the store finds a row by it.
The published-announcements query is served by the migration's index (no sort of every announcement)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from bot.announcements.model import AnnouncementState
from bot.meetings.model import NewMeeting
from bot.model import Identity
from bot.topics.model import Policy, Visibility
from storage.announcements import published_query
from storage.database import Database, to_db_time
from storage.store import SqliteStore
from tests.postgres_server import storage_target
from tests.support import FixedClock

BEFORE_PUBLIC_IDS = 14
HEX16 = re.compile("[0-9a-f]{16}")


async def test_rows_of_a_previous_database_get_distinct_public_ids(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    now = to_db_time(FixedClock().now())
    async with Database.open(path, target_version=BEFORE_PUBLIC_IDS) as db:
        topic = await db.insert("INSERT INTO topics (slug, title, description, visibility, policy, created_at)"
                                " VALUES ('news', 'News', '', 'public', 'open', ?)", (now,))
        person = await db.insert("INSERT INTO people (display_name, created_at) VALUES ('ana', ?)", (now,))
        for text in ("one", "two", "three"):
            await db.insert("INSERT INTO announcements (topic_id, author_id, text, state, created_at)"
                            " VALUES (?, ?, ?, 'sent', ?)", (topic, person, text, now))
        for title in ("Weekly", "Monthly"):
            await db.insert("INSERT INTO meetings (topic_id, author_id, title, start_local, zone, duration_minutes,"
                            " remind, state, created_at)"
                            " VALUES (?, ?, ?, '2026-12-01T10:00', 'UTC', 60, '', 'active', ?)",
                            (topic, person, title, now))
        before = [dict(row) for row in await db.fetch_all("SELECT * FROM announcements ORDER BY id")]
    async with Database.open(path) as db:
        rows = [dict(row) for row in await db.fetch_all("SELECT * FROM announcements ORDER BY id")]
        assert [{k: v for k, v in row.items() if k != "public_id"} for row in rows] == before
        ids = [row["public_id"] for row in rows] + [row["public_id"] for row in await db.fetch_all(
            "SELECT public_id FROM meetings")]
        assert len(set(ids)) == len(ids) == 5 and all(HEX16.fullmatch(i) for i in ids)
        store = SqliteStore(db)
        found = await store.announcements.by_public_id(rows[1]["public_id"])
        assert found is not None and found.id == rows[1]["id"] and found.text == "two"


async def test_new_rows_get_a_public_id_and_the_store_finds_them_by_it(tmp_path: Path) -> None:
    clock = FixedClock()
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        topic = await store.topics.create("news", "News", "", Visibility.PUBLIC, Policy.OPEN, clock.now())
        author = (await store.people.ensure_identity(Identity("console", "ana"), "ana", clock.now())).person_id
        first = await store.announcements.create(topic.id, author, "hello", None, clock.now())
        second = await store.announcements.create(topic.id, author, "again", None, clock.now())
        assert HEX16.fullmatch(first.public_id) and first.public_id != second.public_id
        assert await store.announcements.by_public_id(second.public_id) == second
        assert await store.announcements.by_public_id("0123456789abcdef") is None
        meeting = await store.meetings.create(NewMeeting(
            topic_id=topic.id, author_id=author, title="Call", start_local=datetime(2026, 12, 1, 10),  # noqa: DTZ001
            zone="UTC", duration_minutes=30, rrule=None, link=None, remind_minutes=()), clock.now())
        assert HEX16.fullmatch(meeting.public_id) and meeting.public_id not in (first.public_id, second.public_id)
        assert await store.meetings.by_public_id(meeting.public_id) == meeting
        assert await store.meetings.by_public_id(first.public_id) is None


async def test_the_archive_query_walks_an_index_instead_of_sorting(tmp_path: Path) -> None:
    clock = FixedClock()
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        topics = [await store.topics.create(slug, slug, "", Visibility.PUBLIC, Policy.OPEN, clock.now())
                  for slug in ("news", "events", "hidden")]
        author = (await store.people.ensure_identity(Identity("console", "ana"), "ana", clock.now())).person_id
        made = []
        for n in range(300):
            topic = topics[n % 3]
            announcement = await store.announcements.create(topic.id, author, f"a{n}", None, clock.now())
            if n % 5:
                assert await store.announcements.transition(announcement.id, AnnouncementState.SENDING,
                                                            [AnnouncementState.DRAFT], clock.now())
                made.append((topic.id, announcement.id))
            clock.advance(minutes=1)
        await db.execute("ANALYZE")  # with statistics as a long-running database has them
        for chosen in ([topics[0].id], [topics[0].id, topics[1].id]):
            if db.dialect == "sqlite":  # the plan is SQLite's; PostgreSQL answers the same rows, checked below
                plan = " | ".join(str(row["detail"]) for row in await db.fetch_all(
                    f"EXPLAIN QUERY PLAN {published_query(len(chosen))}", (*chosen, 10, 0)))
                assert "USING INDEX announcements_" in plan and "TEMP B-TREE" not in plan, plan
            newest = [a for t, a in reversed(made) if t in chosen]
            assert [a.id for a in await store.announcements.published(chosen, limit=10)] == newest[:10]
            assert [a.id for a in await store.announcements.published(chosen, limit=10, offset=10)] == newest[10:20]
