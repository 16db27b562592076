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
from collections.abc import Callable
from datetime import datetime, timedelta

import discord

from bot.adapter_stores import Publish, PublishStatus, PublishStore
from bot.clock import Clock

log = logging.getLogger(__name__)

ALREADY_CROSSPOSTED = 40033
PUBLISHES_PER_WINDOW = 10
WINDOW = timedelta(hours=1)
SERVER_ERROR_BACKOFF = timedelta(minutes=1)


class PublishQueue:
    """Sends the queued publishes as Discord's limit allows; the rows live in a :class:`PublishStore`."""

    def __init__(self, store: PublishStore, client: discord.Client, clock: Clock, *,
                 per_window: int = PUBLISHES_PER_WINDOW, window: timedelta = WINDOW,
                 poll_seconds: float = 30.0, active: Callable[[], bool] = lambda: True) -> None:
        """``active``: whether this process's loop publishes what is due. With several processes, one does (the
        one holding the server's gateway): two would publish one message twice (Discord refuses the second, 40033)
        and could each count the same hour's publishes and together go over the channel's limit. A process that
        queues a publish still sends it at once itself; only the retries wait for the active one."""
        self._active = active
        self._queued_here: set[tuple[str, str]] = set()
        self._store = store
        self._client = client
        self._clock = clock
        self.per_window = per_window
        self.window = window
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # the background loop and an explicit call never publish one row twice

    async def enqueue(self, channel_id: str, message_id: str) -> None:
        await self._store.add(channel_id, message_id, self._clock.now())
        self._queued_here.add((channel_id, message_id))
        self._wake.set()

    async def withhold(self, channel_id: str, message_id: str, reason: str) -> None:
        """Record a post of an announcement channel that must not be published, so it is never queued later and
        the record says why it was not."""
        await self._store.withhold(channel_id, message_id, reason, self._clock.now())

    async def all(self) -> list[Publish]:
        return await self._store.all()

    async def run_due(self, only: set[tuple[str, str]] | None = None) -> int:
        """Publish what is due and allowed now (``only`` these channel and message ids, if given); returns how many
        were published."""
        async with self._lock:
            return await self._run_due(only)

    async def _run_due(self, only: set[tuple[str, str]] | None) -> int:
        now = self._clock.now()
        published, blocked = 0, set[str]()
        for row in await self._store.due(now):
            if row.channel_id in blocked or (only is not None and (row.channel_id, row.message_id) not in only):
                continue
            opens_at = await self._next_slot(row.channel_id, now)
            if opens_at is not None:
                await self._store.postpone(row.id, opens_at, "waiting for the publish limit")
                blocked.add(row.channel_id)
                continue
            outcome = await self._publish(row, now)
            published += outcome is PublishStatus.PUBLISHED
            if outcome is PublishStatus.PENDING:
                blocked.add(row.channel_id)
        return published

    async def run(self) -> None:
        """Publish as the limit allows until cancelled."""
        while True:
            try:
                if self._active():
                    self._queued_here.clear()
                    await self.run_due()
                elif self._queued_here:  # what this process queued, once; its retries are the active one's
                    queued, self._queued_here = self._queued_here, set()
                    await self.run_due(queued)
            except Exception:
                log.exception("publishing failed; will try again")
            timeout = self._poll
            next_at = await self._store.next_due()
            if next_at is not None:
                timeout = max(0.0, min(timeout, (next_at - self._clock.now()).total_seconds()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _next_slot(self, channel_id: str, now: datetime) -> datetime | None:
        """``None`` when a publish is allowed now, else when the oldest publish in the window expires."""
        published = await self._store.published_since(channel_id, now - self.window)
        if len(published) < self.per_window:
            return None
        return published[len(published) - self.per_window] + self.window

    async def _publish(self, row: Publish, now: datetime) -> PublishStatus:
        """Try one publish; returns how it stands after the try (``PENDING``: postponed, do not try the channel
        again in this round)."""
        channel = self._client.get_partial_messageable(int(row.channel_id))
        message = channel.get_partial_message(int(row.message_id))
        try:
            await message.publish()
        except discord.RateLimited as error:
            await self._store.postpone(row.id, now + timedelta(seconds=error.retry_after), "rate limited by Discord",
                                       attempts=row.attempts + 1)
            return PublishStatus.PENDING
        except discord.HTTPException as error:
            if error.code == ALREADY_CROSSPOSTED:
                await self._store.mark_published(row.id, now)
                return PublishStatus.PUBLISHED
            if error.status == 429 or error.status >= 500:
                await self._store.postpone(row.id, now + SERVER_ERROR_BACKOFF * (row.attempts + 1),
                                           f"Discord error {error.status}", attempts=row.attempts + 1)
                return PublishStatus.PENDING
            await self._store.mark_failed(row.id, f"Discord refused the publish: {error.code} {error.text}")
            return PublishStatus.FAILED
        await self._store.mark_published(row.id, now)
        return PublishStatus.PUBLISHED
