"""A platform that is down pauses its own queue (a circuit per platform) instead of burning attempts, resumes
within seconds of recovering, and survives a restart; a platform that rate-limits holds up nobody else."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery.model import DeliveryStatus
from tests.bot.delivery.fakes import FaultyAdapter, app_with, drain, notify, people_on, run_worker_until
from tests.support import FixedClock, english

OUTAGE = timedelta(minutes=5)
COOLDOWN_MAX = timedelta(seconds=5)


async def test_a_five_minute_outage_pauses_the_platform_and_every_row_goes_on_recovery(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.delivery")
    clock = FixedClock()
    adapter = FaultyAdapter(clock=clock)
    async with app_with(tmp_path, clock, adapter) as app:
        people = await people_on(app, "test", 100)
        start = clock.now()
        adapter.down_until = start + OUTAGE
        await notify(app, people, "outage")
        opened_at = None
        while clock.now() < start + OUTAGE + timedelta(minutes=1):
            await drain(app)
            circuit = await app.store.circuits.get("test")
            if opened_at is None and circuit is not None and circuit.opened_at is not None:
                opened_at = clock.now()
            clock.advance(seconds=1)
        rows = await app.store.outbox.by_kind("notice")
        assert {row.status for row in rows} == {DeliveryStatus.SENT}
        assert opened_at == start  # the first round of failures opened it
        failed_calls = adapter.calls - len(adapter.sent)
        # Without the circuit each row would have failed about eight times in five minutes (800 calls); with it:
        # the first round (the sends in flight while the failures were counted) and one probe per cooldown
        # (1, 2, 4, then every 5 s).
        probes = 3 + OUTAGE // COOLDOWN_MAX
        assert failed_calls <= 2 * 8 + probes < len(people), failed_calls
        assert sum(row.attempts for row in rows) == adapter.calls
        # Recovery noticed by a probe within the longest cooldown; then everything held back goes at once.
        assert max(adapter.sent_at) <= start + OUTAGE + COOLDOWN_MAX + timedelta(seconds=1)
        assert len(set(adapter.sent_at)) == 1
        circuit = await app.store.circuits.get("test")
        assert circuit is not None and circuit.opened_at is None and circuit.failures == 0
    messages = [record.getMessage() for record in caplog.records]
    assert any("circuit is open" in m for m in messages) and any("circuit is closed" in m for m in messages)
    assert not any("Welcome" in m for m in messages)  # no message text in logs
    opened = next(r for r in caplog.records if "circuit is open" in r.getMessage())
    assert opened.levelno == logging.WARNING


async def test_an_open_circuit_survives_a_restart(tmp_path: Path) -> None:
    clock = FixedClock()
    down = FaultyAdapter(clock=clock, down_until=clock.now() + timedelta(hours=1))
    async with app_with(tmp_path, clock, down) as app:
        await notify(app, await people_on(app, "test", 6), "first")
        await drain(app)
        circuit = await app.store.circuits.get("test")
        assert circuit is not None and circuit.opened_at is not None and circuit.retry_at is not None
        probe_at = circuit.retry_at
    restarted = FaultyAdapter(clock=clock)  # the platform is back, but this run does not know it yet
    async with app_with(tmp_path, clock, restarted) as app:
        await notify(app, await people_on(app, "test", 1), "second")
        await drain(app)
        assert restarted.calls == 0  # held back by the circuit the last run left open
        [second] = [row for row in await app.store.outbox.by_kind("notice") if row.dedupe_key.startswith("second")]
        assert second.status is DeliveryStatus.PENDING and second.attempts == 0
        assert second.retrying_since == clock.now() and second.not_before == probe_at
        assert english(second.reason) == "server error 503"
        clock.current = probe_at
        await drain(app)  # one probe goes, succeeds, and everything held back follows at once
        rows = await app.store.outbox.by_kind("notice")
        assert {row.status for row in rows} == {DeliveryStatus.SENT}
        assert restarted.calls == len(rows) == 7


async def test_a_rate_limit_pauses_only_its_platform(tmp_path: Path) -> None:
    clock = FixedClock()
    start = clock.now()
    alpha = FaultyAdapter(platform="alpha", clock=clock, limited_until=start + timedelta(seconds=40))
    beta = FaultyAdapter(platform="beta", clock=clock)
    async with app_with(tmp_path, clock, alpha, beta) as app:
        await notify(app, await people_on(app, "alpha", 5) + await people_on(app, "beta", 5), "news")
        await drain(app)
        assert beta.sent_at == [start] * 5  # on time
        assert alpha.sent == []
        held = [row for row in await app.store.outbox.by_kind("notice") if row.status is DeliveryStatus.PENDING]
        assert len(held) == 5 and all(row.attempt_platform == "alpha" for row in held)
        assert all(row.not_before >= start + timedelta(seconds=40) and row.attempts == 0 for row in held)
        circuit = await app.store.circuits.get("alpha")
        assert circuit is not None and circuit.failures == 0 and circuit.opened_at is None  # not a failure
        assert await app.store.circuits.get("beta") is None
        clock.advance(seconds=40)
        await drain(app)
        assert alpha.sent_at == [start + timedelta(seconds=40)] * 5


async def test_in_the_pipeline_one_platforms_rate_limit_delays_nothing_else(tmp_path: Path) -> None:
    """The continuous loop: beta's rows complete while alpha is paused, without the clock moving."""
    clock = FixedClock()
    start = clock.now()
    alpha = FaultyAdapter(platform="alpha", clock=clock, limited_until=start + timedelta(seconds=40))
    beta = FaultyAdapter(platform="beta", clock=clock, expected=20)
    async with app_with(tmp_path, clock, alpha, beta) as app:
        alphas, betas = await people_on(app, "alpha", 20), await people_on(app, "beta", 20)
        await notify(app, [p for pair in zip(alphas, betas, strict=True) for p in pair], "news")
        await run_worker_until(app, beta.delivered)
        assert beta.sent_at == [start] * 20 and alpha.sent == []
        rows = await app.store.outbox.by_kind("notice")
        held = [row for row in rows if row.attempt_platform == "alpha"]
        assert len(held) == 20
        assert all(row.status is DeliveryStatus.PENDING and row.not_before >= start + timedelta(seconds=40)
                   for row in held)
