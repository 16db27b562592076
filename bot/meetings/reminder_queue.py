"""Occurrences stored for the rolling window, and reminders queued when they fall due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.channels.model import ChannelBinding, ChannelPurpose
from bot.clock import Clock
from bot.delivery.model import Delivery, DeliveryKind, NewDelivery
from bot.i18n import _, encode_text, exact_duration
from bot.meetings.model import Answer, Meeting, MeetingConfig, Occurrence, OccurrenceState, ReminderOutcome, epoch
from bot.meetings.payloads import ReminderPayload, ReminderTarget
from bot.meetings.recurrence import MAX_OFFSET, expand
from bot.meetings.reminders import build_reminder
from bot.messages import Message
from bot.ports import Store
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Topic

REMINDER_EXPIRED = _("no longer relevant: the meeting had started")
"""Why a reminder row that could not go before its meeting started is ``missed`` (rows expire at the start)."""
SUPERSEDE_WITHIN = timedelta(minutes=15)
"""A late reminder is not sent when a reminder closer to the start falls due within this (or already has)."""
FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)
MATERIALISE_LIMIT = 1000


class ReminderQueue:
    """The meetings' clockwork: stores each series' occurrences for the rolling window and queues every
    reminder when it falls due. The scheduler's wake-ups and the housekeeping poll both run :meth:`run_due`.

    Reminders are outbox rows created *when due* (not when the meeting is created), so people who subscribe
    or answer later are included and the delivery worker re-checks access at send time. Each (occurrence,
    start, offset) is claimed once in ``meeting_reminders``: after downtime a reminder whose time passed while
    the meeting has not started goes out at once marked late, unless a reminder closer to the start is due
    within 15 minutes (then it is recorded as superseded); one for a meeting already started is recorded as
    missed (a ``skipped`` outbox row with the reason) — never silent, never twice.
    """

    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None], config: MeetingConfig) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._config = config

    async def materialise(self, meeting: Meeting, now: datetime, *, fresh: bool = False) -> None:
        """Store the occurrences of the rolling window; reminders already past when an occurrence appears
        are settled (they were never due while it existed)."""
        tz = meeting.tz
        until = now + self._config.window
        if meeting.rrule is None:
            starts = expand(meeting.start_local, tz, None, now, FAR_FUTURE, 1)
            until = FAR_FUTURE
        else:
            after = now if fresh or meeting.materialised_until is None else meeting.materialised_until
            starts = expand(meeting.start_local, tz, meeting.rrule, after, until, MATERIALISE_LIMIT)
            if len(starts) == MATERIALISE_LIMIT:
                # Stored up to the last one only: the next extension continues from there, leaving no gap.
                until = starts[-1] + timedelta(seconds=1)
            if not starts and not await self._store.meetings.occurrences(meeting.id, now, 1):
                starts = expand(meeting.start_local, tz, meeting.rrule, after, FAR_FUTURE, 1)
                if starts:
                    until = starts[0] + timedelta(seconds=1)
        await self._store.meetings.materialise(meeting.id, starts, until)
        for start in starts:
            occurrence = Occurrence(meeting.id, start, start, OccurrenceState.SCHEDULED)
            await self.settle_past(meeting, occurrence, now)

    async def settle_past(self, meeting: Meeting, occurrence: Occurrence, now: datetime) -> None:
        """A reminder whose time had passed before the occurrence was created or moved was never due: it is
        recorded as such, not sent "late" (a meeting created 3 h ahead gets its 1 h reminder only). When
        every reminder is past (a meeting at short notice), the one closest to the start goes out now, once:
        otherwise nobody would be reminded at all."""
        past = [offset for offset in meeting.remind_minutes
                if occurrence.start - timedelta(minutes=offset) <= now < occurrence.start]
        if past and len(past) == len(meeting.remind_minutes):
            closest = min(past)
            past.remove(closest)
            if await self._store.meetings.record_reminder(occurrence, closest, ReminderOutcome.SENT, now) \
                    and await self._queue_reminder(meeting, occurrence, closest, False, now):
                self._wake()
        for offset in past:
            await self._store.meetings.record_reminder(occurrence, offset, ReminderOutcome.NOT_DUE, now)

    async def run_due(self) -> int:
        """Extend rolling windows and queue every reminder that is due; returns how many were queued."""
        now = self._clock.now()
        for meeting in await self._store.meetings.needing_materialisation(now + self._config.window / 2):
            async with self._store.transaction():
                await self.materialise(meeting, now)
        queued = 0
        since = now - self._config.lookback
        # Read once which reminders are done, so a poll costs one read and writes only for new ones.
        done = await self._store.meetings.processed_since(since)
        for meeting, occurrence in await self._store.meetings.upcoming(since, now + MAX_OFFSET + timedelta(minutes=1)):
            for offset in meeting.remind_minutes:
                due = occurrence.start - timedelta(minutes=offset)
                if due > now or (meeting.id, occurrence.original_start, occurrence.start, offset) in done:
                    continue
                outcome = ReminderOutcome.MISSED if occurrence.start <= now else \
                    ReminderOutcome.LATE if now - due > self._config.late_grace else ReminderOutcome.SENT
                # After downtime a late reminder is dropped when one closer to the start is due now or soon:
                # people should not get the 24-hour and the 1-hour reminder in the same minute.
                if outcome is ReminderOutcome.LATE and any(
                        occurrence.start - timedelta(minutes=closer) <= now + SUPERSEDE_WITHIN
                        for closer in meeting.remind_minutes if closer < offset):
                    outcome = ReminderOutcome.SUPERSEDED
                async with self._store.transaction():
                    if not await self._store.meetings.record_reminder(occurrence, offset, outcome, now):
                        continue
                    if outcome is ReminderOutcome.MISSED:
                        await self._record_missed(meeting, occurrence, offset, now)
                    elif outcome is not ReminderOutcome.SUPERSEDED:
                        queued += await self._queue_reminder(meeting, occurrence, offset,
                                                             outcome is ReminderOutcome.LATE, now)
        if queued:
            self._wake()
        return queued

    async def _record_missed(self, meeting: Meeting, occurrence: Occurrence, offset: int, now: datetime) -> None:
        key = f"meet:{meeting.id}:{epoch(occurrence.original_start)}:{epoch(occurrence.start)}:{offset}:missed"
        await self._store.meetings.record_skipped_delivery(
            key, meeting.author_id, meeting.topic_id, self._payload(occurrence, offset, late=True),
            encode_text(_("missed: the bot was offline when the {offset} reminder was due and the meeting had "
                          "already started", offset=exact_duration(offset * 60))), now)

    async def _queue_reminder(self, meeting: Meeting, occurrence: Occurrence, offset: int, late: bool,
                              now: datetime) -> int:
        topic = await self._store.topics.get(meeting.topic_id)
        if topic is None or topic.archived:
            return 0
        people, channels = await self.audience(meeting, topic, occurrence)
        base = f"meet:{meeting.id}:{epoch(occurrence.original_start)}:{epoch(occurrence.start)}:{offset}"
        payload = self._payload(occurrence, offset, late=late)
        to_person = replace(payload, target=ReminderTarget.DM)
        to_channel = replace(payload, target=ReminderTarget.CHANNEL)
        # A reminder that cannot go before the meeting starts is missed (and reported), never sent late.
        expires = occurrence.start
        rows = [NewDelivery(dedupe_key=f"{base}:person:{person_id}", kind=DeliveryKind.REMINDER,
                            payload=to_person, not_before=now, person_id=person_id, topic_id=topic.id,
                            expires_at=expires) for person_id in people]
        rows += [NewDelivery(dedupe_key=f"{base}:channel:{c.platform}:{c.channel_id}", kind=DeliveryKind.REMINDER,
                             payload=to_channel, not_before=now, platform=c.platform, channel_id=c.channel_id,
                             topic_id=topic.id, expires_at=expires)
                 for c in channels]
        return await self._store.outbox.enqueue(rows, now)

    def _payload(self, occurrence: Occurrence, offset: int, *, late: bool) -> ReminderPayload:
        return ReminderPayload(meeting_id=occurrence.meeting_id, original_start=occurrence.original_start,
                               start=occurrence.start, offset_minutes=offset, late=late)

    async def audience(self, meeting: Meeting, topic: Topic,
                       occurrence: Occurrence | None) -> tuple[list[int], list[ChannelBinding]]:
        """Immediate subscribers and everyone who answered yes or maybe (DM), and the topic's channels.
        A "no" gets nothing. ``occurrence`` None: the whole series (any yes/maybe, an answer-for-all no)."""
        answers = await self.answers(meeting.id, occurrence)
        people = [s.person_id for s in await self._store.subscriptions.of_topic(topic.id)
                  if s.mode is DeliveryMode.IMMEDIATE and answers.get(s.person_id) is not Answer.NO]
        people += [person_id for person_id, answer in answers.items() if answer in (Answer.YES, Answer.MAYBE)]
        channels = await self._store.channels.bound(ChannelPurpose.TOPIC, topic.id)
        return list(dict.fromkeys(people)), channels

    async def answers(self, meeting_id: int, occurrence: Occurrence | None) -> dict[int, Answer]:
        """Each person's answer for ``occurrence`` (their answer for it, else their answer for all)."""
        general: dict[int, Answer] = {}
        specific: dict[int, Answer] = {}
        for rsvp in await self._store.meetings.rsvps(meeting_id):
            if rsvp.occurrence is None:
                general[rsvp.person_id] = rsvp.answer
            elif occurrence is None:
                if rsvp.answer is not Answer.NO:
                    specific.setdefault(rsvp.person_id, rsvp.answer)
            elif rsvp.occurrence == occurrence.original_start:
                specific[rsvp.person_id] = rsvp.answer
        return {**general, **specific}

    async def build(self, delivery: Delivery) -> Message | None:
        """A reminder built at send time; None when the meeting or occurrence was cancelled or moved since."""
        return await build_reminder(self._store, delivery)
