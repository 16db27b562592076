"""An announcement's fan-out: every target's outbox row (and every digest subscriber's item), written so that
100,000 recipients take seconds and never hold the database for long.

Why chunks and a cursor: one transaction for every row held the write lock for the whole fan-out (16 s at
100,000, every other command waiting). Now the move to ``sending`` commits with the few channel rows and the
author's report row and marks the fan-out under way; the subscribers' rows follow in chunks of a few thousand,
each written set-based by the store in its own short transaction that moves a cursor kept on the announcement.
So: other commands get the database between chunks; a crash between chunks resumes from the cursor (keys
already queued are skipped); a cancel ends the chunks; and the announcement is never marked sent while its
cursor says rows are still to be written. The database stays the source of truth: nothing is held in memory
that a restart would need.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.announcements.model import Announcement, AnnouncementState
from bot.announcements.payloads import AnnouncementPayload, AnnouncementTarget, ReportPayload
from bot.announcements.store import Audience
from bot.channels.model import ChannelPurpose
from bot.clock import Clock
from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, NewDelivery, SentMessage
from bot.ports import Store
from bot.privacy.model import FORMER_PERSON_ID
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Topic, Visibility

log = logging.getLogger(__name__)


WRITTEN_MODES = (DeliveryMode.IMMEDIATE, DeliveryMode.DAILY, DeliveryMode.WEEKLY)
"""The subscribers a fan-out writes something for: a DM row, or a digest item (``channel`` ones get nothing)."""


class FanOut:
    """``written(announcement id)`` is awaited once a fan-out's last chunk has committed: the worker's after-batch
    settle may already have run for every row (a topic with only channels and digest subscribers, or none) and
    found the fan-out under way, and no later batch would settle it."""

    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None], chunk: int,
                 written: Callable[[int], Awaitable[object]]) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._chunk = chunk
        self._written = written
        self._writing: set[int] = set()  # fan-outs this process is writing now (the backstop leaves them alone)
        # DMs per platform of each announcement being sent, read once when its fan-out starts: the live
        # report's estimate of the time left, without reading the audience again at every update.
        self._plans: dict[int, dict[str | None, int]] = {}

    async def plan(self, announcement: Announcement) -> dict[str | None, int]:
        """The announcement's DMs by platform as its fan-out started; read once more after a restart."""
        plan = self._plans.get(announcement.id)
        if plan is None:
            plan = self._plans[announcement.id] = dict(
                await self._store.announcements.audience_platforms(announcement.topic_id))
        return plan

    def forget(self, announcement_id: int) -> None:
        self._plans.pop(announcement_id, None)

    async def begin(self, announcement: Announcement, topic: Topic,
                    expected: list[AnnouncementState]) -> int | None:
        """One transaction (joining the caller's): the move to ``sending``, its channel rows and the author's
        report row, and the fan-out marked under way. Returns the channel targets; ``None`` when another path
        moved it first."""
        now = self._clock.now()
        store = self._store
        rows: list[NewDelivery] = []

        def row(key: str, target: AnnouncementTarget, platform: str, channel_id: str) -> NewDelivery:
            return NewDelivery(dedupe_key=f"ann:{announcement.id}:{key}", kind=DeliveryKind.ANNOUNCEMENT,
                               payload=AnnouncementPayload(announcement.id, target), not_before=now,
                               topic_id=topic.id, announcement_id=announcement.id, platform=platform,
                               channel_id=channel_id)

        async with store.transaction():
            if not await store.announcements.transition(announcement.id, AnnouncementState.SENDING, expected, now):
                return None
            await store.announcements.begin_fan_out(announcement.id)
            for binding in await store.channels.bound(ChannelPurpose.TOPIC, topic.id):
                rows.append(row(f"channel:{binding.platform}:{binding.channel_id}", AnnouncementTarget.CHANNEL,
                                binding.platform, binding.channel_id))
            if topic.visibility is Visibility.PUBLIC:
                for binding in await store.channels.bound(ChannelPurpose.PUBLIC, None):
                    rows.append(row(f"public:{binding.platform}:{binding.channel_id}", AnnouncementTarget.PUBLIC,
                                    binding.platform, binding.channel_id))
            # Due a moment earlier than the rest, so the author's report goes out first and then follows along;
            # none for an erased author (the placeholder person has nobody to read it).
            if announcement.author_id != FORMER_PERSON_ID:
                rows.append(NewDelivery(dedupe_key=f"ann:{announcement.id}:report", kind=DeliveryKind.REPORT,
                                        payload=ReportPayload(announcement.id),
                                        not_before=now - timedelta(seconds=1),
                                        person_id=announcement.author_id, announcement_id=announcement.id))
            await store.outbox.enqueue(rows, now)
        self._wake()
        return len(rows) - (announcement.author_id != FORMER_PERSON_ID)  # the report row is no copy

    async def audience(self, topic_id: int) -> int:
        """The subscribers the fan-out writes a row or digest item for, whoever writes them (this confirm or a
        resume that got there first): what the confirm reply counts."""
        counts = await self._store.subscriptions.audience_counts(topic_id)
        return sum(n for mode, _platform, n in counts if mode in WRITTEN_MODES)

    async def write_audience(self, announcement: Announcement) -> int:
        """Write the subscribers' rows chunk by chunk from the stored cursor, yielding between chunks; returns the
        rows and digest items written. Must run outside a transaction (each chunk commits its own). Stops when
        the announcement stops being sent (a cancel); once the last chunk has committed, calls ``written``."""
        if announcement.id in self._writing:
            return 0
        self._writing.add(announcement.id)
        try:
            await self.plan(announcement)
            # Every DM carries the same payload (only the recipient differs) and the key it always had.
            audience = Audience(announcement.id, announcement.topic_id, f"ann:{announcement.id}:person:",
                                AnnouncementPayload(announcement.id, AnnouncementTarget.DM).to_json())
            written = 0
            while True:
                chunk = await self._store.announcements.fan_out_chunk(audience, self._clock.now(), self._chunk)
                written += chunk.dms + chunk.digests
                if chunk.dms:
                    self._wake()
                if chunk.done:
                    break
                await asyncio.sleep(0)  # let a waiting command have the database
        finally:
            self._writing.discard(announcement.id)
        await self._written(announcement.id)
        return written

    async def to_change(self, announcement_id: int) -> list[Delivery]:
        """Every row of the announcement an edit or delete must reach, by kind then id: the extra copies of people
        who take announcements on every account (``announcement-copy``) and its counted rows, delivered or being
        delivered (the worker holds a change until its copy has landed).

        A message two rows share — a counted row that adopted an ``all`` person's copy (:mod:`bot.delivery.copies`)
        — comes once, through the copy: a second edit would mail a second correction, and a second delete fail.
        The copy, because a counted row still being sent gets a change of its own and may adopt the copy only
        then: the worker tells that change to stand aside for the copy's, which must therefore always exist."""
        outbox = self._store.outbox
        changed: set[SentMessage] = set()
        rows: list[Delivery] = []
        for row in [*await outbox.of_announcement(announcement_id, DeliveryKind.ANNOUNCEMENT_COPY),
                    *await outbox.of_announcement(announcement_id)]:
            if row.status is DeliveryStatus.SENT and row.sent is not None and row.sent not in changed:
                changed.add(row.sent)
                rows.append(row)
            elif row.status is DeliveryStatus.SENDING:
                rows.append(row)
        return rows

    async def resume(self) -> int:
        """Finish fan-outs a crash left between chunks (the move to ``sending`` committed, not every
        subscriber's row); returns rows written."""
        written = 0
        for announcement_id in await self._store.announcements.unfinished_fan_outs():
            announcement = await self._store.announcements.get(announcement_id)
            if announcement is not None and announcement_id not in self._writing:
                log.info("announcement %d: resuming its fan-out", announcement_id)
                written += await self.write_audience(announcement)
        return written
