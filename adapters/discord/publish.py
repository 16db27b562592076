"""Publishing (crossposting) messages of the public announcement channel, so following servers get them.

Discord allows about 10 publishes per hour per channel. Each publish is a row first; the queue sends what
the limit allows (counted from its own record, so a restart does not forget), and a publish that Discord
still rate-limits stays queued until ``retry_after`` — none is ever dropped. A publish ends ``published``
or ``failed`` with a reason (not an announcement channel, message deleted, or withheld: a post the adapter
must not forward beyond the server is recorded ``failed`` at once and never sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import discord

from bot.clock import Clock
from storage.database import Database, from_db_time, to_db_time

log = logging.getLogger(__name__)

ALREADY_CROSSPOSTED = 40033
PUBLISHES_PER_WINDOW = 10
WINDOW = timedelta(hours=1)
SERVER_ERROR_BACKOFF = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Publish:
    id: int
    channel_id: str
    message_id: str
    status: str
    not_before: datetime
    attempts: int
    reason: str | None


class PublishQueue:
    def __init__(self, db: Database, client: discord.Client, clock: Clock, *,
                 per_window: int = PUBLISHES_PER_WINDOW, window: timedelta = WINDOW,
                 poll_seconds: float = 30.0) -> None:
        self._db = db
        self._client = client
        self._clock = clock
        self.per_window = per_window
        self.window = window
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # the background loop and an explicit call never publish one row twice

    async def enqueue(self, channel_id: str, message_id: str) -> None:
        now = to_db_time(self._clock.now())
        await self._db.execute(
            "INSERT OR IGNORE INTO discord_publishes (channel_id, message_id, status, not_before, created_at) "
            "VALUES (?, ?, 'pending', ?, ?)", (channel_id, message_id, now, now))
        self._wake.set()

    async def withhold(self, channel_id: str, message_id: str, reason: str) -> None:
        """Record a post of an announcement channel that must not be published, so it is never queued later and
        the record says why it was not."""
        now = to_db_time(self._clock.now())
        await self._db.execute(
            "INSERT OR IGNORE INTO discord_publishes (channel_id, message_id, status, not_before, reason, created_at) "
            "VALUES (?, ?, 'failed', ?, ?, ?)", (channel_id, message_id, now, reason, now))

    async def all(self) -> list[Publish]:
        rows = await self._db.fetch_all("SELECT * FROM discord_publishes ORDER BY id")
        return [Publish(row["id"], row["channel_id"], row["message_id"], row["status"],
                        from_db_time(row["not_before"]), row["attempts"], row["reason"]) for row in rows]

    async def run_due(self) -> int:
        """Publish what is due and allowed now; returns how many were published."""
        async with self._lock:
            return await self._run_due()

    async def _run_due(self) -> int:
        now = self._clock.now()
        rows = await self._db.fetch_all(
            "SELECT id, channel_id, message_id, attempts FROM discord_publishes "
            "WHERE status = 'pending' AND not_before <= ? ORDER BY id", (to_db_time(now),))
        published, blocked = 0, set[str]()
        for row in rows:
            channel_id = str(row["channel_id"])
            if channel_id in blocked:
                continue
            opens_at = await self._next_slot(channel_id, now)
            if opens_at is not None:
                await self._postpone(row["id"], opens_at, "waiting for the publish limit")
                blocked.add(channel_id)
                continue
            outcome = await self._publish(row["id"], channel_id, str(row["message_id"]), int(row["attempts"]), now)
            published += outcome == "published"
            if outcome == "postponed":
                blocked.add(channel_id)
        return published

    async def run(self) -> None:
        """Publish as the limit allows until cancelled."""
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("publishing failed; will try again")
            timeout = self._poll
            row = await self._db.fetch_one(
                "SELECT MIN(not_before) FROM discord_publishes WHERE status = 'pending'")
            if row is not None and row[0] is not None:
                timeout = max(0.0, min(timeout, (from_db_time(row[0]) - self._clock.now()).total_seconds()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _next_slot(self, channel_id: str, now: datetime) -> datetime | None:
        """``None`` when a publish is allowed now, else when the oldest publish in the window expires."""
        rows = await self._db.fetch_all(
            "SELECT published_at FROM discord_publishes WHERE channel_id = ? AND status = 'published' "
            "AND published_at > ? ORDER BY published_at", (channel_id, to_db_time(now - self.window)))
        if len(rows) < self.per_window:
            return None
        return from_db_time(rows[len(rows) - self.per_window][0]) + self.window

    async def _publish(self, row_id: int, channel_id: str, message_id: str, attempts: int, now: datetime) -> str:
        message = self._client.get_partial_messageable(int(channel_id)).get_partial_message(int(message_id))
        try:
            await message.publish()
        except discord.RateLimited as error:
            await self._postpone(row_id, now + timedelta(seconds=error.retry_after), "rate limited by Discord",
                                 attempts + 1)
            return "postponed"
        except discord.HTTPException as error:
            if error.code == ALREADY_CROSSPOSTED:
                await self._mark(row_id, "published", now, None)
                return "published"
            if error.status == 429 or error.status >= 500:
                await self._postpone(row_id, now + SERVER_ERROR_BACKOFF * (attempts + 1),
                                     f"Discord error {error.status}", attempts + 1)
                return "postponed"
            await self._mark(row_id, "failed", now, f"Discord refused the publish: {error.code} {error.text}")
            return "failed"
        await self._mark(row_id, "published", now, None)
        return "published"

    async def _postpone(self, row_id: int, not_before: datetime, reason: str, attempts: int | None = None) -> None:
        await self._db.execute(
            "UPDATE discord_publishes SET not_before = ?, reason = ?, attempts = COALESCE(?, attempts) WHERE id = ?",
            (to_db_time(not_before), reason, attempts, row_id))

    async def _mark(self, row_id: int, status: str, now: datetime, reason: str | None) -> None:
        await self._db.execute(
            "UPDATE discord_publishes SET status = ?, published_at = ?, reason = ?, attempts = attempts + 1 "
            "WHERE id = ?", (status, to_db_time(now) if status == "published" else None, reason, row_id))
