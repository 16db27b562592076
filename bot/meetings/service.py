"""Meetings: series in local wall-clock time, occurrences materialised as UTC instants, RSVPs, reminders
through the outbox, and cancel/reschedule notices to the same audience.

Reminders are outbox rows created *when due* (not when the meeting is created), so people who subscribe or
answer later are included and the delivery worker re-checks access at send time. Each (occurrence, start,
offset) is claimed once in ``meeting_reminders``: after downtime a reminder whose time passed while the
meeting has not started goes out at once marked late, unless a reminder closer to the start is due within
15 minutes (then it is recorded as superseded); one for a meeting already started is recorded as missed (a
``skipped`` outbox row with the reason) — never silent, never twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.channels.model import ChannelBinding
from bot.commands.context import Caller
from bot.delivery.model import Delivery, NewDelivery
from bot.errors import PermissionDenied, UserError
from bot.i18n import Text, _, encode_text
from bot.meetings.model import (
    Answer,
    Meeting,
    MeetingConfig,
    MeetingInput,
    MeetingState,
    NewMeeting,
    Occurrence,
    OccurrenceState,
    epoch,
)
from bot.meetings.recurrence import MAX_OFFSET, describe_rule, expand, format_offset, local_of, parse_rule
from bot.meetings.reminders import build_reminder
from bot.messages import Message, stamp
from bot.model import Role
from bot.ports import Clock, Store
from bot.subscriptions.model import DeliveryMode
from bot.topics.access import can_see, coordinates, may_receive
from bot.topics.model import Topic, Visibility
from bot.untrusted import neutralise_mentions

REMINDER_KIND = "reminder"
NOTICE_KIND = "meeting-notice"
DEFAULT_REMIND = (24 * 60, 60)
MAX_DURATION = timedelta(hours=24)
SUPERSEDE_WITHIN = timedelta(minutes=15)
"""A late reminder is not sent when a reminder closer to the start falls due within this (or already has)."""
FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Changed = Callable[[int], Awaitable[None]]


async def _no_change(_meeting_id: int) -> None:
    return None


MATERIALISE_LIMIT = 1000


class MeetingService:
    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None], config: MeetingConfig,
                 coalition_slug: str = "coalition") -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._config = config
        self._changed: Changed = _no_change
        self.coalition_slug = coalition_slug

    def on_change(self, changed: Changed) -> None:
        """Called with a meeting's id after it changed (the scheduler re-arms its wake-up)."""
        self._changed = changed

    @property
    def store(self) -> Store:
        return self._store

    @property
    def config(self) -> MeetingConfig:
        return self._config

    # --- lookup and permission ------------------------------------------------------------------------

    async def visible(self, caller: Caller, meeting_id: int) -> tuple[Meeting, Topic]:
        meeting = await self._store.meetings.get(meeting_id)
        topic = await self._store.topics.get(meeting.topic_id) if meeting else None
        if meeting is None or topic is None or not await self._can_see(caller, topic):
            raise UserError(_("There is no meeting #{id}.", id=meeting_id))
        return meeting, topic

    async def coordinated(self, caller: Caller, meeting_id: int) -> tuple[Meeting, Topic]:
        meeting, topic = await self.visible(caller, meeting_id)
        if not coordinates(caller.role, caller.coordinated, topic):
            raise PermissionDenied(Role.COORDINATOR, topic.slug)
        return meeting, topic

    async def _can_see(self, caller: Caller, topic: Topic) -> bool:
        subscribed = await self._store.subscriptions.get(caller.person.id, topic.id) is not None
        invited = topic.visibility is Visibility.PRIVATE and \
            await self._store.subscriptions.is_invited(caller.person.id, topic.id)
        return can_see(topic, caller.role, caller.coordinated, subscribed=subscribed, invited=invited)

    # --- create and materialise -----------------------------------------------------------------------

    def validate(self, data: MeetingInput) -> tuple[datetime, str | None]:
        """The naive local start and the RRULE body; raises :class:`UserError` for anything refused."""
        now = self._clock.now()
        if data.start <= now:
            raise UserError(_("A meeting must start in the future."))
        if data.start - now > self._config.max_ahead:
            raise UserError(_("A meeting can start at most a year ahead."))
        if data.duration <= timedelta(0) or data.duration > MAX_DURATION:
            raise UserError(_("A meeting lasts between 1 minute and 24 hours."))
        if data.link is not None and not re.match(r"^https?://[^\s/]+", data.link, re.IGNORECASE):
            raise UserError(_("The link must start with http:// or https://, not “{link}”.", link=data.link))
        if not data.title.strip():
            raise UserError(_("The meeting needs a title."), show_usage=True)
        local = local_of(data.start, ZoneInfo(data.zone))
        rule = parse_rule(data.repeat, local, ZoneInfo(data.zone)) if data.repeat else None
        return local, rule

    async def create(self, caller: Caller, topic: Topic, data: MeetingInput) -> Meeting:
        local, rule = self.validate(data)
        now = self._clock.now()
        title = neutralise_mentions(data.title).strip()[:200]
        async with self._store.transaction():
            meeting = await self._store.meetings.create(
                NewMeeting(topic_id=topic.id, author_id=caller.person.id, title=title, start_local=local,
                           zone=data.zone, duration_minutes=int(data.duration.total_seconds() // 60), rrule=rule,
                           link=data.link, remind_minutes=data.remind_minutes), now)
            await self.materialise(meeting, now, fresh=True)
            await self._store.audit.record(caller.person.id, "meeting.create", f"meeting:{meeting.id}", None,
                                           json.dumps({"topic": topic.slug, "title": title, "start": local.isoformat(),
                                                       "zone": data.zone, "rrule": rule}), now)
        await self._changed(meeting.id)
        return meeting

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
            await self._settle_past(meeting, occurrence, now)

    async def _settle_past(self, meeting: Meeting, occurrence: Occurrence, now: datetime) -> None:
        """A reminder whose time had passed before the occurrence was created or moved was never due: it is
        recorded as such, not sent "late" (a meeting created 3 h ahead gets its 1 h reminder only)."""
        for offset in meeting.remind_minutes:
            if occurrence.start - timedelta(minutes=offset) <= now < occurrence.start:
                await self._store.meetings.record_reminder(occurrence, offset, "not-due", now)

    # --- the periodic part ----------------------------------------------------------------------------

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
                outcome = "missed" if occurrence.start <= now else \
                    "late" if now - due > self._config.late_grace else "sent"
                # After downtime a late reminder is dropped when one closer to the start is due now or soon:
                # people should not get the 24-hour and the 1-hour reminder in the same minute.
                if outcome == "late" and any(occurrence.start - timedelta(minutes=closer) <= now + SUPERSEDE_WITHIN
                                             for closer in meeting.remind_minutes if closer < offset):
                    outcome = "superseded"
                async with self._store.transaction():
                    if not await self._store.meetings.record_reminder(occurrence, offset, outcome, now):
                        continue
                    if outcome == "missed":
                        await self._record_missed(meeting, occurrence, offset, now)
                    elif outcome != "superseded":
                        queued += await self._queue_reminder(meeting, occurrence, offset, outcome == "late", now)
        if queued:
            self._wake()
        return queued

    async def _record_missed(self, meeting: Meeting, occurrence: Occurrence, offset: int, now: datetime) -> None:
        key = f"meet:{meeting.id}:{epoch(occurrence.original_start)}:{epoch(occurrence.start)}:{offset}:missed"
        await self._store.meetings.record_skipped_delivery(
            key, meeting.author_id, meeting.topic_id, json.dumps(self._payload(occurrence, offset, late=True)),
            encode_text(_("missed: the bot was offline when the {offset} reminder was due and the meeting had "
                          "already started", offset=format_offset(offset))), now)

    async def _queue_reminder(self, meeting: Meeting, occurrence: Occurrence, offset: int, late: bool,
                              now: datetime) -> int:
        topic = await self._store.topics.get(meeting.topic_id)
        if topic is None or topic.archived:
            return 0
        people, channels = await self._audience(meeting, topic, occurrence)
        base = f"meet:{meeting.id}:{epoch(occurrence.original_start)}:{epoch(occurrence.start)}:{offset}"
        payload = self._payload(occurrence, offset, late=late)
        rows = [NewDelivery(dedupe_key=f"{base}:person:{person_id}", kind=REMINDER_KIND,
                            payload=json.dumps({**payload, "target": "dm"}), not_before=now, person_id=person_id,
                            topic_id=topic.id) for person_id in people]
        rows += [NewDelivery(dedupe_key=f"{base}:channel:{c.platform}:{c.channel_id}", kind=REMINDER_KIND,
                             payload=json.dumps({**payload, "target": "channel"}), not_before=now,
                             platform=c.platform, channel_id=c.channel_id, topic_id=topic.id) for c in channels]
        return await self._store.outbox.enqueue(rows, now)

    def _payload(self, occurrence: Occurrence, offset: int, *, late: bool) -> dict[str, object]:
        return {"meeting": occurrence.meeting_id, "original": epoch(occurrence.original_start),
                "start": epoch(occurrence.start), "offset": offset, "late": late}

    async def _audience(self, meeting: Meeting, topic: Topic,
                        occurrence: Occurrence | None) -> tuple[list[int], list[ChannelBinding]]:
        """Immediate subscribers and everyone who answered yes or maybe (DM), and the topic's channels.
        A "no" gets nothing. ``occurrence`` None: the whole series (any yes/maybe, an answer-for-all no)."""
        answers = await self.answers(meeting.id, occurrence)
        people = [s.person_id for s in await self._store.subscriptions.of_topic(topic.id)
                  if s.mode is DeliveryMode.IMMEDIATE and answers.get(s.person_id) is not Answer.NO]
        people += [person_id for person_id, answer in answers.items() if answer in (Answer.YES, Answer.MAYBE)]
        channels = await self._store.announcements.channels("topic", topic.id)
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

    # --- what the worker sends ------------------------------------------------------------------------

    async def build(self, delivery: Delivery) -> Message | None:
        """A reminder built at send time; None when the meeting or occurrence was cancelled or moved since."""
        return await build_reminder(self._store, delivery)

    # --- cancel and reschedule ------------------------------------------------------------------------

    async def find_occurrence(self, caller: Caller, meeting: Meeting, text: str) -> Occurrence:
        """The occurrence on a date (YYYY-MM-DD, read in the caller's zone) or ``next``."""
        now = self._clock.now()
        upcoming = [o for o in await self._store.meetings.occurrences(meeting.id, now)
                    if o.state is not OccurrenceState.CANCELLED]
        wanted = text.strip().lower()
        if wanted == "next":
            if upcoming:
                return upcoming[0]
        elif _DATE.match(wanted):
            try:
                day = date.fromisoformat(wanted)
            except ValueError:
                raise UserError(_("“{date}” is not a date. Write it as YYYY-MM-DD.", date=text)) from None
            for occurrence in upcoming:
                if occurrence.start.astimezone(caller.zone).date() == day \
                        or occurrence.original_start.astimezone(caller.zone).date() == day:
                    return occurrence
        else:
            raise UserError(_("“{date}” is not a date. Write it as YYYY-MM-DD.", date=text))
        raise UserError(_("Meeting #{id} has no upcoming occurrence on {date}.", id=meeting.id, date=text))

    async def cancel(self, caller: Caller, meeting_id: int, occurrence_text: str | None) -> Message:
        meeting, topic = await self.coordinated(caller, meeting_id)
        if meeting.state is MeetingState.CANCELLED:
            return Message(body=(_("Meeting #{id} is already cancelled.", id=meeting.id),))
        now = self._clock.now()
        if occurrence_text is None:
            async with self._store.transaction():
                await self._store.meetings.set_state(meeting.id, MeetingState.CANCELLED, now)
                await self._store.audit.record(caller.person.id, "meeting.cancel", f"meeting:{meeting.id}",
                                               "active", "cancelled", now)
                count = await self._notify(meeting, topic, None, f"cancel:{meeting.revision}", Message(
                    title=_("Meeting cancelled: {title}", title=meeting.title),
                    body=(_("Every occurrence of meeting #{id} is cancelled.", id=meeting.id),),
                    footer=_("Topic “{topic}”", topic=topic.slug)))
            await self._changed(meeting.id)
            return Message(body=(_("Meeting #{id} is cancelled; {n} notices are on their way.", id=meeting.id,
                                   n=count),))
        occurrence = await self.find_occurrence(caller, meeting, occurrence_text)
        async with self._store.transaction():
            await self._store.meetings.set_occurrence(meeting.id, occurrence.original_start, occurrence.start,
                                                      OccurrenceState.CANCELLED)
            await self._store.audit.record(caller.person.id, "meeting.cancel-occurrence", f"meeting:{meeting.id}",
                                           occurrence.start.isoformat(), "cancelled", now)
            count = await self._notify(meeting, topic, occurrence, f"cancel:{epoch(occurrence.original_start)}",
                                       Message(title=_("Meeting cancelled: {title}", title=meeting.title),
                                               body=(_("The meeting on {time} is cancelled; the series goes on.",
                                                       time=stamp(occurrence.start)),),
                                               footer=_("Topic “{topic}”", topic=topic.slug)))
        await self._changed(meeting.id)
        return Message(body=(_("The meeting on {time} is cancelled; {n} notices are on their way.",
                               time=stamp(occurrence.start), n=count),))

    async def reschedule(self, caller: Caller, meeting_id: int, new_start: datetime,
                         occurrence_text: str | None) -> Message:
        meeting, topic = await self.coordinated(caller, meeting_id)
        if meeting.state is MeetingState.CANCELLED:
            raise UserError(_("Meeting #{id} is cancelled; it cannot be moved.", id=meeting.id))
        now = self._clock.now()
        if new_start <= now:
            raise UserError(_("A meeting must start in the future."))
        if occurrence_text is not None:
            occurrence = await self.find_occurrence(caller, meeting, occurrence_text)
            moved = Occurrence(meeting.id, occurrence.original_start, new_start, OccurrenceState.MOVED)
            async with self._store.transaction():
                await self._store.meetings.set_occurrence(meeting.id, occurrence.original_start, new_start,
                                                          OccurrenceState.MOVED)
                await self._settle_past(meeting, moved, now)
                await self._store.audit.record(caller.person.id, "meeting.move-occurrence", f"meeting:{meeting.id}",
                                               occurrence.start.isoformat(), new_start.isoformat(), now)
                count = await self._notify(meeting, topic, occurrence, f"move:{epoch(occurrence.original_start)}:"
                                           f"{epoch(new_start)}", Message(
                                               title=_("Meeting moved: {title}", title=meeting.title),
                                               body=(_("The meeting on {old} now takes place {new}.",
                                                       old=stamp(occurrence.start), new=stamp(new_start)),),
                                               footer=_("Topic “{topic}”", topic=topic.slug)))
            await self._changed(meeting.id)
            return Message(body=(_("Moved to {time}; {n} notices are on their way.", time=stamp(new_start),
                                   n=count),))
        local = local_of(new_start, meeting.tz)
        if meeting.rrule is not None:
            parse_rule(meeting.rrule, local, meeting.tz)  # the rule must still occur from the new start
        async with self._store.transaction():
            await self._store.meetings.set_start(meeting.id, local)
            await self._store.meetings.drop_future(meeting.id, now)
            fresh = await self._store.meetings.get(meeting.id)
            assert fresh is not None
            await self.materialise(fresh, now, fresh=True)
            await self._store.audit.record(caller.person.id, "meeting.reschedule", f"meeting:{meeting.id}",
                                           meeting.start_local.isoformat(), local.isoformat(), now)
            first = await self._store.meetings.occurrences(meeting.id, now, 1)
            when = stamp(first[0].start) if first else stamp(new_start)
            body = _("Meeting #{id} now starts {time}, repeating {rule}.", id=meeting.id, time=when,
                     rule=describe_rule(meeting.rrule)) if meeting.rrule else \
                _("Meeting #{id} now takes place {time}.", id=meeting.id, time=when)
            count = await self._notify(meeting, topic, None, f"reschedule:{fresh.revision}", Message(
                title=_("Meeting moved: {title}", title=meeting.title), body=(body,),
                footer=_("Topic “{topic}”", topic=topic.slug)))
        await self._changed(meeting.id)
        return Message(body=(body, _("{n} notices are on their way.", n=count)))

    async def _notify(self, meeting: Meeting, topic: Topic, occurrence: Occurrence | None, key: str,
                      message: Message) -> int:
        """Queue a notice to the reminders' audience (immediate subscribers, yes/maybe, topic channels)."""
        now = self._clock.now()
        people, channels = await self._audience(meeting, topic, occurrence)
        payload = json.dumps(message.to_json(), ensure_ascii=False)
        base = f"meet:{meeting.id}:{key}"
        rows = [NewDelivery(dedupe_key=f"{base}:person:{p}", kind=NOTICE_KIND, payload=payload, not_before=now,
                            person_id=p, topic_id=topic.id) for p in people]
        rows += [NewDelivery(dedupe_key=f"{base}:channel:{c.platform}:{c.channel_id}", kind=NOTICE_KIND,
                             payload=payload, not_before=now, platform=c.platform, channel_id=c.channel_id,
                             topic_id=topic.id) for c in channels]
        added = await self._store.outbox.enqueue(rows, now)
        if added:
            self._wake()
        return added

    # --- RSVP -----------------------------------------------------------------------------------------

    async def next_occurrence(self, meeting: Meeting) -> Occurrence | None:
        now = self._clock.now()
        for occurrence in await self._store.meetings.occurrences(meeting.id, now, 50):
            if occurrence.state is not OccurrenceState.CANCELLED and occurrence.start > now:
                return occurrence
        return None

    async def rsvp(self, caller: Caller, meeting_id: int, answer: Answer, every: bool) -> Message:
        meeting, _topic = await self.visible(caller, meeting_id)
        if meeting.state is MeetingState.CANCELLED:
            raise UserError(_("Meeting #{id} is cancelled.", id=meeting.id))
        now = self._clock.now()
        label = answer_label(answer)
        if every:
            await self._store.meetings.put_rsvp(meeting.id, caller.person.id, None, answer, now)
            return Message(body=(_("You answered {answer} for every meeting of “{title}”.", answer=label,
                                   title=meeting.title),))
        occurrence = await self.next_occurrence(meeting)
        if occurrence is None:
            raise UserError(_("Meeting #{id} has no upcoming occurrence.", id=meeting.id))
        await self._store.meetings.put_rsvp(meeting.id, caller.person.id, occurrence.original_start, answer, now)
        return Message(body=(_("You answered {answer} for “{title}” on {time}.", answer=label, title=meeting.title,
                               time=stamp(occurrence.start)),))

    # --- digests ---------------------------------------------------------------------------------------

    async def digest_lines(self, person_id: int, caller: Caller, mode: DeliveryMode) -> list[Text]:
        """Upcoming meetings of the topics this person follows by ``mode`` digest, for their digest."""
        now = self._clock.now()
        topic_ids = [s.topic_id for s in await self._store.subscriptions.of_person(person_id) if s.mode is mode]
        if not topic_ids:
            return []
        span = timedelta(days=1 if mode is DeliveryMode.DAILY else 7) + timedelta(hours=1)
        lines: list[Text] = []
        for meeting, occurrence in (await self._store.meetings.upcoming(now, now + span, topic_ids))[:20]:
            topic = await self._store.topics.get(meeting.topic_id)
            if topic is None or not may_receive(topic, caller.role, caller.coordinated, subscribed=True):
                continue
            lines.append(_("• {time} — {title} ({topic}), meeting #{id}", time=stamp(occurrence.start),
                           title=meeting.title, topic=topic.slug, id=meeting.id))
        return lines


def answer_label(answer: Answer) -> Text:
    return {Answer.YES: _("yes"), Answer.NO: _("no"), Answer.MAYBE: _("maybe")}[answer]

