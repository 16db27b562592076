"""An ``all`` person's announcement: one counted row and a copy pinned to each other platform, never two on one.

The counted ``announcement`` row goes through the person's first account; each ``announcement-copy`` row through
its own platform. When the counted row has to fall back to another platform (its account refused for good), that
platform's copy may have landed already: the counted row then adopts it (recorded sent with the copy's message,
nothing posted), and a copy whose platform the counted row went through first skips itself. So the person gets
one message per platform and the report still counts them once.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.delivery.accounts import NoAccount, primary_platform
from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, SentMessage, copy_key, counted_key
from bot.delivery.status import platform_name
from bot.i18n import _
from bot.model import IdentityRecord
from bot.ports import Store


class Copies:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def adopt(self, delivery: Delivery, person_id: int, platform: str,
                    identities: Sequence[IdentityRecord]) -> SentMessage | None:
        """The copy already delivered on ``platform`` that a counted row going there takes as its own; ``None``
        for every other row. Raises :class:`NoAccount` for a copy whose platform the counted row took."""
        announcement_id = delivery.announcement_id
        if announcement_id is None:
            return None
        if delivery.kind is DeliveryKind.ANNOUNCEMENT_COPY:
            counted = await self._store.outbox.by_key(counted_key(announcement_id, person_id))
            if counted is not None and counted.sent is not None and counted.sent.platform == platform:
                raise NoAccount(_("the counted copy already reached them on {platform}",
                                  platform=platform_name(platform)))
            return None
        if delivery.kind is not DeliveryKind.ANNOUNCEMENT or platform == primary_platform(identities):
            return None
        copy = await self._store.outbox.by_key(copy_key(announcement_id, platform, person_id))
        if copy is not None and copy.status is DeliveryStatus.SENT and copy.sent is not None:
            return copy.sent
        return None
