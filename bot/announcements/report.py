"""The author's delivery report: how many copies went out, how many failed or were skipped, and why."""

from __future__ import annotations

from bot.announcements.model import Announcement, AnnouncementState
from bot.delivery.model import Delivery, DeliveryStatus
from bot.i18n import Text, _, decode_text
from bot.messages import Field, Message
from bot.ports import Store


async def delivery_report(store: Store, announcement: Announcement) -> Message:
    """Counts by outcome, digests, and a line for each delivery that failed or was skipped."""
    deliveries = await store.announcements.deliveries(announcement.id)
    by_status: dict[DeliveryStatus, int] = {}
    for delivery in deliveries:
        by_status[delivery.status] = by_status.get(delivery.status, 0) + 1
    done = sum(n for s, n in by_status.items() if s is not DeliveryStatus.PENDING
               and s is not DeliveryStatus.SENDING)
    queued, digested = await store.announcements.digest_counts(announcement.id)
    body: list[Text | str] = [
        _("Delivered {sent} / {total}, {failed} failed, {skipped} skipped.",
          sent=by_status.get(DeliveryStatus.SENT, 0), total=len(deliveries),
          failed=by_status.get(DeliveryStatus.FAILED, 0), skipped=by_status.get(DeliveryStatus.SKIPPED, 0)),
    ]
    if queued:
        body.append(_("Digests: {queued} queued, {digested} sent.", queued=queued, digested=digested))
    if by_status.get(DeliveryStatus.CANCELLED):
        body.append(_("{n} stopped by cancelling.", n=by_status[DeliveryStatus.CANCELLED]))
    if deliveries and done == len(deliveries) and announcement.state in (AnnouncementState.SENDING,
                                                                          AnnouncementState.SENT):
        body.append(_("Finished."))
    fields = [Field(_("State"), state_label(announcement.state))]
    for delivery in deliveries:
        if delivery.status in (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED) and len(fields) < 21:
            fields.append(Field(await _target_name(store, delivery),
                                decode_text(delivery.reason) if delivery.reason else "?"))
    return Message(title=_("Delivery report for announcement #{id}", id=announcement.id), body=tuple(body),
                   fields=tuple(fields))


async def _target_name(store: Store, delivery: Delivery) -> str:
    if delivery.person_id is not None:
        person = await store.people.get(delivery.person_id)
        return person.display_name if person else str(delivery.person_id)
    return f"{delivery.platform}:#{delivery.channel_id}"


def state_label(state: AnnouncementState) -> Text:
    return {AnnouncementState.DRAFT: _("a draft"), AnnouncementState.SCHEDULED: _("scheduled"),
            AnnouncementState.SENDING: _("being sent"), AnnouncementState.SENT: _("sent"),
            AnnouncementState.CANCELLED: _("cancelled"), AnnouncementState.MISSED: _("missed")}[state]

