"""The demo coalition's meeting: a weekly working-group call, so ``make run`` shows reminders and RSVPs."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.meetings.model import MeetingConfig, NewMeeting
from bot.meetings.recurrence import expand, local_of
from bot.meetings.service import DEFAULT_REMIND
from bot.ports import Store


async def load_demo_meetings(store: Store, now: datetime, topic_id: int, author_id: int) -> None:
    """The demo coalition's disinformation working-group call: Tuesdays 14:00 Brussels time, from the
    Tuesday at least a week ahead (so the demo shows reminders to come, not ones already due)."""
    zone = ZoneInfo("Europe/Brussels")
    day = local_of(now, zone).date() + timedelta(days=7)
    day += timedelta(days=(1 - day.weekday()) % 7)
    start = datetime(day.year, day.month, day.day, 14, 0)  # noqa: DTZ001 - wall-clock time in ``zone``
    meeting = await store.meetings.create(NewMeeting(
        topic_id=topic_id, author_id=author_id, title="Disinformation working group call", start_local=start,
        zone=zone.key, duration_minutes=60, rrule="FREQ=WEEKLY;BYDAY=TU", link="https://meet.example.org/disinfo-wg",
        remind_minutes=DEFAULT_REMIND), now)
    until = now + MeetingConfig().window
    await store.meetings.materialise(meeting.id, expand(start, zone, meeting.rrule, now, until, 1000), until)
