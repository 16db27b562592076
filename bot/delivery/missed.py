"""Nothing missed silently: ``missed`` outbox rows (a reminder after its meeting started, a digest when the
next one was due) are summarised to the people responsible, one notice per topic, not one per row.

A topic's summary goes to its coordinators, or to the admins when it has none; rows with no topic (digests)
go to the admins. Recipients all may see the topic (coordinators and admins may see every topic they
coordinate), so a members-only or private topic's meeting titles reach nobody else. The summary is queued and
the rows stamped ``reported_at`` in one transaction: a restart neither reports a row twice nor loses it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.announcements.declarations import ANNOUNCE_STATUS
from bot.clock import Clock
from bot.commands.invoke import invoke
from bot.delivery.declarations import DELIVERY_STATUS
from bot.delivery.model import DeliveryKind, PayloadError
from bot.delivery.notify import Notifier
from bot.delivery.outcomes import MissedDelivery
from bot.delivery.status import reason_text
from bot.i18n import Msg, Text, _, _n, exact_duration
from bot.meetings.declarations import MEETING_SHOW
from bot.meetings.payloads import ReminderPayload
from bot.messages import Action, Message, stamp
from bot.model import Identity
from bot.ports import Store
from bot.topics.model import Topic

BATCH = 2000
PAGES = 10
"""Missed rows are read ``BATCH`` at a time, at most ``PAGES`` pages per run; more wait for the next run (and
get a summary of their own)."""
REMINDER_LINES = 15
"""Reminders listed one by one in a summary; the rest are counted."""
BUTTONS = 3


@dataclass
class _Grouped:
    """A topic's missed rows sorted by what they were: each reminder once, the rest counted."""

    reminders: dict[tuple[int, datetime, int], MissedDelivery] = field(default_factory=dict)
    announcements: dict[int, list[MissedDelivery]] = field(default_factory=dict)
    copies: dict[int, list[MissedDelivery]] = field(default_factory=dict)
    """An announcement's ``announcement-copy`` rows: told with it, never counted as more people."""
    digests: list[MissedDelivery] = field(default_factory=list)
    others: list[MissedDelivery] = field(default_factory=list)

    def add(self, row: MissedDelivery) -> None:
        reminder = _reminder_key(row) if row.kind is DeliveryKind.REMINDER else None
        if reminder is not None:
            self.reminders.setdefault(reminder, row)
        elif row.kind is DeliveryKind.ANNOUNCEMENT and row.announcement_id is not None:
            self.announcements.setdefault(row.announcement_id, []).append(row)
        elif row.kind is DeliveryKind.ANNOUNCEMENT_COPY and row.announcement_id is not None:
            self.copies.setdefault(row.announcement_id, []).append(row)
        elif row.kind is DeliveryKind.DIGEST:
            self.digests.append(row)
        else:
            self.others.append(row)


def _reminder_key(row: MissedDelivery) -> tuple[int, datetime, int] | None:
    """(meeting, occurrence start, offset) from a reminder's payload; None when it is not one."""
    try:
        payload = ReminderPayload.from_json(row.payload)
    except PayloadError:
        return None
    return payload.meeting_id, payload.start, payload.offset_minutes


