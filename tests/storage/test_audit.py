"""The audit log on a real SQLite file: entries come back newest first, with the value before and after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.model import AuditEntry
from storage.audit import SqliteAudit
from storage.database import Database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_recent_entries_come_back_newest_first(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "bot.db") as db:
        audit = SqliteAudit(db)
        await audit.record(None, "role.grant", "person:1", None, "member", NOW)
        later = NOW + timedelta(seconds=1)
        await audit.record(None, "topic.edit", "topic:climate", "Climate", "Climate justice", later)
        assert await audit.recent(limit=1) == [
            AuditEntry(2, None, "topic.edit", "topic:climate", "Climate", "Climate justice", later),
        ]
        assert [e.action for e in await audit.recent()] == ["topic.edit", "role.grant"]
