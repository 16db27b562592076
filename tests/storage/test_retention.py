"""Retention (``[privacy]``): what is older than its window goes, what is younger or still needed stays, an
announcement's report says the same afterwards, and the daily job runs once a day across restarts."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError

from app.settings import Settings
from bot.audit import AuditAction, AuditFilter
from bot.linking.service import LIFETIME, LinkLimits
from bot.retention import Retention, RetentionPolicy
from storage.audit import SqliteAudit, listing_query
from storage.database import Database, to_db_time
from storage.delivery_reports import SqliteDeliveryReports
from storage.retention import (
    CHUNK,
    FINISHED_ANNOUNCEMENTS,
    PRUNE_ANNOUNCED,
    PRUNE_AUDIT,
    PRUNE_LINK_ATTEMPTS,
    PRUNE_LINK_CODES,
    PRUNE_SEND_ATTEMPTS,
    PRUNE_UNANNOUNCED,
    SqliteRetention,
)
from storage.send_attempts import SqliteSendAttempts
from tests.postgres_server import storage_target
from tests.support import FixedClock

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=100)
YOUNG = NOW - timedelta(days=10)
POLICY = RetentionPolicy(deliveries=timedelta(days=90), audit=timedelta(days=365),
                         past_meetings=timedelta(days=365))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(storage_target(tmp_path, "bot.db")) as opened:
        await opened.execute("INSERT INTO people (id, display_name, created_at) VALUES (1, 'Ana', ?)",
                             (to_db_time(OLD),))
        await opened.execute("INSERT INTO topics (id, slug, title, visibility, policy, created_at)"
                             " VALUES (1, 'disinfo', 'Disinfo', 'members', 'open', ?)", (to_db_time(OLD),))
        yield opened


async def _announcement(db: Database, ended: datetime, state: str = "sent") -> int:
    return await db.insert(
        "INSERT INTO announcements (topic_id, author_id, text, state, created_at, sent_at)"
        " VALUES (1, 1, 'hello', ?, ?, ?)", (state, to_db_time(ended), to_db_time(ended)))


async def _delivery(db: Database, key: str, status: str, ended: datetime, announcement_id: int | None = None,
                    kind: str = "announcement") -> None:
    await db.insert(
        "INSERT INTO deliveries (dedupe_key, kind, person_id, payload, status, not_before, created_at, sent_at,"
        " announcement_id, reported_at) VALUES (?, ?, 1, '{}', ?, ?, ?, ?, ?, ?)",
        (key, kind, status, to_db_time(ended), to_db_time(ended),
         to_db_time(ended) if status not in ("pending", "sending") else None, announcement_id, to_db_time(ended)))


async def _keys(db: Database) -> set[str]:
    return {row["dedupe_key"] for row in await db.fetch_all("SELECT dedupe_key FROM deliveries")}


async def test_finished_rows_older_than_the_window_go_younger_and_pending_stay(db: Database) -> None:
    await _delivery(db, "old-sent", "sent", OLD, kind="reminder")
    await _delivery(db, "old-failed", "failed", OLD, kind="reminder")
    await _delivery(db, "old-pending", "pending", OLD, kind="reminder")
    await _delivery(db, "old-sending", "sending", OLD, kind="reminder")
    await _delivery(db, "young-sent", "sent", YOUNG, kind="reminder")
    old = await _announcement(db, OLD)
    await _delivery(db, "old-announcement", "sent", OLD, old)
    young = await _announcement(db, YOUNG)
    await _delivery(db, "young-announcement", "sent", OLD, young)  # its announcement ended recently
    busy = await _announcement(db, OLD)
    await _delivery(db, "busy-sent", "sent", OLD, busy)
    await _delivery(db, "busy-pending", "pending", OLD, busy)  # an unfinished fan-out keeps all its rows

    pruned = await Retention(SqliteRetention(db), FixedClock(NOW), POLICY).prune(NOW)

    assert pruned.deliveries == 3
    assert await _keys(db) == {"old-pending", "old-sending", "young-sent", "young-announcement", "busy-sent",
                               "busy-pending"}


async def test_an_announcements_report_numbers_are_unchanged_by_pruning(db: Database) -> None:
    old = await _announcement(db, OLD)
    for n, status in enumerate(["sent", "sent", "sent", "failed", "skipped"]):
        await _delivery(db, f"a{n}", status, OLD, old)
    reports = SqliteDeliveryReports(db)
    before = await reports.live_counts(old)
    assert sum(c.count for c in before) == 5

    assert (await SqliteRetention(db).prune_deliveries(NOW - timedelta(days=90))) == 5

    assert await _keys(db) == set()
    assert await reports.live_counts(old) == before
    # Any other delete still counts down (the marker of the prune is gone).
    await _delivery(db, "later", "sent", NOW, old)
    await db.execute("DELETE FROM deliveries WHERE dedupe_key = 'later'")
    assert await reports.live_counts(old) == before


async def test_audit_entries_and_past_meetings_older_than_their_windows_go(db: Database) -> None:
    audit = SqliteAudit(db)
    await audit.record(1, AuditAction.TOPIC_EDIT, "disinfo", None, None, NOW - timedelta(days=400))
    await audit.record(1, AuditAction.TOPIC_EDIT, "disinfo", None, None, NOW - timedelta(days=300))
    for meeting_id, start in ((1, NOW - timedelta(days=400)), (2, NOW - timedelta(days=30))):
        await db.execute(
            "INSERT INTO meetings (id, topic_id, author_id, title, start_local, zone, duration_minutes, remind,"
            " state, created_at) VALUES (?, 1, 1, 'Call', '2025-01-01T10:00', 'UTC', 60, '', 'active', ?)",
            (meeting_id, to_db_time(start - timedelta(days=7))))
        await db.execute("INSERT INTO meeting_occurrences (meeting_id, original_start, start, state)"
                         " VALUES (?, ?, ?, 'scheduled')", (meeting_id, to_db_time(start), to_db_time(start)))
        await db.execute("INSERT INTO meeting_rsvps (meeting_id, person_id, occurrence, answer, updated_at)"
                         " VALUES (?, 1, '', 'yes', ?)", (meeting_id, to_db_time(start)))

    pruned = await Retention(SqliteRetention(db), FixedClock(NOW), POLICY).prune(NOW)

    assert (pruned.audit_entries, pruned.meetings) == (1, 1)
    assert len(await audit.recent()) == 1
    for table in ("meetings", "meeting_occurrences", "meeting_rsvps"):
        rows = await db.fetch_all(f"SELECT meeting_id FROM {table}" if table != "meetings"
                                  else "SELECT id AS meeting_id FROM meetings")
        assert [row["meeting_id"] for row in rows] == [2]


async def test_zero_keeps_for_ever(db: Database) -> None:
    await _delivery(db, "ancient", "sent", NOW - timedelta(days=5000), kind="reminder")
    forever = RetentionPolicy.from_days(0, 0, 0)
    assert forever == RetentionPolicy(None, None, None)
    await Retention(SqliteRetention(db), FixedClock(NOW), forever).prune(NOW)
    assert await _keys(db) == {"ancient"}


async def test_the_job_runs_once_a_day_across_a_restart(tmp_path: Path) -> None:
    path = storage_target(tmp_path, "restart.db")
    clock = FixedClock(NOW)
    async with Database.open(path) as db:
        job = Retention(SqliteRetention(db), clock, POLICY)
        assert await job.run_due() is not None
        clock.advance(hours=23)
        assert await job.run_due() is None
    async with Database.open(path) as reopened:  # a restart: only the database remembers
        job = Retention(SqliteRetention(reopened), clock, POLICY)
        assert await job.run_due() is None
        clock.advance(hours=1)
        assert await job.run_due() is not None
        assert await job.run_due() is None


async def _plan(db: Database, sql: str, params: Sequence[object]) -> str:
    """The plan of ``sql``, one " | " between its lines. PostgreSQL plans by statistics, and a test's few rows make
    reading a table whole the cheapest plan; so it plans as for large tables (no sequential scans, no hash or
    merge joins: a chunk then costs one index look-up a row), which shows whether each read can be an index
    range."""
    if db.dialect == "sqlite":
        return " | ".join(str(row["detail"]) for row in await db.fetch_all("EXPLAIN QUERY PLAN " + sql, params))
    async with db.transaction():
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            await db.execute(f"SET LOCAL {setting} = off")
        rows = await db.fetch_all("EXPLAIN (COSTS OFF) " + sql, params)
    return " | ".join(str(row[0]).strip() for row in rows)


def _whole_reads(plan: str, dialect: str) -> list[str]:
    """The lines of ``plan`` that read a table or index whole: SQLite's SCANs; PostgreSQL's sequential scans and
    index scans with no Index Cond (the condition's line follows its scan's, before the next node's)."""
    lines = plan.split(" | ")
    if dialect == "sqlite":
        return [line for line in lines if "SCAN" in line]
    whole = []
    for n, line in enumerate(lines):
        if "Seq Scan" in line:
            whole.append(line)
        elif "Index Scan" in line or "Index Only Scan" in line:
            following = lines[n + 1:]
            ends = next((i for i, later in enumerate(following) if later.startswith("->")), len(following))
            if not any(later.startswith("Index Cond") for later in following[:ends]):
                whole.append(line)
    return whole


_PG_PRIMARY_KEY = {"INTEGER PRIMARY KEY (rowid>?)": "audit_log_pkey"}


@pytest.mark.parametrize(("only", "indexes"), [
    (AuditFilter(person_id=1), ("audit_log_actor", "audit_log_about")),
    (AuditFilter(topic_id=1, topic_slug="disinfo"), ("audit_log_subject", "announcements_topic", "meetings_topic",
                                                     "requests_topic", "resource_topics_topic")),
    (AuditFilter(since=NOW), ("INTEGER PRIMARY KEY (rowid>?)", "audit_log_at")),
])
async def test_audit_listing_reads_indexes_not_the_whole_log(db: Database, only: AuditFilter,
                                                             indexes: tuple[str, ...]) -> None:
    plan = await _plan(db, *listing_query(only, 0, 16, db.dialect))
    assert not _whole_reads(plan, db.dialect), plan
    for index in indexes:
        assert (index if db.dialect == "sqlite" else _PG_PRIMARY_KEY.get(index, index)) in plan, plan


class _Recording:
    """The database as the retention store uses it, writing down every statement it runs."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.statements: list[str] = []

    async def execute(self, sql: str, params: Any = ()) -> int:
        self.statements.append(sql)
        return await self.db.execute(sql, params)

    async def fetch_all(self, sql: str, params: Any = ()) -> Any:
        self.statements.append(sql)
        return await self.db.fetch_all(sql, params)

    def transaction(self) -> Any:
        return self.db.transaction()


async def test_every_statement_the_prune_runs_reads_an_index(db: Database) -> None:
    """The plans are those of the statements storage/retention.py ran (recorded as it ran them), not of a copy:
    each chunk is an index range, so a daily prune costs what it deletes, not the size of the tables."""
    old = await _announcement(db, OLD)
    await _delivery(db, "ann:old:person:1", "sent", OLD, old)
    await _delivery(db, "old-notice", "sent", OLD, kind="notice")
    await SqliteSendAttempts(db).first_attempt("old-notice", OLD)
    await SqliteAudit(db).record(1, AuditAction.TOPIC_EDIT, "disinfo", None, None, NOW - timedelta(days=400))
    recording = _Recording(db)
    no_meetings = RetentionPolicy(deliveries=timedelta(days=90), audit=timedelta(days=365), past_meetings=None)

    pruned = await Retention(SqliteRetention(cast(Database, recording)), FixedClock(NOW), no_meetings).prune(NOW)

    assert (pruned.deliveries, pruned.send_attempts, pruned.audit_entries) == (2, 1, 1)
    ran = set(recording.statements) - {"INSERT INTO retention_pruning (active) VALUES (1)",
                                       "DELETE FROM retention_pruning"}
    assert ran == {PRUNE_UNANNOUNCED, FINISHED_ANNOUNCEMENTS, PRUNE_ANNOUNCED, PRUNE_SEND_ATTEMPTS, PRUNE_AUDIT,
                   PRUNE_LINK_CODES, PRUNE_LINK_ATTEMPTS}
    expected = {PRUNE_UNANNOUNCED: "deliveries_announcement", FINISHED_ANNOUNCEMENTS: "announcements_due",
                PRUNE_ANNOUNCED: "deliveries_announcement", PRUNE_SEND_ATTEMPTS: "discord_send_attempts_first",
                PRUNE_AUDIT: "audit_log_at", PRUNE_LINK_ATTEMPTS: "link_attempts_at"}
    cutoff = to_db_time(NOW)
    params: dict[str, tuple[object, ...]] = {statement: (cutoff, CHUNK) for statement in ran}
    params[FINISHED_ANNOUNCEMENTS], params[PRUNE_ANNOUNCED] = (cutoff,), (old, CHUNK)
    for statement in ran - {PRUNE_LINK_CODES}:
        plan = await _plan(db, statement, params[statement])
        assert not _whole_reads(plan, db.dialect) and expected[statement] in plan, (statement, plan)
    # link_codes has no index on expires_at (migration 0019): its one scan is of a table holding at most one code
    # per identity, and nothing else is scanned.
    plan = await _plan(db, PRUNE_LINK_CODES, params[PRUNE_LINK_CODES])
    (whole,) = _whole_reads(plan, db.dialect)
    assert ("SCAN link_codes" if db.dialect == "sqlite" else "Seq Scan on link_codes") in whole, plan


async def test_send_attempt_records_go_with_the_delivery_window_but_an_open_delivery_s(db: Database) -> None:
    attempts = SqliteSendAttempts(db)
    await _delivery(db, "ann:1:person:1", "sent", OLD, kind="notice")
    await _delivery(db, "retrying:person:1", "pending", OLD, kind="notice")
    for key in ("ann:1:person:1", "retrying:person:1", "gone-long-ago:person:1"):
        await attempts.first_attempt(key, OLD)
    await attempts.first_attempt("recent:person:1", YOUNG)

    pruned = await Retention(SqliteRetention(db), FixedClock(NOW), POLICY).prune(NOW)

    assert pruned.send_attempts == 2
    left = {row["delivery_key"] for row in await db.fetch_all("SELECT delivery_key FROM discord_send_attempts")}
    assert left == {"retrying:person:1", "recent:person:1"}
    assert await attempts.first_attempt("retrying:person:1", NOW) == OLD, "a retry still reads back its first try"


async def _identity(db: Database, name: str) -> None:
    await db.execute("INSERT INTO identities (platform, external_id, person_id, display_name) VALUES ('test', ?, 1, ?)",
                     (name, name))


async def _code(db: Database, issuer: str, state: str, issued: datetime) -> None:
    claimed = state != "issued"
    await db.execute(
        "INSERT INTO link_codes (issuer_platform, issuer_external_id, code_hash, state, issued_at, expires_at,"
        " claimer_platform, claimer_external_id, proposed_at) VALUES ('test', ?, ?, ?, ?, ?, ?, ?, ?)",
        (issuer, f"hash-{issuer}", state, to_db_time(issued), to_db_time(issued + LIFETIME),
         "test" if claimed else None, "claimer" if claimed else None,
         to_db_time(issued + LIFETIME - timedelta(seconds=1)) if claimed else None))


async def test_link_codes_go_once_used_or_past_confirming_and_wrong_codes_past_every_limit(db: Database) -> None:
    """Without anyone issuing or typing a code, the daily prune deletes used codes at once, others once they can
    no longer be confirmed (a code typed just before it expired may be confirmed for one more lifetime), and
    wrong codes once they count towards no rate limit; it never touches a code that may still be confirmed."""
    for name in ("claimer", "used", "stale", "proposed-late", "fresh", *(f"typer-{n}" for n in range(3))):
        await _identity(db, name)
    await _code(db, "used", "used", NOW - timedelta(minutes=1))  # confirmed a minute ago: worthless now
    await _code(db, "stale", "issued", NOW - 2 * LIFETIME - timedelta(seconds=1))
    await _code(db, "proposed-late", "proposed", NOW - 2 * LIFETIME + timedelta(seconds=5))  # may still confirm
    await _code(db, "fresh", "issued", NOW - timedelta(minutes=1))
    window = max(LinkLimits().identity_window, LinkLimits().everyone_window)
    for n, at in enumerate((NOW - window - timedelta(seconds=1), NOW - window + timedelta(seconds=1),
                            NOW - timedelta(seconds=5))):
        await db.execute("INSERT INTO link_attempts (platform, external_id, at) VALUES ('test', ?, ?)",
                         (f"typer-{n}", to_db_time(at)))

    pruned = await Retention(SqliteRetention(db), FixedClock(NOW), RetentionPolicy(None, None, None)).prune(NOW)

    assert (pruned.link_codes, pruned.link_attempts) == (2, 1)
    codes = {row["issuer_external_id"] for row in await db.fetch_all("SELECT issuer_external_id FROM link_codes")}
    assert codes == {"proposed-late", "fresh"}
    typers = {row["external_id"] for row in await db.fetch_all("SELECT external_id FROM link_attempts")}
    assert typers == {"typer-1", "typer-2"}


async def test_the_daily_log_line_counts_link_rows(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("used", "claimer"):
        await _identity(db, name)
    await _code(db, "used", "used", NOW - timedelta(minutes=1))
    with caplog.at_level(logging.INFO, logger="bot.retention"):
        assert await Retention(SqliteRetention(db), FixedClock(NOW), POLICY).run_due() is not None
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.retention"]
    assert line.endswith("1 link codes, 0 wrong link code records"), line


def test_privacy_settings_refuse_negative_windows(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text("[privacy]\nkeep_audit_days = -1\n")
    with pytest.raises(ValidationError):
        Settings.load(config)
    config.write_text("[privacy]\nkeep_deliveries_days = 30\nkeep_past_meetings_days = 0\n")
    policy = Settings.load(config).privacy.policy()
    assert policy == RetentionPolicy(deliveries=timedelta(days=30), audit=timedelta(days=365), past_meetings=None)
