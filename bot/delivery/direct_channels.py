"""Opens people's DM channels ahead of time, so a fan-out spends its budget on messages only.

Why: on Discord opening a DM is a request of its own under the same global limit as the post, and on Slack
``conversations.open`` is limited per minute; opened in the middle of a fan-out, either halves its pace (Discord)
or caps it at the method's tier (Slack). Opened when someone subscribes (woken by the subscription service) or
in the background before an announcement is due (the housekeeping loop wakes it), the first fan-out is as fast
as the next.

It never slows a fan-out: it only opens while no delivery is due (the worker has the budget otherwise), and the
adapter takes its own pace for each open, so the platform's limit holds either way. The database is the only
state: whoever lacks a DM channel there is opened next, so a restart resumes where it stopped; what is kept in
memory (who failed for good in this run, a platform's pause after a rate limit) only saves requests.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping

from bot.clock import Clock
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.wakeup import Wakeup
from bot.i18n import encode_text
from bot.model import Identity
from bot.ports import DirectChannelOpener, Store

log = logging.getLogger(__name__)

BATCH = 50
"""Identities read at once per platform."""
IDLE_SECONDS = 60.0
"""The background loop looks again at least this often (the housekeeping loop also wakes it)."""
PAUSE_SECONDS = 30.0
"""How long a platform's opening pauses after a transient failure that named no wait."""


class DirectChannels:
    """``openers``: the running platforms that open DM channels (:class:`~bot.ports.DirectChannelOpener`)."""

    def __init__(self, store: Store, clock: Clock, openers: Mapping[str, DirectChannelOpener], *,
                 batch: int = BATCH, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._openers = dict(openers)
        self._batch = batch
        self._monotonic = monotonic
        self._wakeup = Wakeup()
        self._paused_until: dict[str, float] = {}
        self._failed: defaultdict[str, set[Identity]] = defaultdict(set)
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
        """Open the DM channels still missing, while no delivery is due. Returns how many were opened."""
        before = self.opened
        for platform, opener in self._openers.items():
            if self._monotonic() < self._paused_until.get(platform, 0.0):
                continue
            while True:
                identities = await self._store.direct_channels.lacking(platform, self._batch,
                                                                       skip=self._failed[platform])
                if not identities:
                    break
                for identity in identities:
                    if await self._busy():
                        return self.opened - before
                    if not await self._open(platform, opener, identity):
                        break
                else:
                    continue
                break
        return self.opened - before

    async def _busy(self) -> bool:
        """A delivery is due: the fan-out has the budget, opening waits."""
        due = await self._store.outbox.next_due()
        return due is not None and due <= self._clock.now()

    async def _open(self, platform: str, opener: DirectChannelOpener, identity: Identity) -> bool:
        """Open one; False when the platform should wait (a rate limit, an outage)."""
        try:
            channel_id = await opener.open_direct(identity)
        except PermanentDeliveryError as error:
            if error.dm_closed:
                await self._store.people.set_dm_closed(identity, encode_text(error.reason))
            else:
                self._failed[platform].add(identity)
            log.info("could not open a DM channel with %s: %s", identity, error)
            return True
        except TransientDeliveryError as error:
            wait = error.retry_after if error.retry_after is not None else PAUSE_SECONDS
            self._paused_until[platform] = self._monotonic() + wait
            log.info("opening DM channels on %s waits %.1f s: %s", platform, wait, error)
            return False
        except Exception:
            log.exception("opening a DM channel with %s failed unexpectedly", identity)
            self._failed[platform].add(identity)
            return True
        await self._store.people.set_dm_channel(identity, channel_id)
        self.opened += 1
        return True
