"""Announcements: draft with a preview, confirm now or at a time, fan-out to every target through the
outbox, edit or cancel everywhere the platform allows, and a delivery report.

A fan-out writes its few channel rows and the author's report row with the move to ``sending``, then the
subscribers' rows in short chunks (set-based, by person id), each its own transaction that moves a cursor
stored on the announcement: other commands get the database between chunks, a crash between chunks resumes
from the cursor, a cancel stops the chunks, and the announcement is never marked sent before the last chunk.

State: ``draft → scheduled → sending → sent`` or ``cancelled``; a scheduled one that fell due while the bot
was down longer than the grace period becomes ``missed`` and its author is told — never silent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.announcements.declarations import ANNOUNCE_CANCEL, ANNOUNCE_STATUS
from bot.announcements.fanout import FanOut
from bot.announcements.model import Announcement, AnnouncementState
from bot.announcements.payloads import AnnouncementPayload, AnnouncementTarget, ReportPayload
from bot.announcements.preview import NoEstimate, PaceEstimate, estimates
from bot.announcements.preview import preview as preview_message
from bot.announcements.report import delivery_report, state_label
from bot.audit import AuditAction
from bot.clock import Clock
from bot.commands.context import Caller
from bot.commands.invoke import invoke
from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, NewDelivery
from bot.delivery.notify import Notifier
from bot.delivery.payloads import ChangePayload
from bot.errors import PermissionDenied, UserError
from bot.i18n import Msg, Text, _, _n, encode_text
from bot.messages import Action, ActionStyle, Message, stamp
from bot.metrics import NO_METRICS, NO_PLATFORM, Metrics
from bot.model import Role
from bot.ports import Store
from bot.privacy.model import FORMER_MEMBER, FORMER_PERSON_ID
from bot.subscriptions.declarations import SUBSCRIBE, UNSUBSCRIBE
from bot.subscriptions.model import DeliveryMode
from bot.topics.access import coordinates
from bot.topics.model import Topic
from bot.topics.visibility import known_topic
from bot.untrusted import neutralise_mentions

OPEN = (AnnouncementState.DRAFT, AnnouncementState.SCHEDULED)
PROGRESS_INTERVAL = 10.0
"""Seconds between two edits of a live report: each edit is a request under the author's platform's limit, taken
from the fan-out it reports on (every 2 s cost Discord's 10,000-recipient fan-out about 0.5 % of its ceiling).
The last edit, when the fan-out finishes, always goes."""
SOURCE_TTL = 2.0
CONFIRM_GRACE = timedelta(minutes=5)  # a "send at 09:00" confirmed at 09:03 still goes out


@dataclass(frozen=True, slots=True)
class AnnouncementConfig:
    missed_grace: timedelta = timedelta(hours=6)
    max_ahead: timedelta = timedelta(days=366)
    fan_out_chunk: int = 5000
    """Subscribers written per fan-out transaction: ~20 ms of other commands' wait, ~20 chunks for 100,000."""


class AnnouncementService:
    def __init__(self, store: Store, clock: Clock, notifier: Notifier, wake: Callable[[], None],
                 config: AnnouncementConfig, estimate: PaceEstimate | None = None,
                 metrics: Metrics = NO_METRICS) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier
        self._wake = wake
        self._config = config
        self._estimate = estimate or NoEstimate()
        self._metrics = metrics
        self._last_progress: dict[int, float] = {}
        self._fan_out = FanOut(store, clock, wake, config.fan_out_chunk, self._fan_out_written)
        # A fan-out builds the same announcement thousands of times: keep it, its topic and author briefly.
        # Edits and cancels clear it, so a copy sent after an edit never carries the old text.
        self._sources: dict[int, tuple[float, Announcement, Topic | None, Msg]] = {}

    @property
    def config(self) -> AnnouncementConfig:
        return self._config

    # --- lookup and permission ------------------------------------------------------------------------

    async def coordinated(self, caller: Caller, announcement_id: int) -> tuple[Announcement, Topic]:
        announcement = await self._store.announcements.get(announcement_id)
        known = await known_topic(self._store.topics, caller, announcement.topic_id) if announcement else None
        if announcement is None or known is None:
            raise UserError(_("There is no announcement #{id}.", id=announcement_id))
        if not coordinates(caller.role, caller.coordinated, known.topic):
            if known.visible:
                raise PermissionDenied(Role.COORDINATOR, known.topic.slug)
            # A topic they cannot see: answer as if the announcement did not exist.
            raise UserError(_("There is no announcement #{id}.", id=announcement_id))
        return announcement, known.topic

    # --- draft, preview, confirm ----------------------------------------------------------------------

    async def draft(self, caller: Caller, topic: Topic, text: str, send_at: datetime | None) -> Announcement:
        text = neutralise_mentions(text).strip()
        if not text:
            raise UserError(_("The announcement has no text."), show_usage=True)
        now = self._clock.now()
        async with self._store.transaction():
            announcement = await self._store.announcements.create(topic.id, caller.person.id, text, send_at, now)
            await self._store.audit.record(caller.person.id, AuditAction.ANNOUNCE_DRAFT,
                                           f"announcement:{announcement.id}", None, topic.slug, now)
        return announcement

    async def preview(self, caller: Caller, announcement: Announcement, topic: Topic) -> Message:
        return await preview_message(self._store, self._estimate, caller, announcement, topic)

    async def confirm(self, caller: Caller, announcement_id: int) -> Message:
        """Send or schedule a draft. Its state is read inside the write transaction that changes it, so
        confirms sent at once (a double click, a retry) answer like confirms sent one after another."""
        async with self._store.transaction():
            outcome = await self._confirm(caller, announcement_id)
        if isinstance(outcome, Message):
            return outcome
        announcement, count = outcome
        await self._fan_out.write_audience(announcement)  # after the commit: in chunks, letting others in
        return Message(body=(_n("Announcement #{id} is on its way to {n} target.",
                                "Announcement #{id} is on its way to {n} targets.", count, id=announcement.id),),
                       actions=(Action(_("Delivery report"), invoke(ANNOUNCE_STATUS, id=announcement.id)),))

    async def _confirm(self, caller: Caller, announcement_id: int) -> Message | tuple[Announcement, int]:
        """A message when it ends here; else the announcement now ``sending`` and its targets (channels and
        subscribers, counted as of this transaction), whose subscribers' rows the caller writes once it has
        committed. Counted here, not from what the caller writes: a housekeeping resume may write them first."""
        announcement, topic = await self.coordinated(caller, announcement_id)
        if announcement.state is not AnnouncementState.DRAFT:
            return Message(body=(_("Announcement #{id} is already {state}.", id=announcement.id,
                                   state=state_label(announcement.state)),))
        if topic.archived:
            raise UserError(_("“{topic}” is archived; nothing more is sent to it.", topic=topic.slug))
        now = self._clock.now()
        if announcement.send_at is not None and announcement.send_at <= now - CONFIRM_GRACE:
            raise UserError(_("Announcement #{id} was to be sent at {time}, which has passed. Write it again "
                              "with a new time, or with when:now.", id=announcement.id,
                              time=stamp(announcement.send_at)))
        if announcement.send_at is not None and announcement.send_at > now:
            await self._store.announcements.transition(announcement.id, AnnouncementState.SCHEDULED,
                                                       [AnnouncementState.DRAFT], now)
            await self._store.audit.record(caller.person.id, AuditAction.ANNOUNCE_SCHEDULE,
                                           f"announcement:{announcement.id}", "draft", "scheduled", now)
            self._wake()
            return Message(body=(_("Announcement #{id} is scheduled for {time}.", id=announcement.id,
                                   time=stamp(announcement.send_at)),),
                           actions=(Action(_("Cancel"), invoke(ANNOUNCE_CANCEL, id=announcement.id),
                                           ActionStyle.DANGER),))
        count = await self._fan_out.begin(announcement, topic, expected=[AnnouncementState.DRAFT])
        if count is None:
            return Message(body=(_("Announcement #{id} is already {state}.", id=announcement.id,
                                   state=state_label(AnnouncementState.SENDING)),))
        await self._store.audit.record(caller.person.id, AuditAction.ANNOUNCE_SEND, f"announcement:{announcement.id}",
                                       "draft", "sending", now)
        return announcement, count + await self._fan_out.audience(topic.id)

    # --- fan-out --------------------------------------------------------------------------------------

    async def fan_out(self, announcement: Announcement, topic: Topic,
                      expected: list[AnnouncementState]) -> int:
        """Send: the move to ``sending`` with the channel and report rows, then the subscribers' rows in
        chunks; returns the number of targets (0 when another path moved it first)."""
        if topic.archived:  # archived after it was scheduled: tell the author instead of posting
            if await self._store.announcements.transition(announcement.id, AnnouncementState.CANCELLED, expected,
                                                          self._clock.now()):
                await self._notifier.to_people(
                    [announcement.author_id],
                    Message(title=_("Announcement #{id} was not sent", id=announcement.id),
                            body=(_("“{topic}” was archived before it was due.", topic=topic.slug),
                                  announcement.text)),
                    key=f"ann:{announcement.id}:archived")
            return 0
        count = await self._fan_out.begin(announcement, topic, expected)
        return 0 if count is None else count + await self._fan_out.write_audience(announcement)

    async def resume_fan_outs(self) -> int:
        """Finish fan-outs a crash left between chunks; returns rows written."""
        return await self._fan_out.resume()

    async def run_due(self) -> int:
        """Send scheduled announcements that are due; returns how many."""
        now = self._clock.now()
        sent = 0
        for announcement in await self._store.announcements.due(now):
            topic = await self._store.topics.get(announcement.topic_id)
            if topic is not None:
                await self.fan_out(announcement, topic, expected=[AnnouncementState.SCHEDULED])
                sent += 1
        return sent

    async def settle_sending(self) -> list[Delivery]:
        """Close every announcement being sent whose deliveries have all ended (the housekeeping backstop);
        returns the reports to update in place."""
        await self.resume_fan_outs()
        refresh: list[Delivery] = []
        for announcement in await self._store.announcements.in_state(AnnouncementState.SENDING):
            refresh += await self.settle(announcement.id)
        return refresh

    async def after_batch(self, batch: Sequence[Delivery]) -> list[Delivery]:
        """The worker's hook: settle each announcement the batch touched; returns the reports to update."""
        refresh: list[Delivery] = []
        for announcement_id in {d.announcement_id for d in batch if d.announcement_id is not None}:
            refresh += await self.settle(announcement_id)
        return refresh

    async def settle(self, announcement_id: int) -> list[Delivery]:
        """Mark the announcement sent once no delivery is open; returns its author's report to update in place
        (at most every couple of seconds, and always when it finishes).

        The count and the transition share one write transaction: an ``announce retry`` committing between
        them would otherwise be marked sent with its re-queued rows still open, and never get a final report.
        """
        async with self._store.transaction():
            finished = await self._store.outbox.open_for_announcement(announcement_id) == 0 \
                and await self._store.announcements.transition(announcement_id, AnnouncementState.SENT,
                                                               [AnnouncementState.SENDING], self._clock.now())
        if finished:
            self._fan_out.forget(announcement_id)
            return await self._report_to_update(announcement_id, final=True)
        return await self._report_to_update(announcement_id)

    async def _fan_out_written(self, announcement_id: int) -> None:
        """A fan-out's last chunk committed: settle it now rather than at the next housekeeping pass (the worker
        may have sent and settled every row already, finding the fan-out under way). The author's report, when it
        has gone out already, is brought up to date by an edit the worker sends as it would any other."""
        now = self._clock.now()
        edits = [NewDelivery(dedupe_key=f"ann:{announcement_id}:report:edit:{now.isoformat()}",
                             kind=DeliveryKind.EDIT, payload=ChangePayload(report.id), not_before=now,
                             person_id=report.person_id, platform=report.sent.platform if report.sent else None)
                 for report in await self.settle(announcement_id)]
        if edits:
            await self._store.outbox.enqueue(edits, now)
            self._wake()

    async def recent(self, topic_ids: list[int] | None) -> list[Announcement]:
        """The latest announcements of ``topic_ids`` (``None``: every topic), newest first."""
        return await self._store.announcements.recent(topic_ids)

    async def mark_missed(self) -> int:
        """At start: scheduled announcements overdue by more than the grace period are missed, not sent late."""
        now = self._clock.now()
        missed = 0
        for announcement in await self._store.announcements.due(now - self._config.missed_grace):
            if await self._store.announcements.transition(announcement.id, AnnouncementState.MISSED,
                                                          [AnnouncementState.SCHEDULED], now):
                missed += 1
                assert announcement.send_at is not None
                await self._notifier.to_people(
                    [announcement.author_id],
                    Message(title=_("Announcement #{id} was not sent", id=announcement.id),
                            body=(_("It was due at {time}, while the bot was down for longer than the grace "
                                    "period. Send it again with “announce new” if it is still useful.",
                                    time=stamp(announcement.send_at)), announcement.text)),
                    key=f"ann:{announcement.id}:missed")
        return missed

    # --- edit and cancel ------------------------------------------------------------------------------

    async def edit(self, caller: Caller, announcement_id: int, text: str) -> Message:
        announcement, _topic = await self.coordinated(caller, announcement_id)
        text = neutralise_mentions(text).strip()
        if announcement.state in (AnnouncementState.CANCELLED, AnnouncementState.MISSED):
            raise UserError(_("Announcement #{id} is {state}; it cannot be edited.", id=announcement.id,
                              state=state_label(announcement.state)))
        now = self._clock.now()
        self._sources.pop(announcement.id, None)
        async with self._store.transaction():
            await self._store.announcements.update_text(announcement.id, text, now)
            await self._store.audit.record(caller.person.id, AuditAction.ANNOUNCE_EDIT,
                                           f"announcement:{announcement.id}", announcement.text, text, now)
            copies = await self._propagate(announcement, DeliveryKind.EDIT, now)
        _queued, digested = await self._store.digests.counts(announcement.id)
        body: list[Text | str] = [_("Announcement #{id} updated.", id=announcement.id)]
        if copies:
            body.append(_n("{n} delivered copy is being updated.", "{n} delivered copies are being updated.",
                           copies))
        if digested:
            body.append(_n("{n} copy went out in a digest and cannot be changed.",
                           "{n} copies went out in digests and cannot be changed.", digested))
        return Message(body=tuple(body),
                       actions=(Action(_("Delivery report"), invoke(ANNOUNCE_STATUS, id=announcement.id)),))

    async def cancel(self, caller: Caller, announcement_id: int) -> Message:
        announcement, _topic = await self.coordinated(caller, announcement_id)
        if announcement.state in (AnnouncementState.CANCELLED, AnnouncementState.MISSED):
            return Message(body=(_("Announcement #{id} is already {state}.", id=announcement.id,
                                   state=state_label(announcement.state)),))
        now = self._clock.now()
        self._sources.pop(announcement.id, None)
        async with self._store.transaction():
            before = announcement.state
            await self._store.announcements.transition(announcement.id, AnnouncementState.CANCELLED,
                                                       list(AnnouncementState), now)
            stopped = await self._store.outbox.cancel_announcement(
                announcement.id, encode_text(_("the announcement was cancelled")), now)
            await self._store.digests.drop_undigested(announcement.id)
            self._fan_out.forget(announcement.id)
            removed = await self._propagate(announcement, DeliveryKind.DELETE, now)
            await self._store.audit.record(caller.person.id, AuditAction.ANNOUNCE_CANCEL,
                                           f"announcement:{announcement.id}", before.value, "cancelled", now)
        # The rows ended together, not one by one through the worker: counted here, once committed.
        self._metrics.delivery_finished(NO_PLATFORM, DeliveryStatus.CANCELLED.value, stopped.rows)
        body: list[Text | str] = [_("Announcement #{id} is cancelled.", id=announcement.id)]
        if stopped.counted:  # targets, as the confirm counted them: a person's extra copies are not more people
            body.append(_n("{n} delivery not yet sent was stopped.", "{n} deliveries not yet sent were stopped.",
                           stopped.counted))
        if removed:
            body.append(_n("{n} delivered copy is being removed.", "{n} delivered copies are being removed.",
                           removed))
        return Message(body=tuple(body))

    async def _propagate(self, announcement: Announcement, kind: DeliveryKind, now: datetime) -> int:
        """Queue an edit or delete for every copy delivered or being delivered (:meth:`FanOut.to_change`);
        returns how many."""
        fresh = await self._store.announcements.get(announcement.id)
        revision = fresh.revision if fresh else announcement.revision
        rows = [NewDelivery(dedupe_key=f"ann:{announcement.id}:{kind}:{revision}:{d.id}", kind=kind,
                            payload=ChangePayload(d.id), not_before=now, person_id=d.person_id,
                            platform=d.sent.platform if d.sent else d.platform, announcement_id=announcement.id)
                for d in await self._fan_out.to_change(announcement.id)]
        if rows:
            await self._store.outbox.enqueue(rows, now)
            self._wake()
        return len(rows)

    # --- what the worker sends ------------------------------------------------------------------------

    async def build(self, delivery: Delivery) -> Message | None:
        """The message for an announcement or report row, from the current text; None when cancelled."""
        if delivery.kind is DeliveryKind.REPORT:
            report = ReportPayload.from_json(delivery.payload)
            announcement = await self._store.announcements.get(report.announcement_id)
            return await self.report(announcement) if announcement else None
        payload = AnnouncementPayload.from_json(delivery.payload)
        announcement, topic, author = await self._source(payload.announcement_id)
        if announcement is None or topic is None or announcement.state is AnnouncementState.CANCELLED:
            return None
        actions: tuple[Action, ...] = ()
        if payload.target is AnnouncementTarget.DM:
            actions = (Action(_("Unsubscribe"), invoke(UNSUBSCRIBE, topic=topic.slug), ActionStyle.DANGER),
                       Action(_("Mute this topic"), invoke(SUBSCRIBE, topic=topic.slug, mode=DeliveryMode.CHANNEL)))
        return Message(title=_("{title} — announcement", title=topic.title), body=(announcement.text,),
                       footer=_("From {author} · topic “{topic}”", author=author, topic=topic.slug),
                       actions=actions)

    async def _source(self, announcement_id: int) -> tuple[Announcement | None, Topic | None, Msg]:
        cached = self._sources.get(announcement_id)
        if cached is not None and time.monotonic() - cached[0] < SOURCE_TTL:
            return cached[1], cached[2], cached[3]
        announcement = await self._store.announcements.get(announcement_id)
        if announcement is None:
            return None, None, "?"
        topic = await self._store.topics.get(announcement.topic_id)
        author = await self._store.people.get(announcement.author_id)
        # An erased author's announcements stay, signed as a former member (bot.privacy).
        name: Msg = author.display_name if author and author.id != FORMER_PERSON_ID else FORMER_MEMBER
        self._sources[announcement_id] = (time.monotonic(), announcement, topic, name)
        return announcement, topic, name

    async def report(self, announcement: Announcement) -> Message:
        if announcement.state is not AnnouncementState.SENDING:
            return await delivery_report(self._store, announcement)
        plan = await self._fan_out.plan(announcement)

        def left(still_open: int, total: int) -> tuple[float, float] | None:
            return self._time_left(plan, still_open, total)

        return await delivery_report(self._store, announcement, left)

    def _time_left(self, plan: dict[str | None, int], still_open: int, total: int) -> tuple[float, float] | None:
        """(seconds left, seconds in all) at each platform's current pace, platforms sending side by side: the
        copies still open are assumed spread over the platforms as the audience is."""
        if not plan or not total:
            return None
        planned = estimates(self._estimate, plan)
        share = estimates(self._estimate, {p: math.ceil(n * still_open / total) for p, n in plan.items()})
        return (max(share.values()), max(planned.values())) if planned and share else None

    async def _report_to_update(self, announcement_id: int, *, final: bool = False) -> list[Delivery]:
        """The author's delivered report DM, when it is due an update (at most every :data:`PROGRESS_INTERVAL`)."""
        now = time.monotonic()
        if not final and now - self._last_progress.get(announcement_id, 0.0) < PROGRESS_INTERVAL:
            return []
        self._last_progress[announcement_id] = now
        report = await self._store.outbox.by_key(f"ann:{announcement_id}:report")
        if report is None or report.sent is None:
            return []
        return [report]
