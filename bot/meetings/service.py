"""Meetings: series in local wall-clock time, occurrences materialised as UTC instants, RSVPs, and
cancel/reschedule notices to the reminders' audience. Reminders themselves are queued by
:class:`bot.meetings.reminder_queue.ReminderQueue`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.audit import AuditAction
from bot.clock import Clock
from bot.commands.autocomplete import Suggestion
from bot.commands.context import Caller
from bot.commands.invoke import invoke
from bot.commands.values import Occasion
from bot.delivery.model import DeliveryKind, NewDelivery
from bot.delivery.payloads import NoticePayload
from bot.errors import PermissionDenied, UserError
from bot.i18n import Text, _, _n
from bot.meetings.declarations import MEETING_SHOW
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
from bot.meetings.recurrence import describe_rule, expand, local_of, parse_rule
from bot.meetings.reminder_queue import FAR_FUTURE, ReminderQueue
from bot.messages import Action, Message, stamp
from bot.model import Role
from bot.ports import Store
from bot.subscriptions.model import DeliveryMode
from bot.topics.access import coordinates, may_receive
from bot.topics.model import Topic
from bot.topics.service import archived_error
from bot.topics.visibility import known_topic
from bot.untrusted import neutralise_mentions
from bot.when import Reading

DEFAULT_REMIND = (24 * 60, 60)
MAX_DURATION = timedelta(hours=24)

Changed = Callable[[int], Awaitable[None]]
"""Called with a meeting's id after it changed (the scheduler re-arms its wake-up)."""


