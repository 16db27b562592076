"""The audit log on a real SQLite file: entries come back newest first, with the value before and after, and the
action as the :class:`AuditAction` it was recorded with — or as the stored string when this version knows no such
action, so an unknown row never breaks reading the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.audit import AuditAction, AuditEntry
from storage.audit import SqliteAudit
from storage.database import Database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_recent_entries_come_back_newest_first(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "bot.db") as db:
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
    async with Database.open(tmp_path / "bot.db") as db:
        await SqliteAudit(db).record(None, AuditAction.MEETING_CANCEL_OCCURRENCE, "meeting:1", None, None, NOW)
        row = await db.fetch_one("SELECT action FROM audit_log")
        assert row is not None and row["action"] == "meeting.cancel-occurrence"


async def test_an_unknown_stored_action_reads_back_as_its_string(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "bot.db") as db:
        audit = SqliteAudit(db)
        await audit.record(None, AuditAction.TOPIC_CREATE, "climate", None, None, NOW)
        await db.insert("INSERT INTO audit_log (actor_id, action, subject, before, after, at)"
                        " VALUES (NULL, 'topic.renamed-in-a-later-version', 'climate', NULL, NULL,"
                        " (SELECT at FROM audit_log WHERE id = 1))", ())
        newest, oldest = await audit.recent()
        assert newest.action == "topic.renamed-in-a-later-version"
        assert not isinstance(newest.action, AuditAction)
        assert oldest.action is AuditAction.TOPIC_CREATE
