"""An ``all`` person's announcement: one counted row and a copy pinned to each other platform, never two on one.

The fan-out writes the counted ``announcement`` row and an ``announcement-copy`` row for each platform of theirs
that may carry the topic except the counted row's (:func:`bot.delivery.accounts.counted_platform`). The counted
row still goes elsewhere when its platform is not running or its account refuses for good, and then it lands on a
platform that has a copy. The copy is the one that yields, and which row posts there is decided so that two can
never post, whatever the rounds:

* the counted row never posts on a platform whose copy row exists and has not ended: it waits for the copy (handed
  back, nothing counted) and then **adopts** it — recorded sent with the copy's message, nothing posted. Only a
  copy that ended without posting (it failed, was skipped) leaves the platform to the counted row, which first
  takes it over so that ``announce retry`` cannot queue the copy again behind it;
* a copy skips itself when the counted row already went through its platform.

Why the counted row waits rather than the copies: the race was two rows in flight at once, and only the row that
waits needs to know about the other. A copy waiting for its counted row would hold every copy while the counted
row's platform is paused (up to the retry deadline); the counted row waits only when it falls back onto a copy's
platform, and then only for that copy, which is already on its way there. Statuses only move forward (pending,
sending, ended) except through ``announce retry``, which the take-over closes, so each side reads the other's row
and cannot be overtaken. So the person gets one message per platform and the report counts them once.

A counted row waiting for its copy looks again no sooner than the copy's turn, and, when that turn is already
past (the copy is being sent, or its platform is slow to answer), after as long again as the copy has been due,
up to :data:`LOOK_AGAIN_MOST`: each look doubles the wait, from the worker's least hand-back up to a minute,
with nothing stored or counted — the copy's own ``not_before`` is the measure. So a copy stuck for an hour costs
its counted row a look a minute, not two a second.

An edit or delete reaches a message two rows share through the copy's change row: the fan-out lists the copy
first, and :meth:`Copies.changed_through_copy` tells the counted row's change, written while the counted row was
still on its way (it had not adopted yet), to stand aside.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock
from bot.delivery.accounts import NoAccount
from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, SentMessage, copy_key, counted_key
from bot.delivery.status import platform_name
from bot.i18n import _
from bot.ports import Store

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
LOOK_AGAIN_MOST = 60.0
"""Seconds a counted row waits at most between two looks at a copy that is overdue."""


class CopyOnItsWay(Exception):
    """The counted row would go through a platform whose copy is pending or being sent: it waits for the copy, to
    look again no sooner than ``until`` (the copy's turn, or later: :func:`look_again`), and then adopts it."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


def look_again(copy_due: datetime, now: datetime) -> datetime:
    """When a counted row waiting for a copy due at ``copy_due`` looks again: at the copy's turn, and no sooner
    than as long from now as the copy has been overdue (at most :data:`LOOK_AGAIN_MOST`), so the waits double
    while the copy stays on its way without anything being counted."""
    overdue = min(max((now - copy_due).total_seconds(), 0.0), LOOK_AGAIN_MOST)
    return max(copy_due, now + timedelta(seconds=overdue))


class Copies:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def before_posting(self, delivery: Delivery, person_id: int, platform: str) -> SentMessage | None:
        """What an announcement DM row about to go through ``platform`` does instead of posting: a copy's message
        the counted row takes as its own (nothing posted), or ``None`` to post (every other row).

        Raises :class:`NoAccount` for a copy whose platform the counted row already went through, and
        :class:`CopyOnItsWay` for a counted row whose platform's copy has not ended yet."""
        announcement_id = delivery.announcement_id
        if announcement_id is None:
            return None
        if delivery.kind is DeliveryKind.ANNOUNCEMENT_COPY:
            counted = await self._store.outbox.by_key(counted_key(announcement_id, person_id))
            if counted is not None and counted.sent is not None and counted.sent.platform == platform:
                raise NoAccount(_("the counted copy already reached them on {platform}",
                                  platform=platform_name(platform)))
            return None
        if delivery.kind is not DeliveryKind.ANNOUNCEMENT:
            return None
        # Whatever the person prefers now: the copies were written for the preference at the fan-out, and one that
        # left ``all`` since may send this row to a platform whose copy already landed.
        copy = await self._store.outbox.by_key(copy_key(announcement_id, platform, person_id))
        if copy is None:
            return None
        if copy.status is DeliveryStatus.SENT and copy.sent is not None:
            return copy.sent
        if copy.status in OPEN or not await self._store.outbox.take_over(copy.id):
            raise CopyOnItsWay(look_again(copy.not_before, self._clock.now()))
        return None

    async def changed_through_copy(self, original: Delivery) -> bool:
        """Whether a change of ``original`` must stand aside: it is a counted row that adopted the copy on its
        platform, and the copy — which :meth:`~bot.announcements.fanout.FanOut.to_change` lists whenever it
        is delivered — carries the edit or delete to that one message. Changing it twice would mail a second
        correction, or fail a second delete."""
        sent = original.sent
        if (original.kind is not DeliveryKind.ANNOUNCEMENT or sent is None or original.announcement_id is None
                or original.person_id is None):
            return False
        copy = await self._store.outbox.by_key(copy_key(original.announcement_id, sent.platform, original.person_id))
        return copy is not None and copy.sent == sent
