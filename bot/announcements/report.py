"""The author's delivery report: how many copies went out, how many failed, were skipped or missed, and why;
failures that may succeed later can be retried (``announce retry``)."""

from __future__ import annotations

from collections.abc import Callable

from bot.announcements.declarations import ANNOUNCE_RETRY
from bot.announcements.model import Announcement, AnnouncementState
from bot.commands.invoke import invoke
from bot.delivery.model import DeliveryStatus
from bot.delivery.outcomes import OPEN_STATUSES, ProblemDelivery
from bot.i18n import Text, _, _n, decode_text, duration
from bot.messages import Action, Field, Message
from bot.ports import Store

PROBLEMS_SHOWN = 20
"""Copies that failed, were skipped or were missed, listed by name in the report (the first ones)."""
MINUTE = 60.0


async def delivery_report(store: Store, announcement: Announcement,
                          left: Callable[[int, int], tuple[float, float] | None] | None = None) -> Message:
    """Counts by outcome, digests, and a line for each of the first copies that failed, were skipped or were
    missed. Read from counters kept as rows change and one LIMITed query: the same cost at 100 and 100,000
    recipients, so the live report never holds up sending.

    ``left(open, total)`` gives (seconds left, seconds in all) at the current pace while copies are open;
    the report then shows the estimate against the progress.
    """
    counts = await store.delivery_reports.live_counts(announcement.id)
    by_status = {c.status: c.count for c in counts}
    total = sum(by_status.values())
    still_open = sum(n for s, n in by_status.items() if s in OPEN_STATUSES)
    queued, digested = await store.digests.counts(announcement.id)
    body: list[Text | str] = [
        # Each count in its own plural-aware piece: "0 failed" and "1 failed" differ in many languages.
        _n("Delivered {sent} / {n}, {failed}, {skipped}.", "Delivered {sent} / {n}, {failed}, {skipped}.", total,
           sent=by_status.get(DeliveryStatus.SENT, 0),
           failed=_n("{n} failed", "{n} failed", by_status.get(DeliveryStatus.FAILED, 0)),
           skipped=_n("{n} skipped", "{n} skipped", by_status.get(DeliveryStatus.SKIPPED, 0))),
    ]
    copies = await store.delivery_reports.copies_sent(announcement.id)
    if copies:
        # People are counted once; those who take announcements on every account got these besides.
        body.append(_n("And {n} more copy on their other accounts.", "And {n} more copies on their other accounts.",
                       copies))
    estimate = left(still_open, total) if left is not None and still_open else None
    if estimate is not None and announcement.state is AnnouncementState.SENDING:
        seconds, planned = estimate
        body.append(_("About {left} left at the current pace (about {planned} in all).", left=duration(seconds),
                      planned=duration(planned)) if seconds >= MINUTE else
                    _("Less than a minute left at the current pace (about {planned} in all).",
                      planned=duration(planned)))
    if queued:
        body.append(_("Digests: {waiting}, {done}.", waiting=_n("{n} queued", "{n} queued", queued),
                      done=_n("{n} sent", "{n} sent", digested)))
    if by_status.get(DeliveryStatus.MISSED):
        body.append(_n("{n} copy was missed: it was no longer relevant when it could have been sent.",
                       "{n} copies were missed: they were no longer relevant when they could have been sent.",
                       by_status[DeliveryStatus.MISSED]))
    if by_status.get(DeliveryStatus.CANCELLED):
        body.append(_n("{n} copy stopped by cancelling.", "{n} copies stopped by cancelling.",
                       by_status[DeliveryStatus.CANCELLED]))
    retryable = sum(c.retryable for c in counts if c.status is DeliveryStatus.FAILED)
    actions: tuple[Action, ...] = ()
    if retryable and announcement.state is not AnnouncementState.CANCELLED:
        body.append(_n("{n} failed copy failed for a passing reason (an outage) and can be sent again.",
                       "{n} failed copies failed for a passing reason (an outage) and can be sent again.",
                       retryable))
        actions = (Action(_("Retry"), invoke(ANNOUNCE_RETRY, id=announcement.id)),)
    # Not while the fan-out still writes rows (every row written so far may have gone out already).
    if total and not still_open and (announcement.state is AnnouncementState.SENT or (
            announcement.state is AnnouncementState.SENDING
            and announcement.id not in await store.announcements.unfinished_fan_outs())):
        body.append(_("Finished."))
    fields = [Field(_("State"), state_label(announcement.state))]
    if total - still_open - by_status.get(DeliveryStatus.SENT, 0) - by_status.get(DeliveryStatus.CANCELLED, 0):
        fields += [Field(_target_name(problem), decode_text(problem.reason) if problem.reason else "?")
                   for problem in await store.delivery_reports.problems(announcement.id, PROBLEMS_SHOWN)]
    return Message(title=_("Delivery report for announcement #{id}", id=announcement.id), body=tuple(body),
                   fields=tuple(fields), actions=actions)


def _target_name(problem: ProblemDelivery) -> str:
    if problem.person_id is not None:
        return problem.person_name if problem.person_name is not None else str(problem.person_id)
    return f"{problem.platform}:#{problem.channel_id}"


def state_label(state: AnnouncementState) -> Text:
    return {AnnouncementState.DRAFT: _("a draft"), AnnouncementState.SCHEDULED: _("scheduled"),
            AnnouncementState.SENDING: _("being sent"), AnnouncementState.SENT: _("sent"),
            AnnouncementState.CANCELLED: _("cancelled"), AnnouncementState.MISSED: _("missed")}[state]

