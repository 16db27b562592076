"""The author's delivery report: how many copies went out, how many failed, were skipped or missed, and why;
failures that may succeed later can be retried (``announce retry``)."""

from __future__ import annotations

from bot.announcements.declarations import ANNOUNCE_RETRY
from bot.announcements.model import Announcement, AnnouncementState
from bot.commands.invoke import invoke
from bot.delivery.model import Delivery, DeliveryStatus
from bot.i18n import Text, _, _n, decode_text
from bot.messages import Action, Field, Message
from bot.ports import Store

FINAL_PROBLEMS = (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED, DeliveryStatus.MISSED)


async def delivery_report(store: Store, announcement: Announcement) -> Message:
    """Counts by outcome, digests, and a line for each delivery that failed, was skipped or was missed."""
    deliveries = await store.outbox.of_announcement(announcement.id)
    by_status: dict[DeliveryStatus, int] = {}
    for delivery in deliveries:
        by_status[delivery.status] = by_status.get(delivery.status, 0) + 1
    done = sum(n for s, n in by_status.items() if s is not DeliveryStatus.PENDING
               and s is not DeliveryStatus.SENDING)
    queued, digested = await store.digests.counts(announcement.id)
    body: list[Text | str] = [
        _("Delivered {sent} / {total}, {failed} failed, {skipped} skipped.",
          sent=by_status.get(DeliveryStatus.SENT, 0), total=len(deliveries),
          failed=by_status.get(DeliveryStatus.FAILED, 0), skipped=by_status.get(DeliveryStatus.SKIPPED, 0)),
    ]
    if queued:
        body.append(_("Digests: {queued} queued, {digested} sent.", queued=queued, digested=digested))
    if by_status.get(DeliveryStatus.MISSED):
        body.append(_n("{n} copy was missed: it was no longer relevant when it could have been sent.",
                       "{n} copies were missed: they were no longer relevant when they could have been sent.",
                       by_status[DeliveryStatus.MISSED]))
    if by_status.get(DeliveryStatus.CANCELLED):
        body.append(_("{n} stopped by cancelling.", n=by_status[DeliveryStatus.CANCELLED]))
    retryable = sum(1 for d in deliveries if d.status is DeliveryStatus.FAILED and d.retryable)
    actions: tuple[Action, ...] = ()
    if retryable and announcement.state is not AnnouncementState.CANCELLED:
        body.append(_n("{n} failed copy failed for a passing reason (an outage) and can be sent again.",
                       "{n} failed copies failed for a passing reason (an outage) and can be sent again.",
                       retryable))
        actions = (Action(_("Retry"), invoke(ANNOUNCE_RETRY, id=announcement.id)),)
    if deliveries and done == len(deliveries) and announcement.state in (AnnouncementState.SENDING,
                                                                          AnnouncementState.SENT):
        body.append(_("Finished."))
    fields = [Field(_("State"), state_label(announcement.state))]
    for delivery in deliveries:
        if delivery.status in FINAL_PROBLEMS and len(fields) < 21:
            fields.append(Field(await _target_name(store, delivery),
                                decode_text(delivery.reason) if delivery.reason else "?"))
    return Message(title=_("Delivery report for announcement #{id}", id=announcement.id), body=tuple(body),
                   fields=tuple(fields), actions=actions)


async def _target_name(store: Store, delivery: Delivery) -> str:
    if delivery.person_id is not None:
        person = await store.people.get(delivery.person_id)
        return person.display_name if person else str(delivery.person_id)
    return f"{delivery.platform}:#{delivery.channel_id}"


def state_label(state: AnnouncementState) -> Text:
    return {AnnouncementState.DRAFT: _("a draft"), AnnouncementState.SCHEDULED: _("scheduled"),
            AnnouncementState.SENDING: _("being sent"), AnnouncementState.SENT: _("sent"),
            AnnouncementState.CANCELLED: _("cancelled"), AnnouncementState.MISSED: _("missed")}[state]

