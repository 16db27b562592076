"""Nothing missed silently (issue 16): missed rows reach the topic's coordinators (else the admins) as one
summary per topic, in each reader's zone, once — across restarts too."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot.delivery.missed as missed_module
from app.settings import Settings
from bot.delivery.missed import MissedReporter
from bot.delivery.notify import Notifier
from bot.delivery.wakeup import Wakeup
from bot.meetings.payloads import ReminderPayload
from bot.model import Identity, Role
from bot.topics.model import Policy, Visibility
from storage.database import Database
from storage.store import SqliteStore
from tests.postgres_server import storage_target
from tests.support import FixedClock, Harness, console_settings, harness

BEFORE = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
AFTER_DOWNTIME = datetime(2026, 11, 24, 12, 45, tzinfo=UTC)


async def _summaries(h: Harness) -> list[tuple[str, str | None]]:
    """(dedupe key, status) of every summary notice queued so far."""
    rows = await h.app.db.fetch_all(
        "SELECT dedupe_key, status FROM deliveries WHERE dedupe_key LIKE 'missed:%' ORDER BY id")
    return [(row["dedupe_key"], row["status"]) for row in rows]


async def _miss_meetings(settings: Settings, clock: FixedClock, *commands: tuple[str, str]) -> None:
    """Create meetings, then let the bot be down until after they started."""
    clock.current = BEFORE
    async with harness(settings, clock) as h:
        await h.say("demo-coordinator", "settings timezone Europe/Brussels")
        for user, command in commands:
            assert "is scheduled" in await h.text(user, command)
    clock.current = AFTER_DOWNTIME


async def test_a_reminder_missed_during_downtime_is_summarised_once_to_the_coordinators(tmp_path: Path) -> None:
    settings, clock = console_settings(tmp_path), FixedClock()
    await _miss_meetings(settings, clock,
                         ("demo-coordinator", "meeting create disinformation Soon 2026-11-24 12:30 remind:1h zone:UTC"),
                         ("demo-coordinator", "meeting create disinformation Sooner 2026-11-24 12:15 remind:2h,1h "
                                              "zone:UTC"))
    async with harness(settings, clock) as h:
        await h.app.run_due()
        out = h.console_output()
        # One summary for the topic, in the coordinator's zone, listing each missed reminder.
        assert out.count("== Missed deliveries in “disinformation” ==") == 1
        assert "[DM → demo-coordinator] == Missed deliveries in “disinformation” ==" in out
        assert "3 messages could not be sent in time and will not be sent:" in out
        assert "November 24, 2026, 1:30\u202fPM (Europe/Brussels): the 1 hour reminder of “Soon” (meeting #2)" in out
        assert "November 24, 2026, 1:15\u202fPM (Europe/Brussels): the 2 hours reminder of “Sooner” (meeting #3)" in out
        assert "November 24, 2026, 1:15\u202fPM (Europe/Brussels): the 1 hour reminder of “Sooner” (meeting #3)" in out
        assert "the meeting had already started" in out  # why
        assert "delivery status" in out and "[Meeting #2] /meeting show 2" in out
        assert "[DM → demo-admin] == Missed" not in out  # the topic has a coordinator
        assert "[Delivery status]" not in out  # that button is for admins
        await h.app.run_due()
        assert h.console_output().count("== Missed deliveries") == 1
    async with harness(settings, clock) as h:  # a restart reports nothing again
        await h.app.run_due()
        assert "Missed deliveries" not in h.console_output()
        assert [status for _key, status in await _summaries(h)] == ["sent"]
        unreported = await h.app.db.fetch_all(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'missed' AND reported_at IS NULL")
        assert unreported[0][0] == 0


async def test_a_topic_without_coordinators_reports_to_the_admins(tmp_path: Path) -> None:
    settings, clock = console_settings(tmp_path), FixedClock()
    await _miss_meetings(settings, clock,
                         ("demo-admin", "meeting create elections Briefing 2026-11-24 12:30 remind:1h"))
    async with harness(settings, clock) as h:
        await h.app.run_due()
        out = h.console_output()
        assert "[DM → demo-admin] == Missed deliveries in “elections” ==" in out
        assert "November 24, 2026, 12:30\u202fPM (UTC): the 1 hour reminder of “Briefing” (meeting #2)" in out
        assert "[Delivery status] /delivery status" in out
        assert "[DM → demo-coordinator] == Missed" not in out


async def test_a_private_topics_summary_reaches_only_its_coordinator(tmp_path: Path) -> None:
    settings, clock = console_settings(tmp_path), FixedClock()
    clock.current = BEFORE
    async with harness(settings, clock) as h:
        await h.say("demo-admin", "role grant demo-coordinator coordinator incident-response")
    await _miss_meetings(settings, clock,
                         ("demo-coordinator", "meeting create incident-response Drill 2026-11-24 12:30 remind:1h"))
    async with harness(settings, clock) as h:
        await h.app.run_due()
        out = h.console_output()
        assert "[DM → demo-coordinator] == Missed deliveries in “incident-response” ==" in out
        assert out.count("Missed deliveries") == 1  # nobody else, not even the subscribed admin
        assert "the 1 hour reminder of “Drill” (meeting #2)" in out


async def test_a_summary_queued_before_a_crash_is_sent_after_the_restart_not_twice(tmp_path: Path) -> None:
    settings, clock = console_settings(tmp_path), FixedClock()
    await _miss_meetings(settings, clock, ("demo-coordinator", "meeting create disinformation Soon 2026-11-24 12:30 "
                                                               "remind:1h"))
    async with harness(settings, clock) as h:
        await h.app.services.meetings.run_due()  # the missed row is recorded …
        assert await h.app.services.missed.run_due() == 1  # … and its summary queued, then the bot stops
        assert await h.app.services.missed.run_due() == 0
        assert "Missed deliveries" not in h.console_output()
    async with harness(settings, clock) as h:
        await h.app.run_due()
        assert h.console_output().count("== Missed deliveries in “disinformation” ==") == 1
        assert [status for _key, status in await _summaries(h)] == ["sent"]


async def _insert_missed(h: Harness, key: str, kind: str, *, topic_id: int | None, person: int,
                         reported: bool = False, announcement_id: int | None = None) -> None:
    stamp = "2026-11-23T12:00:00.000000Z"
    await h.app.db.execute(
        "INSERT INTO deliveries (dedupe_key, kind, person_id, topic_id, payload, status, reason, not_before,"
        " created_at, sent_at, announcement_id, reported_at)"
        " VALUES (?, ?, ?, ?, '{}', 'missed', 'the next digest was due', ?, ?, ?, ?, ?)",
        (key, kind, person, topic_id, stamp, stamp, stamp, announcement_id, stamp if reported else None))


async def test_digests_go_to_the_admins_and_rows_reported_before_are_not_reported_again(h: Harness) -> None:
    member = (await h.app.store.people.find_by_name("demo-member"))[0].id
    await _insert_missed(h, "digest:a", "digest", topic_id=None, person=member)
    await _insert_missed(h, "digest:b", "digest", topic_id=None, person=member)
    await _insert_missed(h, "old:reminder", "reminder", topic_id=1, person=member, reported=True)
    await h.app.run_due()
    out = h.console_output()
    assert "[DM → demo-admin] == Missed deliveries ==" in out
    assert "• 2 digests — the next digest was due" in out
    assert "Missed deliveries in" not in out  # the row the migration marked reported stays quiet
    assert [status for _key, status in await _summaries(h)] == ["sent"]  # one summary, to the one admin known


async def test_a_backlog_nobody_can_be_told_about_never_hides_later_missed_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of a topic with no coordinator, while no admin has talked to the bot yet, wait; a topic with a
    coordinator whose rows come after a full page of those is still told."""
    monkeypatch.setattr(missed_module, "BATCH", 3)
    clock = FixedClock()
    now = clock.now()
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        nobody = await store.topics.create("quiet", "Quiet", "", Visibility.PUBLIC, Policy.OPEN, now)
        told = await store.topics.create("told", "Told", "", Visibility.PUBLIC, Policy.OPEN, now)
        coordinator = (await store.people.ensure_identity(Identity("console", "c"), "C", now)).person_id
        await store.grants.add(coordinator, Role.COORDINATOR, told.id, None, now)
        for n, topic in enumerate([nobody] * 7 + [told]):
            payload = ReminderPayload(meeting_id=100 + n, original_start=now, start=now, offset_minutes=60)
            await store.meetings.record_skipped_delivery(f"k{n}", coordinator, topic.id, payload, "missed", now)
        wake = Wakeup()
        reporter = MissedReporter(store, clock, Notifier(store, clock, wake), wake, admins=())
        assert await reporter.run_due() == 1
        notices = await db.fetch_all("SELECT person_id, topic_id FROM deliveries WHERE kind = 'notice'")
        assert [(row["person_id"], row["topic_id"]) for row in notices] == [(coordinator, told.id)]
        waiting = await store.delivery_reports.unreported_missed(100)
        assert {row.topic_id for row in waiting} == {nobody.id} and len(waiting) == 7
