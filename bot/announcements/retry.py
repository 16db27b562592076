"""``announce retry``: put an announcement's deliveries that failed for a passing reason (an outage that
outlasted the retry deadline) back in the queue. Failures that would fail again (direct messages closed,
someone gone) are never re-queued."""

from __future__ import annotations

from collections.abc import Callable

from bot.announcements.declarations import ANNOUNCE_STATUS
from bot.announcements.model import AnnouncementState
from bot.announcements.service import AnnouncementService
from bot.audit import AuditAction
from bot.clock import Clock
from bot.commands.context import Caller
from bot.commands.invoke import invoke
from bot.errors import UserError
from bot.i18n import _, _n
from bot.messages import Action, Message
from bot.ports import Store


class AnnouncementRetry:
    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None],
                 announcements: AnnouncementService) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._announcements = announcements

    async def retry(self, caller: Caller, announcement_id: int) -> Message:
        """Re-queue the retryable failed rows, with the same permission as the other announce commands.

        Reading and re-queueing happen in one write transaction, so retries sent at once (a double click)
        answer like retries sent one after another: the first re-queues, the others find nothing to retry.
        Raises :class:`UserError` when there is nothing to retry, or the announcement was cancelled.
        """
        async with self._store.transaction():
            announcement, topic = await self._announcements.coordinated(caller, announcement_id)
            if announcement.state is AnnouncementState.CANCELLED:
                raise UserError(_("Announcement #{id} was cancelled, so none of it is sent again.",
                                  id=announcement.id))
            if topic.archived:
                raise UserError(_("“{topic}” is archived; nothing more is sent to it.", topic=topic.slug))
            now = self._clock.now()
            count = await self._store.delivery_reports.requeue_retryable(announcement.id, now)
            if not count:
                raise UserError(_("Announcement #{id} has no delivery that failed for a passing reason, so there "
                                  "is nothing to retry. Deliveries that failed for good (direct messages closed, "
                                  "someone gone) are not retried.", id=announcement.id))
            # Sending again: the after-batch hook marks it sent once these end, with a final report update.
            await self._store.announcements.transition(announcement.id, AnnouncementState.SENDING,
                                                       [AnnouncementState.SENT], now)
            await self._store.audit.record(caller.person.id, AuditAction.ANNOUNCE_RETRY,
                                           f"announcement:{announcement.id}", None, str(count), now)
        self._wake()
        return Message(body=(_n("{n} failed delivery of announcement #{id} is queued again.",
                                "{n} failed deliveries of announcement #{id} are queued again.", count,
                                id=announcement.id),),
                       actions=(Action(_("Delivery report"), invoke(ANNOUNCE_STATUS, id=announcement.id)),))
