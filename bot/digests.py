"""Daily and weekly digests: one message per person bundling everything since their last digest, sent at a
local hour in each person's own zone. No empty digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.access import may_receive
from bot.i18n import Text, _, _n
from bot.messages import Action, Message
from bot.model import AnnouncementState, DeliveryMode
from bot.notify import Notifier
from bot.people import PeopleService
from bot.ports import Clock, Store

EXCERPT = 280


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


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(hour), tzinfo=zone)
    # Normalise a wall-clock time that falls in a DST gap by a round trip through UTC.
    return local.astimezone(ZoneInfo("UTC")).astimezone(zone)


class DigestService:
    def __init__(self, store: Store, clock: Clock, people: PeopleService, notifier: Notifier,
                 config: DigestConfig) -> None:
        self._store = store
        self._clock = clock
        self._people = people
        self._notifier = notifier
        self._config = config

    async def run_due(self) -> int:
        """Queue every digest whose local time has come; returns how many were queued."""
        now = self._clock.now()
        queued = 0
        for person_id, mode, oldest in await self._store.announcements.pending_digests():
            caller = await self._people.caller_for_person(person_id)
            slot = last_slot(now, ZoneInfo(caller.timezone), mode, self._config)
            if oldest >= slot:
                continue
            ids = await self._store.announcements.digest_items(person_id, mode, slot)
            lines: list[Text | str] = []
            topics: set[str] = set()
            for announcement_id in ids:
                announcement = await self._store.announcements.get(announcement_id)
                topic = await self._store.topics.get(announcement.topic_id) if announcement else None
                if announcement is None or topic is None or announcement.state is AnnouncementState.CANCELLED:
                    continue
                subscribed = await self._store.subscriptions.get(person_id, topic.id) is not None
                if not may_receive(topic, caller.role, caller.coordinated, subscribed=subscribed):
                    continue
                text = announcement.text if len(announcement.text) <= EXCERPT \
                    else announcement.text[:EXCERPT].rsplit(" ", 1)[0] + " …"
                lines.append(_("• {topic}: {text}", topic=topic.slug, text=text))
                topics.add(topic.slug)
            key = f"digest:{person_id}:{mode.value}:{slot.isoformat()}"
            async with self._store.transaction():
                if lines:
                    title = _("Your daily digest") if mode is DeliveryMode.DAILY else _("Your weekly digest")
                    actions = tuple(Action(_("Switch {topic} to immediate", topic=slug),
                                           f"subscribe {slug} mode:immediate") for slug in sorted(topics)[:3])
                    await self._notifier.to_people(
                        [person_id],
                        Message(title=title, body=(_n("{n} announcement:", "{n} announcements:", len(lines)),
                                                   *lines), actions=actions),
                        key=key, kind="digest")
                    queued += 1
                await self._store.announcements.mark_digested(person_id, ids, key)
        return queued