class MeetingService:
    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None], config: MeetingConfig,
                 reminders: ReminderQueue, changed: Changed, coalition_slug: str = "coalition") -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._config = config
        self._reminders = reminders
        self._changed = changed
        self.coalition_slug = coalition_slug

    @property
    def config(self) -> MeetingConfig:
        return self._config

    async def run_due(self) -> int:
        """Extend rolling windows and queue every reminder that is due; returns how many were queued."""
        return await self._reminders.run_due()

    async def answers(self, meeting_id: int, occurrence: Occurrence | None) -> dict[int, Answer]:
        return await self._reminders.answers(meeting_id, occurrence)

    async def upcoming(self, topics: list[Topic], after: datetime,
                       until: datetime) -> list[tuple[Meeting, Occurrence]]:
        """Occurrences of ``topics``' meetings between ``after`` and ``until``, soonest first."""
        return await self._store.meetings.upcoming(after, until, [t.id for t in topics])

    async def occurrences(self, meeting: Meeting, since: datetime | None = None,
                          limit: int = 1000) -> list[Occurrence]:
        """The stored occurrences of ``meeting`` (from ``since``, at most ``limit``), soonest first."""
        return await self._store.meetings.occurrences(meeting.id, since, limit)

    async def for_calendar(self, topic: Topic, cancelled_since: datetime) -> list[tuple[Meeting, list[Occurrence]]]:
        """``topic``'s series for its calendar file, with series cancelled since ``cancelled_since``."""
        series = await self._store.meetings.for_calendar(topic.id, cancelled_since)
        return [(m, await self._store.meetings.occurrences(m.id)) for m in series]

    async def suggestions(self, topics: list[Topic]) -> list[Suggestion]:
        """Autocomplete candidates: the active meetings of ``topics`` (the ones a caller may see)."""
        by_id = {t.id: t for t in topics}
        meetings = await self._store.meetings.active(sorted(by_id)) if by_id else []
        return [Suggestion(f"#{m.id} {m.title} ({by_id[m.topic_id].slug})", str(m.id)) for m in meetings]

    # --- lookup and permission ------------------------------------------------------------------------

    async def visible(self, caller: Caller, meeting_id: int) -> tuple[Meeting, Topic]:
        meeting = await self._store.meetings.get(meeting_id)
        known = await known_topic(self._store.topics, caller, meeting.topic_id) if meeting else None
        if meeting is None or known is None or not known.visible:
            raise UserError(_("There is no meeting #{id}.", id=meeting_id))
        return meeting, known.topic

    async def coordinated(self, caller: Caller, meeting_id: int) -> tuple[Meeting, Topic]:
        """A meeting the caller may change. Not on an archived topic: its notices would reach nobody."""
        meeting, topic = await self.visible(caller, meeting_id)
        if not coordinates(caller.role, caller.coordinated, topic):
            raise PermissionDenied(Role.COORDINATOR, topic.slug)
        if topic.archived:
            raise archived_error(caller, topic)
        return meeting, topic

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
        local = data.wall_clock or local_of(data.start, data.zone)
        rule = parse_rule(data.repeat, local, data.zone) if data.repeat else None
        return local, rule

    async def create(self, caller: Caller, topic: Topic, data: MeetingInput) -> tuple[Meeting, int]:
        """The new series, and how many notices announce it (to the audience of a change)."""
        local, rule = self.validate(data)
        now = self._clock.now()
        title = neutralise_mentions(data.title).strip()[:200]
        async with self._store.transaction():
            meeting = await self._store.meetings.create(
                NewMeeting(topic_id=topic.id, author_id=caller.person.id, title=title, start_local=local,
                           zone=data.zone.key, duration_minutes=int(data.duration.total_seconds() // 60), rrule=rule,
                           link=data.link, remind_minutes=data.remind_minutes), now)
            # Announced before the occurrences are stored, so a reminder sent at once (short notice) follows it.
            count = await self._notify(meeting, topic, None, "create", _announcement(meeting, topic, now))
            await self._reminders.materialise(meeting, now, fresh=True)
            await self._store.audit.record(caller.person.id, AuditAction.MEETING_CREATE, f"meeting:{meeting.id}", None,
                                           json.dumps({"topic": topic.slug, "title": title, "start": local.isoformat(),
                                                       "zone": data.zone.key, "rrule": rule}), now)
        await self._changed(meeting.id)
        return meeting, count

    # --- cancel and reschedule ------------------------------------------------------------------------

    async def find_occurrence(self, meeting: Meeting, occasion: Occasion) -> Occurrence:
        """The occurrence ``occasion`` names: the next one, or one on its day (in its zone). Among several that
        day, the one starting at its time."""
        now = self._clock.now()
        upcoming = [o for o in await self._store.meetings.occurrences(meeting.id, now)
                    if o.state is not OccurrenceState.CANCELLED]
        if occasion.day is None:
            if upcoming:
                return upcoming[0]
            raise UserError(_("Meeting #{id} has no upcoming occurrence.", id=meeting.id))
        zone = occasion.zone
        same_day = [o for o in upcoming if occasion.day in (o.start.astimezone(zone).date(),
                                                            o.original_start.astimezone(zone).date())]
        for occurrence in same_day:
            if occasion.at in (occurrence.start, occurrence.original_start):
                return occurrence
        if same_day:
            return same_day[0]
        raise UserError(_("Meeting #{id} has no upcoming occurrence on {date}.", id=meeting.id,
                          date=occasion.text))

    async def cancel(self, caller: Caller, meeting_id: int, occasion: Occasion | None) -> Message:
        meeting, topic = await self.coordinated(caller, meeting_id)
        if meeting.state is MeetingState.CANCELLED:
            return Message(body=(_("Meeting #{id} is already cancelled.", id=meeting.id),))
        now = self._clock.now()
        if occasion is None:
            async with self._store.transaction():
                await self._store.meetings.set_state(meeting.id, MeetingState.CANCELLED, now)
                await self._store.audit.record(caller.person.id, AuditAction.MEETING_CANCEL, f"meeting:{meeting.id}",
                                               "active", "cancelled", now)
                count = await self._notify(meeting, topic, None, f"cancel:{meeting.revision}", Message(
                    title=_("Meeting cancelled: {title}", title=meeting.title),
                    body=(_("Every occurrence of meeting #{id} is cancelled.", id=meeting.id),),
                    footer=_("Topic “{topic}”", topic=topic.slug)))
            await self._changed(meeting.id)
            return Message(body=(_n("Meeting #{id} is cancelled; {n} notice is on its way.",
                                    "Meeting #{id} is cancelled; {n} notices are on their way.", count,
                                    id=meeting.id),))
        occurrence = await self.find_occurrence(meeting, occasion)
        async with self._store.transaction():
            await self._store.meetings.set_occurrence(meeting.id, occurrence.original_start, occurrence.start,
                                                      OccurrenceState.CANCELLED)
            await self._store.audit.record(caller.person.id, AuditAction.MEETING_CANCEL_OCCURRENCE,
                                           f"meeting:{meeting.id}", occurrence.start.isoformat(), "cancelled", now)
            count = await self._notify(meeting, topic, occurrence, f"cancel:{epoch(occurrence.original_start)}",
                                       Message(title=_("Meeting cancelled: {title}", title=meeting.title),
                                               body=(_("The meeting on {time} is cancelled; the series goes on.",
                                                       time=stamp(occurrence.start)),),
                                               footer=_("Topic “{topic}”", topic=topic.slug)))
        await self._changed(meeting.id)
        return Message(body=(_n("The meeting on {time} is cancelled; {n} notice is on its way.",
                                "The meeting on {time} is cancelled; {n} notices are on their way.", count,
                                time=stamp(occurrence.start)),))

    async def reschedule(self, caller: Caller, meeting_id: int, new: Reading,
                         occasion: Occasion | None) -> Message:
        """Move the series (its wall-clock start, in its own zone) or one occurrence to ``new``."""
        meeting, topic = await self.coordinated(caller, meeting_id)
        if meeting.state is MeetingState.CANCELLED:
            raise UserError(_("Meeting #{id} is cancelled; it cannot be moved.", id=meeting.id))
        now = self._clock.now()
        new_start = new.instant
        if new_start <= now:
            raise UserError(_("A meeting must start in the future."))
        if occasion is not None:
            occurrence = await self.find_occurrence(meeting, occasion)
            moved = Occurrence(meeting.id, occurrence.original_start, new_start, OccurrenceState.MOVED)
            async with self._store.transaction():
                await self._store.meetings.set_occurrence(meeting.id, occurrence.original_start, new_start,
                                                          OccurrenceState.MOVED)
                await self._reminders.settle_past(meeting, moved, now)
                await self._store.audit.record(caller.person.id, AuditAction.MEETING_MOVE_OCCURRENCE,
                                               f"meeting:{meeting.id}",
                                               occurrence.start.isoformat(), new_start.isoformat(), now)
                count = await self._notify(meeting, topic, occurrence, f"move:{epoch(occurrence.original_start)}:"
                                           f"{epoch(new_start)}", Message(
                                               title=_("Meeting moved: {title}", title=meeting.title),
                                               body=(_("The meeting on {old} now takes place {new}.",
                                                       old=stamp(occurrence.start), new=stamp(new_start)),),
                                               footer=_("Topic “{topic}”", topic=topic.slug)))
            await self._changed(meeting.id)
            return Message(body=(_n("Moved to {time}; {n} notice is on its way.",
                                    "Moved to {time}; {n} notices are on their way.", count, time=stamp(new_start)),))
        local = series_start(new, meeting)
        if meeting.rrule is not None:
            parse_rule(meeting.rrule, local, meeting.tz)  # the rule must still occur from the new start
        async with self._store.transaction():
            await self._store.meetings.set_start(meeting.id, local)
            await self._store.meetings.drop_future(meeting.id, now)
            fresh = await self._store.meetings.get(meeting.id)
            assert fresh is not None
            await self._reminders.materialise(fresh, now, fresh=True)
            await self._store.audit.record(caller.person.id, AuditAction.MEETING_RESCHEDULE, f"meeting:{meeting.id}",
                                           meeting.start_local.isoformat(), local.isoformat(), now)
            first = await self._store.meetings.occurrences(meeting.id, now, 1)
            when = stamp(first[0].start) if first else stamp(new_start)
            body = _("Meeting #{id} now starts {time}, repeating {rule}.", id=meeting.id, time=when,
                     rule=describe_rule(meeting.rrule, local)) if meeting.rrule else \
                _("Meeting #{id} now takes place {time}.", id=meeting.id, time=when)
            count = await self._notify(meeting, topic, None, f"reschedule:{fresh.revision}", Message(
                title=_("Meeting moved: {title}", title=meeting.title), body=(body,),
                footer=_("Topic “{topic}”", topic=topic.slug)))
        await self._changed(meeting.id)
        return Message(body=(body, _n("{n} notice is on its way.", "{n} notices are on their way.", count)))

    async def _notify(self, meeting: Meeting, topic: Topic, occurrence: Occurrence | None, key: str,
                      message: Message) -> int:
        """Queue a notice to the reminders' audience (immediate subscribers, yes/maybe, topic channels)."""
        now = self._clock.now()
        people, channels = await self._reminders.audience(meeting, topic, occurrence)
        payload = NoticePayload(message)
        base = f"meet:{meeting.id}:{key}"
        kind = DeliveryKind.MEETING_NOTICE
        rows = [NewDelivery(dedupe_key=f"{base}:person:{p}", kind=kind, payload=payload, not_before=now,
                            person_id=p, topic_id=topic.id) for p in people]
        rows += [NewDelivery(dedupe_key=f"{base}:channel:{c.platform}:{c.channel_id}", kind=kind,
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


def series_start(new: Reading, meeting: Meeting) -> datetime:
    """The series' new wall-clock start: as typed when read in its own zone (a time in a DST gap stays the
    series' time on the other days), else ``new`` on its wall clock."""
    if new.typed is not None and new.zone.key == meeting.zone:
        return new.typed
    return local_of(new.instant, meeting.tz)


def _announcement(meeting: Meeting, topic: Topic, now: datetime) -> Message:
    """The notice of a new meeting or series, for the audience of its reminders."""
    first = expand(meeting.start_local, meeting.tz, meeting.rrule, now, FAR_FUTURE, 1)
    when = stamp(first[0]) if first else stamp(now)
    body = _("Meeting #{id} starts {time}, repeating {rule}.", id=meeting.id, time=when,
             rule=describe_rule(meeting.rrule, meeting.start_local)) if meeting.rrule else \
        _("Meeting #{id} takes place {time}.", id=meeting.id, time=when)
    return Message(title=_("New meeting: {title}", title=meeting.title), body=(body,),
                   actions=(Action(_("Show"), invoke(MEETING_SHOW, id=meeting.id)),),
                   footer=_("Topic “{topic}”", topic=topic.slug))


def answer_label(answer: Answer) -> Text:
    return {Answer.YES: _("yes"), Answer.NO: _("no"), Answer.MAYBE: _("maybe")}[answer]

