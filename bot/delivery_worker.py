"""The delivery worker: claims due outbox rows, re-checks access, sends through the adapters, records
the outcome. Every row ends ``sent``, ``failed``, ``skipped`` or ``cancelled`` with a reason — never lost.

Why a database outbox rather than in-memory tasks: a crash or restart must neither lose nor repeat a
delivery. Rows left ``sending`` by a crash go back to ``pending`` on start, and the stable ``dedupe_key`` is
handed to the adapter so the platform side can recognise a retry (Discord's nonce; Slack's metadata).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.access import may_receive
from bot.i18n import Translator
from bot.messages import Message
from bot.model import IdentityRecord
from bot.pacing import TokenBucket
from bot.people import PeopleService
from bot.ports import (
    Clock,
    Delivery,
    DeliveryStatus,
    PermanentDeliveryError,
    PlatformAdapter,
    SentMessage,
    Store,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    poll_seconds: float = 5.0
    batch_size: int = 50
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 900.0


class DeliveryWorker:
    def __init__(self, store: Store, clock: Clock, translator: Translator, people: PeopleService,
                 adapters: Mapping[str, PlatformAdapter], buckets: Mapping[str, TokenBucket],
                 config: DeliveryConfig, rng: random.Random | None = None) -> None:
        self._store = store
        self._clock = clock
        self._translator = translator
        self._people = people
        self._adapters = dict(adapters)
        self._buckets = dict(buckets)
        self._config = config
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()

    def add_adapter(self, adapter: PlatformAdapter, bucket: TokenBucket | None = None) -> None:
        self._adapters[adapter.platform] = adapter
        if bucket is not None:
            self._buckets[adapter.platform] = bucket

    def wake(self) -> None:
        """Ask the loop to look for due rows now (a row was just queued)."""
        self._wake.set()

    async def recover(self) -> int:
        count = await self._store.outbox.recover_in_flight()
        if count:
            log.warning("%d deliveries were in flight at the last stop; they will be retried", count)
        return count

    async def run(self) -> None:
        """Send due rows until cancelled; sleeps until the next due row, a wake-up, or the poll interval."""
        while True:
            processed = await self.run_due()
            if processed:
                continue
            timeout = self._config.poll_seconds
            next_due = await self._store.outbox.next_due()
            if next_due is not None:
                timeout = max(0.0, min(timeout, (next_due - self._clock.now()).total_seconds()))
            self._wake.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def run_due(self) -> int:
        """Claim and send one batch of due rows; returns how many were handled. The tests' entry point."""
        claimed = await self._store.outbox.claim_due(self._clock.now(), self._config.batch_size)
        for delivery in claimed:
            await self._deliver(delivery)
        return len(claimed)

    async def drain(self) -> None:
        """Send everything due now (used when the console reaches end of input)."""
        while await self.run_due():
            pass

    async def _deliver(self, delivery: Delivery) -> None:
        outbox = self._store.outbox
        try:
            message = Message.from_json(json.loads(delivery.payload))
            if delivery.person_id is not None:
                sent = await self._deliver_direct(delivery, message, delivery.person_id)
            else:
                sent = await self._deliver_channel(delivery, message)
            if sent is not None:
                await outbox.mark_sent(delivery.id, sent, self._clock.now())
        except _Skip as skip:
            await outbox.mark_final(delivery.id, DeliveryStatus.SKIPPED, skip.reason, self._clock.now())
        except PermanentDeliveryError as error:
            reason = self._translator.render(error.reason, None)
            await outbox.mark_final(delivery.id, DeliveryStatus.FAILED, reason, self._clock.now())
        except TransientDeliveryError as error:
            await self._retry(delivery, error.reason, error.retry_after)
        except Exception as error:  # an adapter bug must not stop the worker or lose the row
            log.exception("delivery %d failed unexpectedly", delivery.id)
            await self._retry(delivery, f"unexpected error: {type(error).__name__}", None)

    async def _retry(self, delivery: Delivery, reason: str, retry_after: float | None) -> None:
        if delivery.attempts >= self._config.max_attempts:
            await self._store.outbox.mark_final(
                delivery.id, DeliveryStatus.FAILED,
                f"gave up after {delivery.attempts} attempts: {reason}", self._clock.now())
            return
        backoff = min(self._config.backoff_max_seconds,
                      self._config.backoff_base_seconds * 2 ** (delivery.attempts - 1))
        delay = max(retry_after or 0.0, self._rng.uniform(backoff / 2, backoff))
        bucket = self._buckets.get(delivery.platform or "")
        if retry_after and bucket is not None:
            bucket.penalise(retry_after)
        await self._store.outbox.retry_later(delivery.id, self._clock.now() + timedelta(seconds=delay), reason)

    async def _deliver_direct(self, delivery: Delivery, message: Message, person_id: int) -> SentMessage | None:
        try:
            caller = await self._people.caller_for_person(person_id)
        except LookupError:
            raise _Skip("recipient no longer exists") from None
        if delivery.topic_id is not None:
            topic = await self._store.topics.get(delivery.topic_id)
            subscribed = await self._store.subscriptions.get(person_id, delivery.topic_id) is not None
            if topic is None or not may_receive(topic, caller.role, caller.coordinated, subscribed=subscribed):
                raise _Skip("recipient may no longer see this topic")
        identity = self._pick_identity(await self._store.people.identities_of(person_id),
                                       caller.person.preferred_platform)
        if identity.dm_closed_reason:
            raise _Skip(f"direct messages closed: {identity.dm_closed_reason}")
        adapter = self._adapters[identity.identity.platform]
        rendered = message.render(self._translator, caller.language)
        await self._pace(identity.identity.platform)
        try:
            return await adapter.send_direct(identity, rendered, delivery_key=delivery.dedupe_key)
        except PermanentDeliveryError as error:
            if error.dm_closed:
                await self._store.people.set_dm_closed(identity.identity,
                                                       self._translator.render(error.reason, None))
            raise

    def _pick_identity(self, identities: list[IdentityRecord], preferred: str | None) -> IdentityRecord:
        reachable = [i for i in identities if i.identity.platform in self._adapters]
        if not reachable:
            raise _Skip("no running platform reaches this person")
        open_dms = [i for i in reachable if not i.dm_closed_reason] or reachable
        for identity in open_dms:
            if identity.identity.platform == preferred:
                return identity
        return open_dms[0]

    async def _deliver_channel(self, delivery: Delivery, message: Message) -> SentMessage:
        adapter = self._adapters.get(delivery.platform or "")
        if adapter is None or delivery.channel_id is None:
            raise _Skip(f"platform {delivery.platform} is not running")
        await self._pace(adapter.platform)
        rendered = message.render(self._translator, None)
        return await adapter.send_channel(delivery.channel_id, rendered, delivery_key=delivery.dedupe_key)

    async def _pace(self, platform: str) -> None:
        bucket = self._buckets.get(platform)
        if bucket is not None:
            await bucket.acquire()


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

