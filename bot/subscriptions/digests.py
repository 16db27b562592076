"""Daily and weekly digests: one message per person bundling everything since their last digest, sent at a
local hour in each person's own zone, with the upcoming meetings of the topics they follow by digest. No
empty digests."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.announcements.model import AnnouncementState
from bot.clock import Clock
from bot.commands.context import Caller
from bot.commands.invoke import invoke
from bot.delivery.model import DeliveryKind, DeliveryStatus
from bot.delivery.notify import Notifier
from bot.i18n import Text, _, _n, encode_text
from bot.messages import Action, Message
from bot.metrics import NO_METRICS, NO_PLATFORM, Metrics
from bot.people.service import PeopleService
from bot.ports import Store
from bot.subscriptions.declarations import SUBSCRIBE
from bot.subscriptions.model import DeliveryMode
from bot.topics.access import may_receive

EXCERPT = 280
DIGEST_EXPIRED = _("no longer relevant: the next digest was due")
"""Why a digest that could not go before the next one was due is ``missed``; its items move to the next one."""


@dataclass(frozen=True, slots=True)
class DigestConfig:
    hour: int = 8
    weekly_day: int = 0  # Monday


def last_slot(now: datetime, zone: ZoneInfo, mode: DeliveryMode, config: DigestConfig) -> datetime:
    """The most recent local digest time at or before ``now`` (wall-clock, so DST days keep 08:00)."""
    local_day = now.astimezone(zone).date()
    for back in range(8):
        day = local_day - timedelta(days=back)
        if mode is DeliveryMode.WEEKLY and day.weekday() != config.weekly_day:
            continue
        slot = _at(day, config.hour, zone)
        if slot <= now:
            return slot
    raise AssertionError("a digest slot exists within eight days")


def next_slot(after: datetime, zone: ZoneInfo, mode: DeliveryMode, config: DigestConfig) -> datetime:
    """The first local digest time after ``after``: when a digest of ``after``'s slot stops being relevant."""
    local_day = after.astimezone(zone).date()
    for ahead in range(9):
        day = local_day + timedelta(days=ahead)
        if mode is DeliveryMode.WEEKLY and day.weekday() != config.weekly_day:
            continue
        slot = _at(day, config.hour, zone)
        if slot > after:
            return slot
    raise AssertionError("a digest slot exists within nine days")


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(hour), tzinfo=zone)
    # Normalise a wall-clock time that falls in a DST gap by a round trip through UTC.
    return local.astimezone(ZoneInfo("UTC")).astimezone(zone)


class MeetingLines(Protocol):
    def digest_lines(self, person_id: int, caller: Caller, mode: DeliveryMode) -> Awaitable[list[Text]]:
        """Returns the lines for upcoming meetings of the topics this person follows by ``mode`` digest ([] for
        none); only meetings ``caller`` may receive. Raises nothing of its own."""
        ...


