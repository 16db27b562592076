"""``announce confirm`` to thousands, end to end (issue 23, items 3 and 4): the subscribers' rows in chunks of
a few short transactions, a crash between chunks resumed, a cancel stopping the chunks, and how long the
fan-out will take shown in the preview and against the progress in the report."""

from __future__ import annotations

import gettext
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from app.settings import Settings
from bot.announcements.model import AnnouncementState
from bot.announcements.preview import time_to_send
from bot.announcements.store import Audience, FanOutChunk
from bot.i18n import Translator, duration
from storage.database import to_db_time
from tests.postgres_server import storage_settings
from tests.support import FixedClock, Harness, harness

AUTHOR = "demo-coordinator"


@pytest.fixture
async def slow(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    """The demo coalition with the console paced at 2 messages a second (the test platform is unpaced)."""
    settings = Settings(storage=storage_settings(tmp_path, "bot.db"), console={"enabled": True},
                        coalition={"admins": ["console:demo-admin"]}, delivery={"console_per_second": 2.0})
    async with harness(settings, clock) as running:
        yield running


async def _subscribe(h: Harness, platform: str, n: int, mode: str = "immediate", topic: str = "disinformation",
                     first: int = 100_000) -> None:
    """``n`` people with one identity each on ``platform``, subscribed to ``topic`` (setup, straight in SQL)."""
    row = await h.app.db.fetch_one("SELECT id FROM topics WHERE slug = ?", (topic,))
    assert row is not None
    stamp = to_db_time(h.clock.now())
    ids = range(first, first + n)
    await h.app.db.execute_many("INSERT INTO people (id, display_name, created_at) VALUES (?, ?, ?)",
                                [(pid, f"p{pid}", stamp) for pid in ids])
    await h.app.db.execute_many(
        "INSERT INTO identities (platform, external_id, person_id, display_name) VALUES (?, ?, ?, ?)",
        [(platform, f"u{pid}", pid, f"p{pid}") for pid in ids])
    await h.app.db.execute_many("INSERT INTO subscriptions (person_id, topic_id, mode, created_at) VALUES (?, ?, ?, ?)",
                                [(pid, row[0], mode, stamp) for pid in ids])


async def _count(h: Harness, sql: str, *params: object) -> int:
    row = await h.app.db.fetch_one(sql, params)
    assert row is not None
    return int(row[0])


async def _state(h: Harness, announcement_id: int = 1) -> AnnouncementState:
    announcement = await h.app.store.announcements.get(announcement_id)
    assert announcement is not None
    return announcement.state


def _connection(h: Harness) -> aiosqlite.Connection:
    found = [value for value in vars(h.app.db).values() if isinstance(value, aiosqlite.Connection)]
    assert len(found) == 1
    return found[0]


@asynccontextmanager
async def _statements(connection: aiosqlite.Connection) -> AsyncIterator[list[str]]:
    """Every SQL statement SQLite runs on ``connection`` meanwhile. A trigger's run is reported again with its
    outer statement's text (parameters expanded): such repeats in a row are one statement."""
    sent: list[str] = []

    def trace(sql: str) -> None:
        if not sql.startswith("--") and (not sent or sent[-1] != sql):
            sent.append(sql)

    await connection.set_trace_callback(trace)
    try:
        yield sent
    finally:
        await connection.set_trace_callback(None)


@pytest.mark.sqlite_only  # counts the statements through SQLite's trace callback
async def test_confirm_to_ten_thousand_costs_a_few_statements_per_chunk(h: Harness) -> None:
    await _subscribe(h, "test", 10_000)
    await h.say(AUTHOR, "announce new disinformation Hello all")
    async with _statements(_connection(h)) as sent:
        answer = await h.text(AUTHOR, "announce confirm 1")
    assert "on its way to 10001 targets" in answer  # 10,000 plus demo-coordinator's own subscription
    chunks = 10_001 // 5000 + 1
    # From the confirm's own transaction on (looking the caller up is another matter: tests/test_round_trips.py).
    start = next(i for i, sql in enumerate(sent) if sql.startswith("UPDATE announcements SET state = 'sending'"))
    confirm = sent[max(i for i in range(start) if sent[i] == "BEGIN IMMEDIATE"):]
    inserts = [sql for sql in confirm if sql.startswith("INSERT INTO deliveries (dedupe_key, kind, person_id, topic_id,"
                                                        " platform, payload, status, not_before, created_at,"
                                                        " announcement_id) SELECT")]
    assert len(inserts) == chunks  # one set-based INSERT per chunk, never one per row
    # The confirm's, one short one per chunk, and the settle once the last chunk has committed.
    assert confirm.count("BEGIN IMMEDIATE") == 2 + chunks
    assert len(confirm) <= 20 + 6 * chunks, confirm  # 33 when written
    assert await _count(h, "SELECT COUNT(*) FROM deliveries WHERE kind = 'announcement'") == 10_001
    assert await h.app.store.announcements.unfinished_fan_outs() == []


async def test_a_crash_between_chunks_resumes_and_nothing_is_sent_twice(h: Harness,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    await _subscribe(h, "test", 12_000)
    await _subscribe(h, "test", 50, mode="daily", first=200_000)
    await h.say(AUTHOR, "announce new disinformation Hello all")
    chunk = h.app.store.announcements.fan_out_chunk
    calls = 0

    async def crashing(audience: Audience, now: Any, limit: int) -> FanOutChunk:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process died here")
        return await chunk(audience, now, limit)

    monkeypatch.setattr(h.app.store.announcements, "fan_out_chunk", crashing)
    assert "Something went wrong" in await h.text(AUTHOR, "announce confirm 1")
    monkeypatch.undo()
    written = await _count(h, "SELECT COUNT(*) FROM deliveries WHERE kind = 'announcement'")
    assert written == 5000  # the first chunk committed, the second never did
    # Every copy written so far has gone out: the announcement is still not sent, its fan-out is incomplete.
    await h.app.db.execute("UPDATE deliveries SET status = 'sent', sent_at = ? WHERE announcement_id = 1",
                           (to_db_time(h.clock.now()),))
    await h.app.services.announcements.settle(1)
    assert await _state(h) is AnnouncementState.SENDING
    # The housekeeping backstop (after a restart: the same) resumes from the stored cursor.
    await h.app.services.announcements.settle_sending()
    assert await _count(h, "SELECT COUNT(*) FROM deliveries WHERE kind = 'announcement'") == 12_001
    assert await _count(h, "SELECT COUNT(*) FROM digest_items WHERE announcement_id = 1") == 50
    assert await _count(h, "SELECT COUNT(DISTINCT person_id) FROM deliveries WHERE kind = 'announcement'") == 12_001
    assert await h.app.store.announcements.unfinished_fan_outs() == []
    await h.app.db.execute("UPDATE deliveries SET status = 'sent', sent_at = ? WHERE announcement_id = 1",
                           (to_db_time(h.clock.now()),))
    await h.app.services.announcements.settle(1)
    assert await _state(h) is AnnouncementState.SENT


async def test_a_cancel_during_the_fan_out_stops_its_chunks(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    await _subscribe(h, "test", 12_000)
    await h.say(AUTHOR, "announce new disinformation Hello all")
    chunk = h.app.store.announcements.fan_out_chunk
    cancelled: list[str] = []

    async def then_cancel(audience: Audience, now: Any, limit: int) -> FanOutChunk:
        written = await chunk(audience, now, limit)
        if not cancelled:  # another coordinator cancels between the first and the second chunk
            cancelled.append(await h.text("demo-admin", "announce cancel 1"))
        return written

    monkeypatch.setattr(h.app.store.announcements, "fan_out_chunk", then_cancel)
    await h.say(AUTHOR, "announce confirm 1")
    monkeypatch.undo()
    assert "5000 deliveries not yet sent were stopped" in cancelled[0]
    assert await _state(h) is AnnouncementState.CANCELLED
    assert await _count(h, "SELECT COUNT(*) FROM deliveries WHERE kind = 'announcement'") == 5000
    assert await _count(h, "SELECT COUNT(*) FROM deliveries WHERE kind = 'announcement' AND status = 'pending'") == 0
    assert await h.app.store.announcements.unfinished_fan_outs() == []
    await h.app.services.announcements.settle_sending()  # nothing to resume
    assert await _count(h, "SELECT COUNT(*) FROM deliveries WHERE kind = 'announcement'") == 5000


async def test_preview_and_report_say_how_long_sending_takes(slow: Harness) -> None:
    await _subscribe(slow, "console", 600)
    await _subscribe(slow, "test", 5, first=300_000)
    preview = await slow.text(AUTHOR, "announce new disinformation Hello all")
    # 601 console DMs at 2 a second (less the burst of 2): about 5 minutes; the unpaced platform at once.
    assert "Time to send: Console about 5 min, test in less than a minute" in preview
    await slow.say(AUTHOR, "announce confirm 1")
    status = await slow.text(AUTHOR, "announce status 1")
    assert "Delivered 0 / 606, 0 failed, 0 skipped." in status
    assert "About 5 min left at the current pace (about 5 min in all)." in status
    # Half of them out: half the time left (150 s), the plan unchanged.
    await slow.app.db.execute("UPDATE deliveries SET status = 'sent' WHERE id IN (SELECT id FROM deliveries"
                              " WHERE announcement_id = 1 AND kind = 'announcement' ORDER BY id LIMIT 303)")
    status = await slow.text(AUTHOR, "announce status 1")
    assert "Delivered 303 / 606" in status
    assert "About 2 min left at the current pace (about 5 min in all)." in status
    await slow.app.db.execute("UPDATE deliveries SET status = 'sent' WHERE announcement_id = 1")
    status = await slow.text(AUTHOR, "announce status 1")
    assert "left at the current pace" not in status and "Finished." in status


def test_durations_and_estimates_are_rendered_in_the_readers_language() -> None:
    catalog = Catalog(locale="fr")
    catalog.add("{platform} about {duration}", "{platform} environ {duration}")
    catalog.add("{platform} in less than a minute", "{platform} en moins d’une minute")
    catalog.add("{first}, {rest}", "{first}, {rest}")
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    translator = Translator({"fr": gettext.GNUTranslations(buffer)})
    eta = time_to_send({"discord": 240.0, "slack": 5400.0, "console": 12.0})
    assert eta is not None
    assert translator.render(eta, "en") == "Console in less than a minute, Discord about 4 min, Slack about 2 hr"
    french = translator.render(eta, "fr").replace("\u202f", " ").replace("\xa0", " ")  # Babel: no-break spaces
    assert french == "Console en moins d’une minute, Discord environ 4 min et Slack environ 2 h"
    assert translator.render(duration(30), "en") == "less than a minute"
    assert translator.render(duration(90_000), "xx") == "1 day"  # an unknown language falls back to English
    assert time_to_send({}) is None


async def test_a_fan_out_ending_after_every_row_went_out_is_settled_at_once(h: Harness,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Only digest subscribers: the last chunk writes no DM, so no batch of the worker follows it. The worker sent
    the report (and settled, finding the fan-out under way) before the chunk committed."""
    await h.app.db.execute("UPDATE subscriptions SET mode = 'daily'")
    await _subscribe(h, "test", 20, mode="weekly")
    await h.say(AUTHOR, "announce new disinformation Hello all")
    chunk = h.app.store.announcements.fan_out_chunk

    async def worker_first(audience: Audience, now: Any, limit: int) -> FanOutChunk:
        await h.app.worker.drain()
        return await chunk(audience, now, limit)

    monkeypatch.setattr(h.app.store.announcements, "fan_out_chunk", worker_first)
    await h.say(AUTHOR, "announce confirm 1")
    monkeypatch.undo()
    assert await _state(h) is AnnouncementState.SENT  # not at the next housekeeping pass
    before = len(h.console_output())
    await h.app.worker.drain()  # no housekeeping: the author's report is edited to its final state at once
    edited = h.console_output()[before:]
    assert "edited" in edited and "Delivery report for announcement #1" in edited and "sent" in edited


async def test_finished_waits_for_the_last_chunk(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    await _subscribe(h, "test", 10)
    await h.say(AUTHOR, "announce new disinformation Hello all")
    chunk = h.app.store.announcements.fan_out_chunk
    midway: list[str] = []

    async def small(audience: Audience, now: Any, limit: int) -> FanOutChunk:
        if len(midway) == 1:  # every row of the first chunk has gone out; more are still to be written
            await h.app.worker.drain()
            midway.append(await h.text(AUTHOR, "announce status 1"))
        midway.append("")
        return await chunk(audience, now, 4)

    monkeypatch.setattr(h.app.store.announcements, "fan_out_chunk", small)
    await h.say(AUTHOR, "announce confirm 1")
    monkeypatch.undo()
    assert "Delivered 4 / 4" in midway[1] and "Finished." not in midway[1]
    await h.app.worker.drain()
    status = await h.text(AUTHOR, "announce status 1")
    assert "Delivered 11 / 11" in status and "Finished." in status


async def test_the_confirm_counts_rows_another_path_wrote_first(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A housekeeping resume (or another process) may write the subscribers' rows before the confirm does."""
    await _subscribe(h, "test", 10)
    await _subscribe(h, "test", 3, mode="daily", first=200_000)
    await h.say(AUTHOR, "announce new disinformation Hello all")
    chunk = h.app.store.announcements.fan_out_chunk

    async def resumed_first(audience: Audience, now: Any, limit: int) -> FanOutChunk:
        while not (await chunk(audience, now, limit)).done:
            pass
        return await chunk(audience, now, limit)

    monkeypatch.setattr(h.app.store.announcements, "fan_out_chunk", resumed_first)
    answer = await h.text(AUTHOR, "announce confirm 1")
    assert "on its way to 14 targets" in answer  # 10 + 3 digests + demo-coordinator's own subscription
