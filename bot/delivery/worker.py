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
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.delivery.model import Delivery, DeliveryStatus, SentMessage
from bot.delivery.pacing import TokenBucket
from bot.delivery.wakeup import Wakeup
from bot.i18n import Msg, Translator, _, decode_text, encode_text
from bot.messages import Message, RenderedMessage
from bot.model import IdentityRecord
from bot.people.service import PeopleService
from bot.ports import (
    InFlightAware,
    PermanentDeliveryError,
    PlatformAdapter,
    PlatformRoles,
    Store,
    TransientDeliveryError,
)
from bot.topics.access import may_receive
from bot.topics.model import Topic, Visibility

log = logging.getLogger(__name__)

Builder = Callable[[Delivery], Awaitable[Message | None]]
"""Builds a row's message when it is sent (so edits before sending apply); ``None`` means cancelled."""
AfterBatch = Callable[[Sequence[Delivery]], Awaitable[Sequence[Delivery]]]
"""Called with each batch handled; returns delivered messages to rebuild and edit in place now (the live
announcement report)."""
EDIT_KIND = "edit"
DELETE_KIND = "delete"


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    poll_seconds: float = 5.0
    batch_size: int = 50
    concurrency: int = 8
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 900.0


@dataclass(frozen=True, slots=True)
class Outlet:
    """A platform the worker sends to. ``bucket`` paces it; ``self_paced`` when the adapter takes its tokens
    itself (one per request, where a delivery may cost several) — the worker then only slows it down after a
    429."""

    adapter: PlatformAdapter
    bucket: TokenBucket | None = None
    self_paced: bool = False


