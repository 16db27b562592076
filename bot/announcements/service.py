"""Announcements: draft with a preview, confirm now or at a time, fan-out to every target through the
outbox in one transaction, edit or cancel everywhere the platform allows, and a delivery report.

State: ``draft → scheduled → sending → sent`` or ``cancelled``; a scheduled one that fell due while the bot
was down longer than the grace period becomes ``missed`` and its author is told — never silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.announcements.declarations import ANNOUNCE_CANCEL, ANNOUNCE_CONFIRM, ANNOUNCE_STATUS
from bot.announcements.model import Announcement, AnnouncementState
from bot.announcements.payloads import AnnouncementPayload, AnnouncementTarget, ReportPayload
from bot.announcements.report import delivery_report, state_label
from bot.audit import AuditAction
from bot.channels.model import ChannelPurpose
from bot.clock import Clock
from bot.commands.context import Caller, ZoneSource
from bot.commands.invoke import invoke
from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, NewDelivery
from bot.delivery.notify import Notifier
from bot.delivery.payloads import ChangePayload
from bot.errors import PermissionDenied, UserError
from bot.i18n import Text, _, _n, encode_text
from bot.messages import Action, ActionStyle, Field, Message, stamp
from bot.model import Role
from bot.ports import Store
from bot.subscriptions.declarations import SUBSCRIBE, UNSUBSCRIBE
from bot.subscriptions.model import DeliveryMode
from bot.topics.access import coordinates
from bot.topics.model import Topic, Visibility
from bot.topics.visibility import known_topic
from bot.untrusted import neutralise_mentions
from bot.when import format_local

OPEN = (AnnouncementState.DRAFT, AnnouncementState.SCHEDULED)
PROGRESS_INTERVAL = 2.0
SOURCE_TTL = 2.0
CONFIRM_GRACE = timedelta(minutes=5)  # a "send at 09:00" confirmed at 09:03 still goes out


@dataclass(frozen=True, slots=True)
class AnnouncementConfig:
    missed_grace: timedelta = timedelta(hours=6)
    max_ahead: timedelta = timedelta(days=366)


class AnnouncementService:
    def __init__(self, store: Store, clock: Clock, notifier: Notifier, wake: Callable[[], None],
                 config: AnnouncementConfig) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier
        self._wake = wake
        self._config = config
        self._last_progress: dict[int, float] = {}
        # A fan-out builds the same announcement thousands of times: keep it, its topic and author briefly.
        # Edits and cancels clear it, so a copy sent after an edit never carries the old text.
        self._sources: dict[int, tuple[float, Announcement, Topic | None, str]] = {}

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
        counts = await self._store.subscriptions.audience_counts(topic.id)
        fields = []
        for mode in DeliveryMode:
            per_platform = [f"{'?' if platform is None else platform} {n}" for m, platform, n in counts if m is mode]
            total = sum(n for m, _p, n in counts if m is mode)
            fields.append(Field(mode.label, _("{total} ({platforms})", total=total,
                                              platforms=", ".join(per_platform) or "—")))
        channels = await self._store.channels.bound(ChannelPurpose.TOPIC, topic.id)
        public = await self._store.channels.bound(ChannelPurpose.PUBLIC, None) \
            if topic.visibility is Visibility.PUBLIC else []
        fields.append(Field(_("Channels"), ", ".join(f"{c.platform}:#{c.channel_id}" for c in channels + public)
                            or _("none bound (setup topic-channel)")))
        when: Text = _("Sends when you confirm.") if announcement.send_at is None else \
            _("Sends at {time} — {local} in your zone.", time=stamp(announcement.send_at),
              local=format_local(announcement.send_at, caller.zone))
        body: list[Text | str] = [announcement.text, when]
        if caller.timezone_source is ZoneSource.DEFAULT:
            body.append(_("That is the coalition's default zone; set yours with “settings timezone <zone>”."))
        return Message(
            title=_("Preview of announcement #{id} to “{topic}”", id=announcement.id, topic=topic.slug),
            body=tuple(body), fields=tuple(fields),
            actions=(Action(_("Confirm"), invoke(ANNOUNCE_CONFIRM, id=announcement.id), ActionStyle.PRIMARY),
                     Action(_("Cancel"), invoke(ANNOUNCE_CANCEL, id=announcement.id), ActionStyle.DANGER)),
        )

    async def confirm(self, caller: Caller, announcement_id: int) -> Message:
        """Send or schedule a draft. Its state is read inside the write transaction that changes it, so
        confirms sent at once (a double click, a retry) answer like confirms sent one after another."""
        async with self._store.transaction():
            return await self._confirm(caller, announcement_id)

    async def _confirm(self, caller: Caller, announcement_id: int) -> Message:
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
        count = await self.fan_out(announcement, topic, expected=[AnnouncementState.DRAFT])
        await self._store.audit.record(caller.person.id, AuditAction.ANNOUNCE_SEND, f"announcement:{announcement.id}",
                                       "draft", "sending", now)
        return Message(body=(_n("Announcement #{id} is on its way to {n} target.",
                                "Announcement #{id} is on its way to {n} targets.", count, id=announcement.id),),
                       actions=(Action(_("Delivery report"), invoke(ANNOUNCE_STATUS, id=announcement.id)),))

    # --- fan-out --------------------------------------------------------------------------------------

    async def fan_out(self, announcement: Announcement, topic: Topic,
                      expected: list[AnnouncementState]) -> int:
        """Write every delivery row in one transaction; returns the number of targets."""
        now = self._clock.now()
        store = self._store
        rows: list[NewDelivery] = []
        digest: list[tuple[int, int, DeliveryMode]] = []

        def row(key: str, target: AnnouncementTarget, **where: object) -> NewDelivery:
            return NewDelivery(dedupe_key=f"ann:{announcement.id}:{key}", kind=DeliveryKind.ANNOUNCEMENT,
                               payload=AnnouncementPayload(announcement.id, target),
                               not_before=now, topic_id=topic.id, announcement_id=announcement.id,
                               **where)  # type: ignore[arg-type]

        if topic.archived:  # archived after it was scheduled: tell the author instead of posting
            if await store.announcements.transition(announcement.id, AnnouncementState.CANCELLED, expected, now):
                await self._notifier.to_people(
                    [announcement.author_id],
                    Message(title=_("Announcement #{id} was not sent", id=announcement.id),
                            body=(_("“{topic}” was archived before it was due.", topic=topic.slug),
                                  announcement.text)),
                    key=f"ann:{announcement.id}:archived")
            return 0
        async with store.transaction():
            if not await store.announcements.transition(announcement.id, AnnouncementState.SENDING, expected, now):
                return 0
            for binding in await store.channels.bound(ChannelPurpose.TOPIC, topic.id):
                rows.append(row(f"channel:{binding.platform}:{binding.channel_id}", AnnouncementTarget.CHANNEL,
                                platform=binding.platform, channel_id=binding.channel_id))
            if topic.visibility is Visibility.PUBLIC:
                for binding in await store.channels.bound(ChannelPurpose.PUBLIC, None):
                    rows.append(row(f"public:{binding.platform}:{binding.channel_id}", AnnouncementTarget.PUBLIC,
                                    platform=binding.platform, channel_id=binding.channel_id))
            for subscription in await store.subscriptions.of_topic(topic.id):
                if subscription.mode is DeliveryMode.IMMEDIATE:
                    rows.append(row(f"person:{subscription.person_id}", AnnouncementTarget.DM,
                                    person_id=subscription.person_id))
                elif subscription.mode in (DeliveryMode.DAILY, DeliveryMode.WEEKLY):
                    digest.append((subscription.person_id, announcement.id, subscription.mode))
            # Due a moment earlier than the rest, so the author's report goes out first and then follows along.
            rows.append(NewDelivery(dedupe_key=f"ann:{announcement.id}:report", kind=DeliveryKind.REPORT,
                                    payload=ReportPayload(announcement.id),
                                    not_before=now - timedelta(seconds=1),
                                    person_id=announcement.author_id, announcement_id=announcement.id))
            await store.outbox.enqueue(rows, now)
            await store.digests.queue(digest, now)
        self._wake()
        return len(rows) - 1 + len(digest)

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
            return await self._report_to_update(announcement_id, final=True)
        return await self._report_to_update(announcement_id)

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
            removed = await self._propagate(announcement, DeliveryKind.DELETE, now)
            await self._store.audit.record(caller.person.id, AuditAction.ANNOUNCE_CANCEL,
                                           f"announcement:{announcement.id}", before.value, "cancelled", now)
        body: list[Text | str] = [_("Announcement #{id} is cancelled.", id=announcement.id)]
        if stopped:
            body.append(_n("{n} delivery not yet sent was stopped.", "{n} deliveries not yet sent were stopped.",
                           stopped))
        if removed:
            body.append(_n("{n} delivered copy is being removed.", "{n} delivered copies are being removed.",
                           removed))
        return Message(body=tuple(body))

    async def _propagate(self, announcement: Announcement, kind: DeliveryKind, now: datetime) -> int:
        """Queue an edit or delete for every copy delivered or being delivered; returns how many.

        A copy still in flight gets its change too: the worker holds the change until the copy has landed.
        """
        fresh = await self._store.announcements.get(announcement.id)
        revision = fresh.revision if fresh else announcement.revision
        rows = [NewDelivery(dedupe_key=f"ann:{announcement.id}:{kind}:{revision}:{d.id}", kind=kind,
                            payload=ChangePayload(d.id), not_before=now, person_id=d.person_id,
                            platform=d.sent.platform if d.sent else d.platform, announcement_id=announcement.id)
                for d in await self._store.outbox.of_announcement(announcement.id)
                if d.status is DeliveryStatus.SENDING or (d.status is DeliveryStatus.SENT and d.sent is not None)]
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

    async def _source(self, announcement_id: int) -> tuple[Announcement | None, Topic | None, str]:
        cached = self._sources.get(announcement_id)
        if cached is not None and time.monotonic() - cached[0] < SOURCE_TTL:
            return cached[1], cached[2], cached[3]
        announcement = await self._store.announcements.get(announcement_id)
        if announcement is None:
            return None, None, "?"
        topic = await self._store.topics.get(announcement.topic_id)
        author = await self._store.people.get(announcement.author_id)
        name = author.display_name if author else "?"
        self._sources[announcement_id] = (time.monotonic(), announcement, topic, name)
        return announcement, topic, name

    async def report(self, announcement: Announcement) -> Message:
        return await delivery_report(self._store, announcement)

    async def _report_to_update(self, announcement_id: int, *, final: bool = False) -> list[Delivery]:
        """The author's delivered report DM, when it is due an update (at most every couple of seconds)."""
        now = time.monotonic()
        if not final and now - self._last_progress.get(announcement_id, 0.0) < PROGRESS_INTERVAL:
            return []
        self._last_progress[announcement_id] = now
        reports = await self._store.outbox.of_announcement(announcement_id, DeliveryKind.REPORT)
        if not reports or reports[0].sent is None:
            return []
        return [reports[0]]
