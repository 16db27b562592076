"""A circuit per platform: a platform that is down pauses its own queue instead of burning its rows'
attempts, and one probe at a time finds out when it is back.

Closed: rows go. Open (after ``threshold`` outage-like failures in a row: 5xx, network): the platform's rows
are handed back until ``retry_at`` without counting an attempt; then exactly one row goes as a probe (a
conditional write decides which, so two workers on one database never both probe). The probe's success closes
the circuit and brings every row held back for that platform forward at once; its failure reopens the circuit
with a doubled cooldown, capped, so recovery is noticed within seconds. A 429 with Retry-After pauses only that
platform until then and is not a failure: the platform is up, it asked us to slow down.

The state is a row per platform (``platform_circuits``), mirrored here to spare the hot path a read per send;
the mirror is reloaded every few seconds so another worker's decisions are seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.delivery.outcomes import PlatformCircuit
from bot.delivery.stores import CircuitStore
from bot.i18n import Msg, _, decode_text, encode_text

log = logging.getLogger(__name__)

RATE_LIMIT_DEFAULT_SECONDS = 5.0
"""The pause after a 429 that did not say how long to wait."""
PAUSED = _("the platform is not answering")


@dataclass(frozen=True, slots=True)
class CircuitConfig:
    threshold: int = 5
    cooldown_seconds: float = 1.0
    cooldown_max_seconds: float = 5.0
    reload_seconds: float = 2.0

    def cooldown(self, failures: int) -> float:
        """The wait before the next probe: doubling with each failed probe, capped."""
        doublings = min(max(0, failures - self.threshold), 32)
        return min(self.cooldown_max_seconds, self.cooldown_seconds * 2.0 ** doublings)


@dataclass(frozen=True, slots=True)
class Go:
    """The row may go; ``probe``: it is the one probe of an open circuit."""

    probe: bool = False


@dataclass(frozen=True, slots=True)
class Hold:
    """The platform is paused: hand the row back until ``until``."""

    until: datetime
    reason: Msg


class Circuits:
    """Every platform's circuit for one worker. ``on_close`` is called when an open circuit closes."""

    def __init__(self, store: CircuitStore, clock: Clock, config: CircuitConfig,
                 on_close: Callable[[str], Awaitable[None]]) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._on_close = on_close
        self._mirror: dict[str, PlatformCircuit] = {}
        self._loaded_at: float | None = None

    async def load(self) -> None:
        self._mirror = {circuit.platform: circuit for circuit in await self._store.all()}
        self._loaded_at = asyncio.get_running_loop().time()

    async def _fresh(self) -> None:
        if self._loaded_at is None or \
                asyncio.get_running_loop().time() - self._loaded_at >= self._config.reload_seconds:
            await self.load()

    def held(self, platform: str) -> Hold | None:
        """From memory: whether the platform's rows are held back now (no probe is handed out here)."""
        circuit = self._mirror.get(platform)
        now = self._clock.now()
        if circuit is None or circuit.retry_at is None or circuit.retry_at <= now:
            return None
        return Hold(circuit.retry_at, _reason(circuit))

    async def admit(self, platform: str) -> Go | Hold:
        """Whether a row for ``platform`` may go now, and whether it is the probe."""
        await self._fresh()
        held = self.held(platform)
        if held is not None:
            return held
        circuit = self._mirror.get(platform)
        if circuit is None or circuit.opened_at is None:
            return Go()
        now = self._clock.now()
        hold_until = now + timedelta(seconds=self._config.cooldown(circuit.failures))
        if await self._store.claim_probe(platform, now, hold_until):
            self._mirror[platform] = replace(circuit, retry_at=hold_until)
            log.debug("delivery: probing %s", platform)
            return Go(probe=True)
        await self._reload(platform)
        return self.held(platform) or Hold(hold_until, _reason(circuit))

    async def succeeded(self, platform: str) -> None:
        """The platform took a send (or refused it for good: it answered either way)."""
        circuit = self._mirror.get(platform)
        if circuit is None or (circuit.failures == 0 and circuit.opened_at is None):
            return  # the common case costs no write
        after, was_open = await self._store.close(platform, self._clock.now())
        self._set(platform, after)
        if was_open:
            log.info("delivery: %s answers again; its circuit is closed and its queue resumes", platform)
            await self._on_close(platform)

    async def failed(self, platform: str, reason: Msg, *, probe: bool) -> None:
        """An outage-like failure (5xx, network) of a send to ``platform``."""
        circuit = self._mirror.get(platform)
        if circuit is not None and circuit.opened_at is not None and not probe:
            return  # it was in flight when the circuit opened: already counted
        now = self._clock.now()
        if probe:
            failures = (circuit.failures if circuit is not None else self._config.threshold) + 1
            cooldown = self._config.cooldown(failures)
            reopened = await self._store.reopen(platform, failures, now + timedelta(seconds=cooldown),
                                                encode_text(reason), now)
            self._set(platform, reopened)
            log.debug("delivery: %s probe failed; next probe in %.0f s", platform, cooldown)
            return
        counted = await self._store.count_failure(platform, encode_text(reason), now)
        self._set(platform, counted)
        threshold = self._config.threshold
        if counted.opened_at is not None or counted.failures < threshold:
            return
        cooldown = self._config.cooldown(threshold)
        opened = await self._store.open(platform, threshold, now + timedelta(seconds=cooldown), now)
        if opened is None:  # another send opened it meanwhile
            await self._reload(platform)
            return
        self._set(platform, opened)
        log.warning("delivery: %s failed %d times in a row; its circuit is open, next probe in %.0f s",
                    platform, counted.failures, cooldown)

    async def rate_limited(self, platform: str, seconds: float | None, reason: Msg) -> datetime:
        """The platform asked to slow down: pause it until Retry-After; returns until when."""
        seconds = RATE_LIMIT_DEFAULT_SECONDS if seconds is None else max(0.0, seconds)
        now = self._clock.now()
        until = now + timedelta(seconds=seconds)
        if seconds > 0:  # "Retry-After: 0" asks for no pause
            self._set(platform, await self._store.pause(platform, until, encode_text(reason), now))
            log.info("delivery: %s asked to slow down; its queue pauses for %.0f s", platform, seconds)
        return until

    async def _reload(self, platform: str) -> None:
        self._set(platform, await self._store.get(platform))

    def _set(self, platform: str, circuit: PlatformCircuit | None) -> None:
        if circuit is None:
            self._mirror.pop(platform, None)
        else:
            self._mirror[platform] = circuit


def _reason(circuit: PlatformCircuit) -> Msg:
    return decode_text(circuit.reason) if circuit.reason else PAUSED