class DigestService:
    def __init__(self, store: Store, clock: Clock, people: PeopleService, notifier: Notifier,
                 config: DigestConfig, meetings: MeetingLines | None = None, metrics: Metrics = NO_METRICS) -> None:
        self._store = store
        self._clock = clock
        self._people = people
        self._notifier = notifier
        self._config = config
        self._meetings = meetings
        self._metrics = metrics

    async def run_due(self) -> int:
        """Queue every digest whose local time has come; returns how many were queued."""
        now = self._clock.now()
        queued = 0
        handled: set[tuple[int, DeliveryMode]] = set()
        # A digest that could not go before this one was due is missed: its items go into this one.
        released = await self._store.digests.release_missed(now, encode_text(DIGEST_EXPIRED))
        self._metrics.delivery_finished(NO_PLATFORM, DeliveryStatus.MISSED.value, released.rows)
        for person_id, mode, oldest in await self._store.digests.pending():
            try:
                slot = last_slot(now, await self._zone(person_id), mode, self._config)
                if oldest >= slot:
                    continue
                # Only now, for a digest that goes: its platforms may be asked what role they still give.
                caller = await self._people.caller_for_person(person_id)
            except LookupError:  # no identity left (erased): their queue is dropped, the others go on
                await self._store.digests.mark_digested(
                    person_id, await self._store.digests.items(person_id, mode, now), "no-recipient")
                continue
            ids = await self._store.digests.items(person_id, mode, slot)
            lines: list[Text | str] = []
            topics: set[str] = set()
            for announcement_id in ids:
                announcement = await self._store.announcements.get(announcement_id)
                topic = await self._store.topics.get(announcement.topic_id) if announcement else None
                if announcement is None or topic is None or announcement.state is AnnouncementState.CANCELLED:
                    continue
                subscription = await self._store.subscriptions.get(person_id, topic.id)
                # Only while they still take this topic as a digest: unsubscribing or switching mode stops it.
                if subscription is None or subscription.mode is not mode \
                        or not may_receive(topic, caller.role, caller.coordinated, subscribed=True):
                    continue
                text = announcement.text if len(announcement.text) <= EXCERPT \
                    else announcement.text[:EXCERPT].rsplit(" ", 1)[0] + " …"
                lines.append(_("• {topic}: {text}", topic=topic.slug, text=text))
                topics.add(topic.slug)
            key = f"digest:{person_id}:{mode.value}:{slot.isoformat()}"
            handled.add((person_id, mode))
            meetings = await self._meetings.digest_lines(person_id, caller, mode) if self._meetings else []
            async with self._store.transaction():
                added = 1
                if lines:
                    title = _("Your daily digest") if mode is DeliveryMode.DAILY else _("Your weekly digest")
                    actions = tuple(Action(_("Switch {topic} to immediate", topic=slug),
                                           invoke(SUBSCRIBE, topic=slug, mode=DeliveryMode.IMMEDIATE))
                                    for slug in sorted(topics)[:3])
                    added = await self._notifier.to_people(
                        [person_id],
                        Message(title=title, body=(_n("{n} announcement:", "{n} announcements:", len(lines)),
                                                   *lines, *_meeting_part(meetings)), actions=actions),
                        key=key, kind=DeliveryKind.DIGEST, expires_at=next_slot(slot, ZoneInfo(caller.timezone), mode,
                                                                       self._config))
                    queued += added
                # Items released from a missed digest after this slot's went out wait for the next slot's.
                if added:
                    await self._store.digests.mark_digested(person_id, ids, key)
        return queued + await self._meetings_only(now, handled)

    async def _meetings_only(self, now: datetime, handled: set[tuple[int, DeliveryMode]]) -> int:
        """A digest with only upcoming meetings for digest subscribers who had no announcements; once per slot
        (the same key as an announcement digest, so never two digests for one slot)."""
        if self._meetings is None:
            return 0
        topic_ids = {m.topic_id for m, _o in await self._store.meetings.upcoming(now, now + timedelta(days=8))}
        queued = 0
        for topic_id in sorted(topic_ids):
            for subscription in await self._store.subscriptions.of_topic(topic_id):
                mode, person_id = subscription.mode, subscription.person_id
                if mode not in (DeliveryMode.DAILY, DeliveryMode.WEEKLY) or (person_id, mode) in handled:
                    continue
                handled.add((person_id, mode))
                try:
                    zone = await self._zone(person_id)
                    slot = last_slot(now, zone, mode, self._config)
                    key = f"digest:{person_id}:{mode.value}:{slot.isoformat()}"
                    # Once this slot's digest is queued, another would be ignored: build none (and ask no platform).
                    if slot < subscription.created_at or await self._store.outbox.by_key(f"{key}:person:{person_id}"):
                        continue
                    caller = await self._people.caller_for_person(person_id)
                except LookupError:  # no identity left (erased): nobody to send to
                    continue
                lines = await self._meetings.digest_lines(person_id, caller, mode)
                if not lines:
                    continue
                title = _("Your daily digest") if mode is DeliveryMode.DAILY else _("Your weekly digest")
                queued += await self._notifier.to_people(
                    [person_id], Message(title=title, body=tuple(_meeting_part(lines))), key=key,
                    kind=DeliveryKind.DIGEST, expires_at=next_slot(slot, zone, mode, self._config))
        return queued

    async def _zone(self, person_id: int) -> ZoneInfo:
        """The zone the person's digest slots are in, read without their roles: a digest not due yet costs no
        question to a platform. Raises ``LookupError`` for a person who is gone."""
        person = await self._store.people.get(person_id)
        if person is None:
            raise LookupError(f"no person {person_id}")
        return ZoneInfo(self._people.zone_of(person)[0])


def _meeting_part(lines: list[Text]) -> list[Text | str]:
    if not lines:
        return []
    return [_n("{n} upcoming meeting:", "{n} upcoming meetings:", len(lines)), *lines]
