"""The audit log on a real SQLite file: entries come back newest first, with the value before and after, and the
action as the :class:`AuditAction` it was recorded with — or as the stored string when this version knows no such
action, so an unknown row never breaks reading the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.audit import AuditAction, AuditEntry
from storage.audit import SqliteAudit
from storage.database import Database
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_recent_entries_come_back_newest_first(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        audit = SqliteAudit(db)
        await audit.record(None, AuditAction.ROLE_GRANT, "person:1", None, "member", NOW)
        later = NOW + timedelta(seconds=1)
        await audit.record(None, AuditAction.TOPIC_EDIT, "topic:climate", "Climate", "Climate justice", later)
        assert await audit.recent(limit=1) == [
            AuditEntry(2, None, AuditAction.TOPIC_EDIT, "topic:climate", "Climate", "Climate justice", later),
        ]
        assert [e.action for e in await audit.recent()] == [AuditAction.TOPIC_EDIT, AuditAction.ROLE_GRANT]
        assert all(type(e.action) is AuditAction for e in await audit.recent())


async def test_actions_are_stored_as_the_strings_earlier_versions_wrote(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        await SqliteAudit(db).record(None, AuditAction.MEETING_CANCEL_OCCURRENCE, "meeting:1", None, None, NOW)
        row = await db.fetch_one("SELECT action FROM audit_log")
        assert row is not None and row["action"] == "meeting.cancel-occurrence"


async def test_an_unknown_stored_action_reads_back_as_its_string(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        audit = SqliteAudit(db)
        await audit.record(None, AuditAction.TOPIC_CREATE, "climate", None, None, NOW)
        await db.insert("INSERT INTO audit_log (actor_id, action, subject, before, after, at)"
                        " VALUES (NULL, 'topic.renamed-in-a-later-version', 'climate', NULL, NULL,"
                        " (SELECT at FROM audit_log WHERE id = 1))", ())
        newest, oldest = await audit.recent()
        assert newest.action == "topic.renamed-in-a-later-version"
        assert not isinstance(newest.action, AuditAction)
        assert oldest.action is AuditAction.TOPIC_CREATE


BEFORE_ABOUT = 20
"""The schema version before migration 0021 recorded whom each entry is about."""
SHAPES = [  # (action, subject, before, after, about): every shape of entry the features write
    (AuditAction.ROLE_GRANT, "person:{ana}", None, "coordinator disinfo", "ana"),
    (AuditAction.TOPIC_INVITE, "disinfo", None, '{"person": {ben}}', "ben"),
    (AuditAction.REQUEST_APPROVE, "request:{request}", "pending", "", "ben"),
    (AuditAction.RESOURCE_EDIT, "resource:1", '{"added_by": {ana}, "title": "A"}', '{"added_by": {ana}, "title": "B"}',
     "ana"),
    (AuditAction.RESOURCE_IMPORT, "upload.csv", None, '{"added": 3}', None),
    (AuditAction.TOPIC_EDIT, "disinfo", '{"title": "Disinfo"}', '{"title": "Fact-checking"}', None),
    (AuditAction.MEETING_CANCEL, "meeting:3", "active", "cancelled", None),
    (AuditAction.ROLE_GRANT, "person:{gone}", None, "member", None),  # about someone no longer there
]


async def test_whom_an_entry_is_about_is_the_same_when_written_and_when_migrated(tmp_path: Path) -> None:
    """Entries written before migration 0021 get the same ``about_id`` as :meth:`SqliteAudit.record` gives new
    ones, for every shape of entry: a person subject, an invitation's ``person``, a request's requester, a
    resource's ``added_by``, and none for the rest."""

    async def people(db: Database) -> dict[str, int]:
        stamp = "2026-11-23T12:00:00Z"
        ids = {name: await db.insert("INSERT INTO people (display_name, created_at) VALUES (?, ?)", (name, stamp))
               for name in ("ana", "ben", "gone")}
        topic = await db.insert("INSERT INTO topics (slug, title, visibility, policy, created_at)"
                                " VALUES ('disinfo', 'Disinfo', 'members', 'approval', ?)", (stamp,))
        ids["request"] = await db.insert(
            "INSERT INTO subscription_requests (person_id, topic_id, mode, status, created_at, expires_at)"
            " VALUES (?, ?, 'immediate', 'approved', ?, ?)", (ids["ben"], topic, stamp, stamp))
        await db.execute("DELETE FROM people WHERE id = ?", (ids["gone"],))
        return ids

    def filled(text: str | None, ids: dict[str, int]) -> str | None:
        for name, value in ids.items():
            text = None if text is None else text.replace(f"{{{name}}}", str(value))
        return text

    path = tmp_path / "old.db"
    async with Database.open(path, target_version=BEFORE_ABOUT) as old:
        ids = await people(old)
        for action, subject, before, after, _about in SHAPES:
            await old.insert("INSERT INTO audit_log (actor_id, action, subject, before, after, at)"
                             " VALUES (NULL, ?, ?, ?, ?, '2026-11-23T12:00:00Z')",
                             (action.value, filled(subject, ids), filled(before, ids), filled(after, ids)))
    async with Database.open(path) as migrated:
        backfilled = [row["about_id"] for row in await migrated.fetch_all("SELECT about_id FROM audit_log ORDER BY id")]
    async with Database.open(storage_target(tmp_path, "new.db")) as new:
        ids = await people(new)
        for action, subject, before, after, _about in SHAPES:
            await SqliteAudit(new).record(None, action, filled(subject, ids) or "", filled(before, ids),
                                          filled(after, ids), NOW)
        recorded = [row["about_id"] for row in await new.fetch_all("SELECT about_id FROM audit_log ORDER BY id")]
    expected = [None if about is None else ids[about] for *_rest, about in SHAPES]
    assert backfilled == recorded == expected
