"""Recording adapters that fail the way platforms do, on the test clock: an outage (5xx) until a time, a rate
limit (429 with the Retry-After left) until a time; and an app with two such platforms side by side."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.assembly import App, build_app
from app.settings import Settings
from bot.delivery.errors import TransientDeliveryError
from bot.delivery.model import SentMessage
from bot.i18n import _
from bot.messages import Message, RenderedMessage
from bot.model import Identity, IdentityRecord
from tests.postgres_server import storage_settings
from tests.support import FixedClock, RecordingAdapter


@dataclass
class FaultyAdapter(RecordingAdapter):
    """Answers 503 while the clock is before ``down_until`` and 429 before ``limited_until``; records when each
    send went out (``sent_at``, on the test clock), every call, and the keys handed to ``expect_in_flight``."""

    clock: FixedClock = field(default_factory=FixedClock)
    down_until: datetime | None = None
    limited_until: datetime | None = None
    landed: bool = False
    """Outage errors say the post may have landed."""
    calls: int = 0
    sent_at: list[datetime] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    delivered: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0
    """Set ``delivered`` once this many sends went through."""

    def expect_in_flight(self, delivery_keys: Iterable[str]) -> None:
        self.in_flight.extend(delivery_keys)

    def _maybe_fail(self) -> None:
        self.calls += 1
        now = self.clock.now()
        if self.limited_until is not None and now < self.limited_until:
            raise TransientDeliveryError("rate limited", (self.limited_until - now).total_seconds(),
                                         rate_limited=True)
        if self.down_until is not None and now < self.down_until:
            raise TransientDeliveryError("server error 503", may_have_landed=self.landed)
        super()._maybe_fail()

    def _record(self) -> None:
        self.sent_at.append(self.clock.now())
        if self.expected and len(self.sent) >= self.expected:
            self.delivered.set()

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        sent = await super().send_direct(recipient, message, delivery_key=delivery_key)
        self._record()
        return sent

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        sent = await super().send_channel(channel_id, message, delivery_key=delivery_key)
        self._record()
        return sent


def settings_for(tmp_path: Path, **delivery: object) -> Settings:
    return Settings(storage=storage_settings(tmp_path, "bot.db"), coalition={"admins": ["console:demo-admin"]},
                    console={"enabled": True}, delivery=delivery)


@asynccontextmanager
async def app_with(tmp_path: Path, clock: FixedClock, *adapters: RecordingAdapter,
                   console_output: io.StringIO | None = None, **delivery: object) -> AsyncIterator[App]:
    """The real app (console plus ``adapters``) on a SQLite file in ``tmp_path``; the console writes to
    ``console_output`` when given."""
    makers = tuple((lambda _d, a=adapter: a) for adapter in adapters)
    async with build_app(settings_for(tmp_path, **delivery), clock=clock,
                         console_output=console_output if console_output is not None else io.StringIO(),
                         extra_adapters=makers) as app:
        yield app


async def people_on(app: App, platform: str, count: int) -> list[int]:
    """``count`` people whose only identity is on ``platform``."""
    ids = []
    for i in range(count):
        record = await app.store.people.ensure_identity(Identity(platform, f"{platform}-{i}"), f"{platform}-{i}",
                                                        app.services.clock.now())
        ids.append(record.person_id)
    return ids


async def notify(app: App, people: list[int], key: str, *, expires_at: datetime | None = None) -> None:
    await app.services.notifier.to_people(people, Message(body=(_("Welcome"),)), key=key, expires_at=expires_at)


async def drain(app: App) -> None:
    """Everything due now, as the tests' housekeeping does (the clock does not move)."""
    while await app.worker.run_due():
        pass


async def run_worker_until(app: App, done: asyncio.Event, limit: float = 10.0) -> None:
    """Run the app's delivery worker (the continuous pipeline) until ``done`` is set, then stop it cleanly;
    every wait is bounded."""
    running = asyncio.create_task(app.worker.run())
    try:
        async with asyncio.timeout(limit):
            await done.wait()
    finally:
        app.worker.request_stop()
        async with asyncio.timeout(limit):
            await running
