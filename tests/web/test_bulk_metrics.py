"""Rows that end together, not one by one through the worker, are counted in ``/metrics`` too: the deliveries
a cancelled announcement stops, and digests missed because the next one was due. Over the real app and its own
site (``[web] metrics_token`` set), read with a real HTTP client."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession, ClientTimeout
from prometheus_client.parser import text_string_to_metric_families

from adapters.web.server import serving
from app.settings import WebSettings
from bot.delivery.model import DeliveryKind, DeliveryStatus, NewDelivery
from bot.delivery.payloads import NoticePayload
from bot.messages import Message
from bot.model import Identity
from tests.support import FixedClock, Harness, console_settings, harness

WAIT = 30.0
TOKEN = "bulk-scrape-secret"
CANCELLED = ("coalition_deliveries_finished_total", (("platform", "none"), ("status", "cancelled")))
MISSED = ("coalition_deliveries_finished_total", (("platform", "none"), ("status", "missed")))


@pytest.fixture
async def h(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    settings = console_settings(tmp_path).model_copy(update={"web": WebSettings(metrics_token=TOKEN)})
    async with harness(settings, clock) as running:
        yield running


async def scrape(h: Harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    assert h.app.site is not None
    async with serving(h.app.site, "127.0.0.1", 0) as address, \
            ClientSession(timeout=ClientTimeout(total=WAIT)) as session, asyncio.timeout(WAIT), \
            session.get(address.url + "metrics", headers={"Authorization": f"Bearer {TOKEN}"}) as response:
        assert response.status == 200
        text = await response.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_the_deliveries_a_cancel_stops_are_counted(h: Harness) -> None:
    for name in ("ana", "ben", "chloe"):
        await h.text(name, "subscribe disinformation")
    preview = await h.text("demo-coordinator", "announce new disinformation Withdrawn before it went out")
    number = re.search(r"announce confirm (\d+)", preview)
    assert number is not None, preview
    assert "on its way" in await h.text("demo-coordinator", f"announce confirm {number.group(1)}")
    pending = [row for row in await h.app.store.outbox.of_announcement(int(number.group(1)))
               if row.status is DeliveryStatus.PENDING]
    assert len(pending) >= 3
    reply = await h.text("demo-coordinator", f"announce cancel {number.group(1)}")
    assert f"{len(pending)} deliveries not yet sent were stopped" in reply, reply
    assert (await scrape(h)).get(CANCELLED) == len(pending)


async def test_digests_missed_because_the_next_is_due_are_counted(h: Harness) -> None:
    now = h.clock.now()
    people = [(await h.app.store.people.ensure_identity(Identity("console", name), name, now)).person_id
              for name in ("ana", "ben")]
    payload = NoticePayload(Message(body=("news",)))
    await h.app.store.outbox.enqueue(
        [NewDelivery(dedupe_key=f"digest:{n}:daily:2026-11-22T08:00:00+00:00:person:{person}",
                     kind=DeliveryKind.DIGEST, payload=payload, not_before=now + timedelta(hours=1),
                     person_id=person, expires_at=now + timedelta(minutes=30)) for n, person in enumerate(people)],
        now)
    assert MISSED not in await scrape(h)
    h.clock.advance(minutes=31)
    await h.app.run_due()
    missed = [row for row in await h.app.store.outbox.by_kind(DeliveryKind.DIGEST)
              if row.status is DeliveryStatus.MISSED]
    assert len(missed) == 2
    assert (await scrape(h)).get(MISSED) == 2
