"""Opens people's DM channels ahead of time, so a fan-out spends its budget on messages only.

Why: on Discord opening a DM is a request of its own under the same global limit as the post, and on Slack
``conversations.open`` is limited per minute; opened in the middle of a fan-out, either halves its pace (Discord)
or caps it at the method's tier (Slack). Opened when someone subscribes (woken by the subscription service) or
in the background before an announcement is due (the housekeeping loop wakes it), the first fan-out is as fast
as the next.

It never slows a fan-out: on a platform it only opens while no delivery there is being sent or due within
:data:`DUE_SOON_SECONDS` (rows a fan-out handed back count: they return within that), and while the platform's
budget has a token spare (someone else, a command's reply, may be using it); the adapter takes its own pace for
each open, so the platform's limit holds either way. The database is the only state: whoever lacks a DM channel
there is opened next, so a restart resumes where it stopped; what is kept in memory (up to :data:`FAILED_CAP` who
failed for good in this run, a platform's pause after a rate limit) only saves requests.

Someone whose DMs turned out closed is recorded so (sending skips them too) and left out until they talk to the
bot, which reopens their DMs for sending; this opener then still waits :data:`RETRY_FAILED_SECONDS` from its
failure before it asks again, so a person who talks to the bot often costs one open a day, not one a command.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from bot.clock import Clock
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.pacing import TokenBucket
from bot.delivery.wakeup import Wakeup
from bot.i18n import encode_text
from bot.model import Identity
from bot.ports import DirectChannelOpener, Store

log = logging.getLogger(__name__)

BATCH = 500
"""Identities read at once per platform (a page: the next one starts after its last)."""
DUE_SOON_SECONDS = 60.0
"""A delivery due within this long counts as due: the fan-out (and rows it handed back) keeps the budget."""
SPARE_WAIT_SECONDS = 1.0
"""How long it waits, at most, for the platform's budget to have a token spare before giving way."""
FAILED_CAP = 10_000
"""Who failed for good is remembered for this many per platform at most; beyond that the oldest failure is
forgotten (asked once more), so memory stays bounded."""
RETRY_FAILED_SECONDS = 86_400.0
"""An identity whose open failed for good is asked again no sooner than this (by this opener)."""
IDLE_SECONDS = 60.0
"""The background loop looks again at least this often (the housekeeping loop also wakes it)."""
PAUSE_SECONDS = 30.0
"""How long a platform's opening pauses after a transient failure that named no wait."""


class DirectChannels:
    """``openers``: the running platforms that open DM channels (:class:`~bot.ports.DirectChannelOpener`);
    ``budgets``: the token bucket each one's deliveries are paced by (the worker's outlet's), if any."""

    def __init__(self, store: Store, clock: Clock, openers: Mapping[str, DirectChannelOpener], *,
                 budgets: Mapping[str, TokenBucket | None] | None = None, batch: int = BATCH,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._store = store
        self._clock = clock
        self._openers = dict(openers)
        self._budgets = dict(budgets or {})
        self._batch = batch
        self._monotonic = monotonic
        self._sleep = sleep
        self._wakeup = Wakeup()
        self._paused_until: dict[str, float] = {}
        self._failed: defaultdict[str, dict[Identity, float]] = defaultdict(dict)
        """By platform: who failed for good, and when (monotonic), oldest first."""
        self.opened = 0
        """DM channels opened by this service since it started (for tests and benchmarks)."""

    def wake(self) -> None:
        """Look for DM channels to open now (someone subscribed, or the housekeeping loop came round)."""
        self._wakeup()

    async def run(self) -> None:
        """Open in the background until cancelled; a failed round is logged and tried again later."""
        while True:
            await self._wakeup.wait(IDLE_SECONDS)
            self._wakeup.clear()
            try:
                await self.run_due()
            except Exception:
                log.exception("opening DM channels failed; will try again")

    async def run_due(self) -> int:
        """Open the DM channels still missing, while each platform is idle. Returns how many were opened."""
        before = self.opened
        for platform, opener in self._openers.items():
            if self._monotonic() < self._paused_until.get(platform, 0.0):
                continue
            await self._run_platform(platform, opener)
        return self.opened - before

    async def _run_platform(self, platform: str, opener: DirectChannelOpener) -> None:
        after: str | None = None
        failed = self._failed[platform]
        cutoff = self._monotonic() - RETRY_FAILED_SECONDS
        while failed and next(iter(failed.values())) <= cutoff:
            del failed[next(iter(failed))]
        while identities := await self._store.direct_channels.lacking(platform, self._batch, after=after):
            after = identities[-1].external_id
            for identity in identities:
                if identity in failed:
                    continue
                if await self._busy(platform) or not await self._spare(platform):
                    return
                if not await self._open(platform, opener, identity):
                    return

    async def _busy(self, platform: str) -> bool:
        """A delivery on ``platform`` is being sent or due soon: the fan-out has the budget, opening waits."""
        return await self._store.direct_channels.busy(platform,
                                                      self._clock.now() + timedelta(seconds=DUE_SOON_SECONDS))

    async def _spare(self, platform: str) -> bool:
        """Whether the platform's budget has a token spare, waiting up to :data:`SPARE_WAIT_SECONDS` for the one
        this opener's own last request took (with a burst of one, any request empties it for a moment)."""
        bucket = self._budgets.get(platform)
        if bucket is None or bucket.spare():
            return True
        wait = bucket.delay()
        if wait > SPARE_WAIT_SECONDS:
            return False
        await self._sleep(wait + 0.001)
        return bucket.spare()

    async def _open(self, platform: str, opener: DirectChannelOpener, identity: Identity) -> bool:
        """Open one; False when the platform should wait (a rate limit, an outage)."""
        try:
            channel_id = await opener.open_direct(identity)
        except PermanentDeliveryError as error:
            if error.dm_closed:
                await self._store.people.set_dm_closed(identity, encode_text(error.reason))
            self._fail(platform, identity)
            log.info("could not open a DM channel with %s: %s", identity, error)
            return True
        except TransientDeliveryError as error:
            wait = error.retry_after if error.retry_after is not None else PAUSE_SECONDS
            self._paused_until[platform] = self._monotonic() + wait
            log.info("opening DM channels on %s waits %.1f s: %s", platform, wait, error)
            return False
        except Exception:
            log.exception("opening a DM channel with %s failed unexpectedly", identity)
            self._fail(platform, identity)
            return True
        await self._store.people.set_dm_channel(identity, channel_id)
        self.opened += 1
        return True

    def _fail(self, platform: str, identity: Identity) -> None:
        failed = self._failed[platform]
        failed.pop(identity, None)  # re-inserted last: the dict stays oldest first
        failed[identity] = self._monotonic()
        if len(failed) > FAILED_CAP:
            del failed[next(iter(failed))]
