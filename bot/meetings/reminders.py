"""The reminder a person or channel receives, built when the worker sends it (not when it was queued), so a
meeting cancelled or moved in between sends nothing stale."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.invoke import invoke
from bot.delivery.model import Delivery
from bot.i18n import Text, _, exact_duration
from bot.meetings.declarations import RSVP
from bot.meetings.model import Meeting, MeetingState, OccurrenceState, epoch
from bot.meetings.payloads import ReminderPayload, ReminderTarget
from bot.messages import Action, ActionStyle, Field, Message, stamp
from bot.ports import Store


async def build_reminder(store: Store, delivery: Delivery) -> Message | None:
    """A reminder built at send time; None when the meeting or occurrence was cancelled or moved since."""
    payload = ReminderPayload.from_json(delivery.payload)
    meeting = await store.meetings.get(payload.meeting_id)
    topic = await store.topics.get(meeting.topic_id) if meeting else None
    if meeting is None or topic is None or meeting.state is MeetingState.CANCELLED:
        return None
    original = payload.original_start
    occurrence = next((o for o in await store.meetings.occurrences(meeting.id, original - timedelta(
        days=400)) if o.original_start == original), None)
    if occurrence is None or occurrence.state is OccurrenceState.CANCELLED \
            or epoch(occurrence.start) != epoch(payload.start):
        return None
    body: list[Text | str] = [_("“{title}” starts {time} ({topic}).", title=meeting.title,
                                time=stamp(occurrence.start), topic=topic.slug)]
    if payload.late:
        body.append(_("This reminder is late: the bot was offline when it was due."))
    actions: tuple[Action, ...] = ()
    if payload.target is ReminderTarget.DM:
        actions = (Action(_("Yes"), invoke(RSVP, id=meeting.id, answer="yes"), ActionStyle.PRIMARY),
                   Action(_("Maybe"), invoke(RSVP, id=meeting.id, answer="maybe")),
                   Action(_("No"), invoke(RSVP, id=meeting.id, answer="no"), ActionStyle.DANGER))
    return Message(title=_("Reminder: {title}", title=meeting.title), body=tuple(body),
                   fields=_fields(meeting), actions=actions,
                   footer=_("Meeting #{id} · topic “{topic}”", id=meeting.id, topic=topic.slug))


def _fields(meeting: Meeting) -> tuple[Field, ...]:
    fields = [Field(_("Duration"), exact_duration(meeting.duration_minutes * 60))]
    if meeting.link:
        fields.append(Field(_("Link"), meeting.link))
    return tuple(fields)