class DeliveryWorker:
    """Built last by the composition root, with everything it sends through and every message builder."""

    def __init__(self, store: Store, clock: Clock, translator: Translator, people: PeopleService,
                 outlets: Iterable[Outlet], builders: Mapping[str, Builder], config: DeliveryConfig,
                 wakeup: Wakeup, after_batch: Sequence[AfterBatch] = (), rng: random.Random | None = None) -> None:
        self._store = store
        self._clock = clock
        self._translator = translator
        self._people = people
        outlets = list(outlets)
        self._adapters = {o.adapter.platform: o.adapter for o in outlets}
        self._buckets = {o.adapter.platform: o.bucket for o in outlets if o.bucket is not None}
        self._self_paced = {o.adapter.platform for o in outlets if o.self_paced}
        self._builders = dict(builders)
        self._after_batch = tuple(after_batch)
        self._config = config
        self._rng = rng or random.Random()
        self._wake = wakeup
        self._stopping = False
        self._topics: dict[int, Topic] = {}

    async def recover(self) -> int:
        """Return rows a crash left ``sending`` to the queue, telling adapters which keys to look for."""
        keys = [delivery.dedupe_key for delivery in await self._store.outbox.in_flight()]
        if keys:
            for adapter in self._adapters.values():
                if isinstance(adapter, InFlightAware):
                    adapter.expect_in_flight(keys)
        count = await self._store.outbox.recover_in_flight()
        if count:
            log.warning("%d deliveries were in flight at the last stop; they will be retried", count)
        return count

    def request_stop(self) -> None:
        """Ask :meth:`run` to return after the delivery in hand, so nothing is left half-sent."""
        self._stopping = True
        self._wake()

    async def run(self) -> None:
        """Send due rows until :meth:`request_stop`; sleeps until the next due row, a wake-up, or the poll
        interval."""
        self._stopping = False
        while not self._stopping:
            processed = await self.run_due(stoppable=True)
            if processed:
                continue
            timeout = self._config.poll_seconds
            self._wake.clear()  # before reading: a row queued from here on wakes the wait below
            next_due = await self._store.outbox.next_due()
            if next_due is not None:
                timeout = max(0.0, min(timeout, (next_due - self._clock.now()).total_seconds()))
            if self._stopping:
                break
            await self._wake.wait(timeout)

    async def run_due(self, *, stoppable: bool = False) -> int:
        """Claim and send one batch of due rows; returns how many were handled. The tests' entry point."""
        claimed = await self._store.outbox.claim_due(self._clock.now(), self._config.batch_size)
        self._topics = {}  # topics are read once per batch: access is re-checked at most a batch late
        # Sends overlap (a platform call takes tens of milliseconds); the token buckets do the pacing.
        slots = asyncio.Semaphore(self._config.concurrency)
        released: list[int] = []

        async def deliver(delivery: Delivery) -> None:
            async with slots:
                if stoppable and self._stopping:
                    released.append(delivery.id)
                    return
                await self._deliver(delivery)

        async with asyncio.TaskGroup() as group:
            for delivery in claimed:
                group.create_task(deliver(delivery))
        if released:
            await self._store.outbox.release(released)
            claimed = [d for d in claimed if d.id not in set(released)]
        for hook in self._after_batch:
            try:
                await self.refresh(await hook(claimed))
            except Exception:  # a progress report must never stop deliveries
                log.exception("after-batch hook failed")
        return len(claimed)

    async def refresh(self, deliveries: Iterable[Delivery]) -> None:
        """Rebuild delivered messages from their source and edit them in place now (live reports)."""
        for delivery in deliveries:
            builder = self._builders.get(delivery.kind)
            message = await builder(delivery) if builder else None
            if message is not None:
                await self.edit_sent(delivery, message)

    async def drain(self) -> None:
        """Send everything due now (used when the console reaches end of input)."""
        while await self.run_due():
            pass

    async def _deliver(self, delivery: Delivery) -> None:
        outbox = self._store.outbox
        try:
            if delivery.kind in (EDIT_KIND, DELETE_KIND):
                sent = await self._change_delivered(delivery)
            else:
                builder = self._builders.get(delivery.kind)
                message = await builder(delivery) if builder else Message.from_json(json.loads(delivery.payload))
                if message is None:
                    raise _Cancelled(_("cancelled before it was sent"))
                if delivery.person_id is not None:
                    sent = await self._deliver_direct(delivery, message, delivery.person_id)
                else:
                    sent = await self._deliver_channel(delivery, message)
            await outbox.mark_sent(delivery.id, sent, self._clock.now())
        except _Cancelled as cancelled:
            await outbox.mark_final(delivery.id, DeliveryStatus.CANCELLED, encode_text(cancelled.reason),
                                    self._clock.now())
        except _Skip as skip:
            await outbox.mark_final(delivery.id, DeliveryStatus.SKIPPED, encode_text(skip.reason), self._clock.now())
        except PermanentDeliveryError as error:
            await outbox.mark_final(delivery.id, DeliveryStatus.FAILED, encode_text(error.reason), self._clock.now())
        except TransientDeliveryError as error:
            await self._retry(delivery, error.reason, error.retry_after, error.platform)
        except Exception as error:  # an adapter bug must not stop the worker or lose the row
            log.exception("delivery %d failed unexpectedly", delivery.id)
            await self._retry(delivery, _("unexpected error: {error}", error=type(error).__name__), None)

    async def _retry(self, delivery: Delivery, reason: Msg, retry_after: float | None,
                     platform: str | None = None) -> None:
        if delivery.attempts >= self._config.max_attempts:
            await self._store.outbox.mark_final(
                delivery.id, DeliveryStatus.FAILED,
                encode_text(_("gave up after {n} attempts: {reason}", n=delivery.attempts, reason=reason)),
                self._clock.now())
            return
        backoff = min(self._config.backoff_max_seconds,
                      self._config.backoff_base_seconds * 2 ** (delivery.attempts - 1))
        delay = max(retry_after or 0.0, self._rng.uniform(backoff / 2, backoff))
        bucket = self._buckets.get(platform or delivery.platform or "")
        if retry_after and bucket is not None:
            bucket.penalise(retry_after)
        await self._store.outbox.retry_later(delivery.id, self._clock.now() + timedelta(seconds=delay),
                                             encode_text(reason))

    async def _change_delivered(self, delivery: Delivery) -> SentMessage:
        """Apply an edit or delete to a copy delivered earlier, rebuilt from its current source."""
        original = await self._store.outbox.get(int(json.loads(delivery.payload)["of"]))
        if original is not None and original.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            raise _Waiting()
        if original is None or original.sent is None:
            raise _Skip(_("the original was never delivered"))
        adapter = self._adapters.get(original.sent.platform)
        if adapter is None:
            raise _Skip(_("platform {platform} is not running", platform=original.sent.platform))
        await self._pace(original.sent.platform)
        if delivery.kind == DELETE_KIND:
            await adapter.delete(original.sent)
            return original.sent
        builder = self._builders.get(original.kind)
        message = await builder(original) if builder else None
        if message is None:
            raise _Skip(_("nothing to update"))
        await adapter.edit(original.sent, await self._render_for(original, message))
        return original.sent

    async def edit_sent(self, delivery: Delivery, message: Message) -> None:
        """Edit a delivered message in place now (live progress reports); failures are logged, not raised."""
        adapter = self._adapters.get(delivery.sent.platform) if delivery.sent else None
        if adapter is None or delivery.sent is None:
            return
        try:
            await self._pace(delivery.sent.platform)  # a report edit is a request like any other
            await adapter.edit(delivery.sent, await self._render_for(delivery, message))
        except Exception:
            log.warning("could not update delivery %d in place", delivery.id)

    async def _render_for(self, delivery: Delivery, message: Message) -> RenderedMessage:
        language = None
        if delivery.person_id is not None:
            person = await self._store.people.get(delivery.person_id)
            language = self._people.language_of(person) if person else None
        return message.render(self._translator, language)

    async def _deliver_direct(self, delivery: Delivery, message: Message, person_id: int) -> SentMessage:
        try:
            caller, identities = await self._people.recipient(person_id)
        except LookupError:
            raise _Skip(_("the recipient no longer exists")) from None
        if delivery.topic_id is not None:
            topic = self._topics.get(delivery.topic_id) or await self._store.topics.get(delivery.topic_id)
            if topic is not None:
                self._topics[topic.id] = topic
            if topic is not None and topic.visibility is not Visibility.PUBLIC \
                    and await self._refresh_platform_roles(identities):
                caller, identities = await self._people.recipient(person_id)
            subscribed = await self._store.subscriptions.get(person_id, delivery.topic_id) is not None
            if topic is None or not may_receive(topic, caller.role, caller.coordinated, subscribed=subscribed):
                raise _Skip(_("the recipient may no longer see this topic"))
        identity = self._pick_identity(identities, caller.person.preferred_platform)
        if identity.dm_closed_reason:
            raise _Skip(_("direct messages closed: {reason}", reason=decode_text(identity.dm_closed_reason)))
        adapter = self._adapters[identity.identity.platform]
        rendered = message.render(self._translator, caller.language)
        await self._pace(identity.identity.platform)
        try:
            sent = await adapter.send_direct(identity, rendered, delivery_key=delivery.dedupe_key)
        except TransientDeliveryError as error:
            error.platform = identity.identity.platform
            raise
        except PermanentDeliveryError as error:
            if error.dm_closed:
                await self._store.people.set_dm_closed(identity.identity, encode_text(error.reason))
            raise
        if sent.channel_id != identity.dm_channel_id:
            # Remember the DM channel, so the next fan-out costs one request per recipient, not two.
            await self._store.people.set_dm_channel(identity.identity, sent.channel_id)
        return sent

    async def _refresh_platform_roles(self, identities: list[IdentityRecord]) -> bool:
        """Ask each platform what it says about this person now; True when a stored role changed."""
        changed = False
        for identity in identities:
            adapter = self._adapters.get(identity.identity.platform)
            if not isinstance(adapter, PlatformRoles):
                continue
            role = await adapter.current_role(identity.identity.external_id)
            if role is not None and role is not identity.platform_role:
                await self._store.people.set_platform_role(identity.identity, role)
                changed = True
        return changed

    def _pick_identity(self, identities: list[IdentityRecord], preferred: str | None) -> IdentityRecord:
        reachable = [i for i in identities if i.identity.platform in self._adapters]
        if not reachable:
            raise _Skip(_("no running platform reaches this person"))
        open_dms = [i for i in reachable if not i.dm_closed_reason] or reachable
        for identity in open_dms:
            if identity.identity.platform == preferred:
                return identity
        return open_dms[0]

    async def _deliver_channel(self, delivery: Delivery, message: Message) -> SentMessage:
        adapter = self._adapters.get(delivery.platform or "")
        if adapter is None or delivery.channel_id is None:
            raise _Skip(_("platform {platform} is not running", platform=delivery.platform or "?"))
        if delivery.topic_id is not None:
            topic = self._topics.get(delivery.topic_id) or await self._store.topics.get(delivery.topic_id)
            if topic is None or topic.archived:
                raise _Skip(_("the topic was archived"))
        await self._pace(adapter.platform)
        # A channel has many readers: it gets the coalition's language.
        rendered = message.render(self._translator, self._people.default_language)
        return await adapter.send_channel(delivery.channel_id, rendered, delivery_key=delivery.dedupe_key)

    async def _pace(self, platform: str) -> None:
        bucket = self._buckets.get(platform)
        if bucket is not None and platform not in self._self_paced:
            await bucket.acquire()


class _Cancelled(Exception):
    def __init__(self, reason: Msg) -> None:
        super().__init__(reason)
        self.reason = reason


class _Skip(Exception):
    def __init__(self, reason: Msg) -> None:
        super().__init__(reason)
        self.reason = reason


class _Waiting(TransientDeliveryError):
    """An edit or delete whose original is still on its way: try again shortly."""

    def __init__(self) -> None:
        super().__init__("waiting for the original to be delivered")