class MissedReporter:
    """The housekeeping job that tells coordinators (or admins) what was missed."""

    def __init__(self, store: Store, clock: Clock, notifier: Notifier, wake: Callable[[], None],
                 admins: Iterable[Identity]) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier
        self._wake = wake
        self._admins = tuple(sorted(admins, key=str))

    async def run_due(self) -> int:
        """Summarise every missed row not reported yet; returns how many summaries were queued. Rows of a
        topic nobody could be told about (no coordinator, no admin known yet) stay for a later run."""
        store = self._store
        if not await store.delivery_reports.unreported_missed(1):
            return 0  # the usual case: no write lock taken every housekeeping tick
        queued = 0
        async with store.transaction():
            # Pages on past rows nobody can be told about yet, so a backlog of them never hides later ones.
            by_topic: dict[int | None, list[MissedDelivery]] = {}
            after = 0
            for _page in range(PAGES):
                page = await store.delivery_reports.unreported_missed(BATCH, after)
                for row in page:
                    by_topic.setdefault(row.topic_id, []).append(row)
                if len(page) < BATCH:
                    break
                after = page[-1].id
            reported: list[int] = []
            for topic_id, rows in by_topic.items():
                topic = await store.topics.get(topic_id) if topic_id is not None else None
                coordinators = await store.grants.coordinators_of(topic.id) if topic is not None else []
                recipients = coordinators or await store.grants.admins(self._admins)
                if not recipients:
                    continue
                message = await self._summary(topic, rows, to_admins=not coordinators)
                # The topic goes with the notice, so the worker re-checks each recipient may still see it; an
                # archived topic's posts are no longer received, but its coordinators must still hear of this.
                await self._notifier.to_people(
                    recipients, message, key=f"missed:{topic_id or 0}:{rows[0].id}",
                    topic_id=topic.id if topic is not None and not topic.archived else None)
                reported += [row.id for row in rows]
                queued += 1
            if reported:
                await store.delivery_reports.mark_reported(reported, self._clock.now())
        if queued:
            self._wake()  # again after the commit: the notifier rang while the rows were not yet visible
        return queued

    async def _summary(self, topic: Topic | None, rows: list[MissedDelivery], *, to_admins: bool) -> Message:
        grouped = _Grouped()
        for row in rows:
            grouped.add(row)
        body: list[Msg] = [_n("{n} message could not be sent in time and will not be sent:",
                              "{n} messages could not be sent in time and will not be sent:", len(rows))]
        body += await self._reminder_lines(grouped)
        announcements = sorted(grouped.announcements.keys() | grouped.copies.keys())
        for announcement_id in announcements:
            if counted := grouped.announcements.get(announcement_id):
                body.append(_n("• {n} copy of announcement #{id} — {reason}",
                               "• {n} copies of announcement #{id} — {reason}", len(counted), id=announcement_id,
                               reason=reason_text(counted[0].reason)))
            if extra := grouped.copies.get(announcement_id):
                body.append(_n("• {n} more copy of announcement #{id} on people's other accounts — {reason}",
                               "• {n} more copies of announcement #{id} on people's other accounts — {reason}",
                               len(extra), id=announcement_id, reason=reason_text(extra[0].reason)))
        if grouped.digests:
            body.append(_n("• {n} digest — {reason}", "• {n} digests — {reason}", len(grouped.digests),
                           reason=reason_text(grouped.digests[0].reason)))
        if grouped.others:
            body.append(_n("• {n} other message — {reason}", "• {n} other messages — {reason}",
                           len(grouped.others), reason=reason_text(grouped.others[0].reason)))
        body.append(_("To see more: “meeting show <number>” lists a meeting's missed reminders and “announce "
                      "status <number>” an announcement's copies; admins see every platform's queue with "
                      "“delivery status”."))
        meetings = sorted({meeting_id for meeting_id, _start, _offset in grouped.reminders})
        actions = [Action(_("Meeting #{id}", id=m), invoke(MEETING_SHOW, id=m)) for m in meetings[:BUTTONS]]
        actions += [Action(_("Report #{id}", id=a), invoke(ANNOUNCE_STATUS, id=a))
                    for a in announcements[:BUTTONS]]
        if to_admins:
            actions.append(Action(_("Delivery status"), invoke(DELIVERY_STATUS)))
        title: Text = _("Missed deliveries in “{topic}”", topic=topic.slug) if topic is not None \
            else _("Missed deliveries")
        return Message(title=title, body=tuple(body), actions=tuple(actions))

    async def _reminder_lines(self, grouped: _Grouped) -> list[Text]:
        lines: list[Text] = []
        titles: dict[int, str] = {}
        keys = sorted(grouped.reminders, key=lambda k: (k[1], k[0], -k[2]))
        for meeting_id, start, offset in keys[:REMINDER_LINES]:
            if meeting_id not in titles:
                meeting = await self._store.meetings.get(meeting_id)
                titles[meeting_id] = meeting.title if meeting is not None else "?"
            row = grouped.reminders[(meeting_id, start, offset)]
            lines.append(_("• {time}: the {offset} reminder of “{title}” (meeting #{id}) — {reason}",
                           time=stamp(start, "f"), offset=exact_duration(offset * 60),
                           title=titles[meeting_id], id=meeting_id, reason=reason_text(row.reason)))
        if len(keys) > REMINDER_LINES:
            extra = len(keys) - REMINDER_LINES
            lines.append(_n("… and {n} more missed reminder.", "… and {n} more missed reminders.", extra))
        return lines
