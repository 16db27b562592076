"""Messages the bot sends on its own initiative go through the outbox: a row first, then a send."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from bot.clock import Clock
from bot.delivery.model import DeliveryKind, NewDelivery
from bot.delivery.payloads import NoticePayload
from bot.messages import Message
from bot.ports import Store


class Notifier:
    """Queues notices to people; the delivery worker renders each in its reader's language when sent."""

    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None]) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake

    async def to_people(self, person_ids: Iterable[int], message: Message, *, key: str,
                        kind: DeliveryKind = DeliveryKind.NOTICE, topic_id: int | None = None,
                        not_before: datetime | None = None, expires_at: datetime | None = None) -> int:
        """Queue ``message`` for each person once per ``key`` (a repeated key is ignored, not re-sent).
        ``expires_at``: when it stops being worth sending (it is then recorded missed, not sent late)."""
        now = self._clock.now()
        payload = NoticePayload(message)
        rows = [NewDelivery(dedupe_key=f"{key}:person:{person_id}", kind=kind, payload=payload,
                            not_before=not_before or now, person_id=person_id, topic_id=topic_id,
                            expires_at=expires_at)
                for person_id in dict.fromkeys(person_ids)]
        added = await self._store.outbox.enqueue(rows, now) if rows else 0
        if added:
            self._wake()
        return added
