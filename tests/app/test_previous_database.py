"""A database written by the previous main (797c3b4) still starts and delivers.

``data/previous_main.db`` was written by that commit's own code (see ``data/README.md``) with a fixed clock at
2026-11-23 12:00 UTC: the demo coalition, a test-platform topic channel, subscriptions, RSVPs, announcement #1
sent, announcement #2 confirmed but still queued in the outbox (the worker never ran), and announcement #3
scheduled for 14:00 UTC. The current app must open it, migrate it, keep its state and send each queued or due
message exactly once.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.model import Role
from storage.database import available_migrations
from tests.support import FixedClock, Harness, RecordingAdapter, console_settings, harness

# An old SQLite file, upgraded by SQLite's migrations (PostgreSQL databases start at the baseline).
pytestmark = pytest.mark.sqlite_only

FIXTURE = Path(__file__).parent / "data" / "previous_main.db"
FIXTURE_SCHEMA_VERSION = 9  # the last migration shipped with 797c3b4
FIRST, SECOND, THIRD = ("First news: sent before the upgrade", "Second news: queued before the upgrade",
                        "Third news: scheduled before the upgrade")
MEMBER = {"platform": "test", "platform_role": Role.MEMBER}
TIMEOUT = 30


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


STATE = {
    "topics": "SELECT id, slug, title, visibility, policy, archived FROM topics ORDER BY id",
    "subscriptions": "SELECT person_id, topic_id, mode, created_at FROM subscriptions ORDER BY person_id, topic_id",
    "rsvps": "SELECT meeting_id, person_id, occurrence, answer, updated_at FROM meeting_rsvps "
             "ORDER BY meeting_id, person_id, occurrence",
    "identities": "SELECT platform, external_id, person_id FROM identities ORDER BY platform, external_id",
    "channel_bindings": "SELECT purpose, topic_id, platform, channel_id FROM channel_bindings ORDER BY id",
    "meetings": "SELECT id, title, start_local, zone, rrule FROM meetings ORDER BY id",
    "resources": "SELECT COUNT(*) FROM resources",
    "announcement_1": "SELECT id, text, sent_at FROM announcements WHERE id = 1",
    "sent_before": "SELECT id, dedupe_key, status, sent_at, attempts FROM deliveries WHERE announcement_id = 1 "
                   "ORDER BY id",
}


def _state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {name: _query(db, sql) for name, sql in STATE.items()}


def _received(adapter: RecordingAdapter) -> Counter[tuple[str, str, str]]:
    """(kind, target, which announcement) for every send to the test platform."""
    def which(text: str) -> str:
        return next((label for label in (FIRST, SECOND, THIRD) if label in text), text[:60])
    return Counter((s.kind, s.target, which(s.message.plain_text())) for s in adapter.sent)


async def _run_due(h: Harness) -> None:
    async with asyncio.timeout(TIMEOUT):
        await h.app.run_due()


def test_the_fixture_is_what_the_previous_main_left() -> None:
    """Guards the fixture itself: replacing it with a file lacking queued work would make the test below vacuous."""
    assert _query(FIXTURE, "PRAGMA user_version") == [(FIXTURE_SCHEMA_VERSION,)]
    assert _query(FIXTURE, "SELECT status, COUNT(*) FROM deliveries GROUP BY status ORDER BY status") == \
        [("pending", 5), ("sent", 5)]
    assert _query(FIXTURE, "SELECT id, state, send_at FROM announcements ORDER BY id") == [
        (1, "sent", None), (2, "sending", None), (3, "scheduled", "2026-11-23T14:00:00.000000Z")]
    assert not FIXTURE.with_name(FIXTURE.name + "-wal").exists()


async def test_previous_database_starts_migrated_and_delivers_once(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    db = Path(settings.storage.path)
    shutil.copyfile(FIXTURE, db)
    before = _state(db)
    # (key, platform) of each queued row: a channel's platform, or the recipient's (one account each here).
    pending = _query(db, "SELECT d.dedupe_key, COALESCE(d.platform, i.platform) FROM deliveries d "
                         "LEFT JOIN identities i ON i.person_id = d.person_id WHERE d.status = 'pending' ORDER BY d.id")
    assert len(pending) == 5

    clock = FixedClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # the clock the fixture was written with
    async with harness(settings, clock) as h:
        assert h.adapter.sent == [], "nothing is sent before the app is asked to"
        assert h.console_output() == "", "a database with data gets no demo coalition and no greeting"

        # 12:00 — the rows the previous main queued go out; the announcement scheduled for 14:00 does not.
        await _run_due(h)
        assert _received(h.adapter) == Counter({
            ("channel", "wg-disinformation", SECOND): 1, ("dm", "alice", SECOND): 1})
        assert sorted(s.key for s in h.adapter.sent) == sorted(key for key, platform in pending if platform == "test")
        out = h.console_output()
        assert out.count(SECOND) == 2  # demo-coordinator and demo-member, on the console
        assert "Delivery report for announcement #2" in out
        assert FIRST not in out and THIRD not in out

        # 14:00 — the scheduled announcement is due, and goes to the same audience.
        clock.current = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
        await _run_due(h)
        await _run_due(h)
        clock.advance(hours=1)
        await _run_due(h)
        assert _received(h.adapter) == Counter({
            ("channel", "wg-disinformation", SECOND): 1, ("dm", "alice", SECOND): 1,
            ("channel", "wg-disinformation", THIRD): 1, ("dm", "alice", THIRD): 1}), "each exactly once"
        assert len({s.key for s in h.adapter.sent}) == len(h.adapter.sent) == 4
        out = h.console_output()
        assert out.count(SECOND) == 2 and out.count(THIRD) == 2 and FIRST not in out

        # What people set up before the upgrade still answers through the commands.
        async with asyncio.timeout(TIMEOUT):
            alice = await h.text("alice", "mysubs", **MEMBER)
            bob = await h.text("bob", "mysubs", **MEMBER)
            attendees = await h.text("demo-coordinator", "meeting attendees 1")
        assert "disinformation" in alice
        assert "research" in bob
        assert "demo-member" in attendees and "bob" in attendees

    # Migrated to the current schema, with every migration the current code ships.
    assert _query(db, "PRAGMA user_version") == [(len(available_migrations()),)]
    assert len(available_migrations()) >= FIXTURE_SCHEMA_VERSION
    # The state the previous main wrote is intact: nothing reloaded, lost or rewritten.
    assert _state(db) == before
    # Every row that was queued is sent, once; the announcements are finished.
    placeholders = ", ".join("?" for _ in pending)
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        queued_rows = conn.execute(f"SELECT dedupe_key, status, attempts FROM deliveries "
                                   f"WHERE dedupe_key IN ({placeholders}) ORDER BY id",
                                   [key for key, *_ in pending]).fetchall()
    assert [tuple(row) for row in queued_rows] == [(key, "sent", 1) for key, *_ in pending]
    assert _query(db, "SELECT id, state FROM announcements ORDER BY id") == [(1, "sent"), (2, "sent"), (3, "sent")]
    assert _query(db, "SELECT COUNT(*) FROM deliveries WHERE status NOT IN ('sent')") == [(0,)]
