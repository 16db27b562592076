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
"""

from __future__ import annotations

from datetime import datetime

from bot.delivery.accounts import NoAccount
from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, SentMessage, copy_key, counted_key
from bot.delivery.status import platform_name
from bot.i18n import _
from bot.ports import Store

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class CopyOnItsWay(Exception):
    """The counted row would go through a platform whose copy is pending or being sent: it waits for the copy, to
    look again no sooner than ``until`` (the copy's turn), and then adopts it."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


class Copies:
    def __init__(self, store: Store) -> None:
        self._store = store

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
        copy = await self._store.outbox.by_key(copy_key(announcement_id, platform, person_id))
        if copy is None:
            return None
        if copy.status is DeliveryStatus.SENT and copy.sent is not None:
            return copy.sent
        if copy.status in OPEN or not await self._store.outbox.take_over(copy.id):
            raise CopyOnItsWay(copy.not_before)
        return None
