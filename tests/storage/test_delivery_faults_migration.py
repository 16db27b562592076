"""Migration 0012 rebuilds the outbox for exactly-once under faults without losing or changing a row: a row a
crash left ``sending`` becomes *uncertain* (read back before posting again), a reminder the previous version
recorded as ``skipped``/missed becomes ``missed`` (already reported: no flood of old news to coordinators), and
a row the previous version gave up on after its attempts may be retried by a coordinator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery.model import DeliveryStatus
from bot.i18n import _, encode_text
from storage.database import Database, to_db_time
from storage.store import SqliteStore
from tests.support import FixedClock

# SQLite's own migration from an older schema; PostgreSQL starts at its baseline, after it.
pytestmark = pytest.mark.sqlite_only

BEFORE_FAULTS = 11
# exactly what the previous worker stored: a translatable text, as JSON
GAVE_UP = encode_text(_("gave up after {n} attempts: {reason}", n=8,
                        reason=_("Slack: temporary error ({error}).", error="http 503")))
COLUMNS = ("id", "dedupe_key", "kind", "person_id", "platform", "channel_id", "topic_id", "payload", "attempts",
           "not_before", "claimed_at", "sent_at", "sent_platform", "sent_channel_id", "sent_message_ids",
           "created_at", "announcement_id")


async def test_rows_of_the_previous_outbox_survive_with_their_meaning(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    now = to_db_time(FixedClock().now())
    later = to_db_time(FixedClock().now() + timedelta(hours=1))
    rows = [  # (key, kind, status, reason)
        ("a:1", "announcement", "sending", None),
        ("a:2", "announcement", "failed", GAVE_UP),
        ("a:6", "announcement", "failed", "gave up after 3 attempts: written as plain text"),
        ("a:3", "announcement", "failed", "Slack: this person is no longer in the workspace."),
        ("meet:1:2:3:60:missed", "reminder", "skipped", "missed: the bot was offline"),
        ("meet:1:2:3:60:person:1", "reminder", "skipped", "the recipient may no longer see this topic"),
        ("a:4", "announcement", "sent", None),
        ("a:5", "announcement", "pending", None),
    ]
    async with Database.open(path, target_version=BEFORE_FAULTS) as db:
        for key, kind, status, reason in rows:
            await db.execute(
                "INSERT INTO deliveries (dedupe_key, kind, channel_id, platform, payload, status, attempts, reason,"
                " not_before, created_at, sent_at) VALUES (?, ?, 'C1', 'slack', '{}', ?, 2, ?, ?, ?, ?)",
                (key, kind, status, reason, now, now, later if status in ("skipped", "failed", "sent") else None))
        before = {r["dedupe_key"]: r for r in await db.fetch_all("SELECT * FROM deliveries")}
    async with Database.open(path) as db:
        store = SqliteStore(db)
        after = {r["dedupe_key"]: r for r in await db.fetch_all("SELECT * FROM deliveries")}
        assert after.keys() == before.keys()
        for key, old in before.items():
            assert tuple(after[key][c] for c in COLUMNS) == tuple(old[c] for c in COLUMNS)
            assert after[key]["reason"] == old["reason"]
        status = {key: row["status"] for key, row in after.items()}
        assert status == {"a:1": "sending", "a:2": "failed", "a:3": "failed", "meet:1:2:3:60:missed": "missed",
                          "meet:1:2:3:60:person:1": "skipped", "a:4": "sent", "a:5": "pending", "a:6": "failed"}
        assert {k for k, r in after.items() if r["uncertain"]} == {"a:1"}
        assert {k for k, r in after.items() if r["retryable"]} == {"a:2", "a:6"}
        assert {k for k, r in after.items() if r["reported_at"]} == {"meet:1:2:3:60:missed"}
        missed = await store.outbox.get(after["meet:1:2:3:60:missed"]["id"])
        assert missed is not None and missed.status is DeliveryStatus.MISSED
        in_flight = await store.outbox.get(after["a:1"]["id"])
        assert in_flight is not None and in_flight.uncertain and not in_flight.retryable
