"""Fault injection for the loopback fakes: what a flaky network or a platform incident does to a request.

Both fakes (``FakeSlack.faults``, ``FakeDiscord.faults``) hold a :class:`Faults`; a test or a benchmark arms
one with ``fake.faults.add(Fault(...))``. A request is matched by its *method*: the Slack Web API method
(``"chat.postMessage"``), or Discord's HTTP method and route template (``"POST /channels/{channel_id}/messages"``,
``"POST /users/@me/channels"`` for opening a DM). What happens then, by :class:`FaultKind`:

- ``DROP_BEFORE_STORE``: the connection closes without an answer and nothing is stored (a stale keep-alive
  connection, a proxy cut);
- ``DROP_AFTER_STORE``: the fake handles the request (the post exists), then closes the connection without an
  answer — the case that makes a client-side re-send post twice;
- ``ERROR_AFTER_STORE``: the fake handles the request, then answers ``status`` (default 502);
- ``OUTAGE``: ``status`` (default 503) without handling anything — for ``times`` requests, for ``duration``
  seconds after arming, or until :meth:`Faults.remove`;
- ``RATE_LIMITED``: 429 with ``Retry-After: retry_after``, without handling anything.

The "after store" kinds only fire on a request the fake would have answered with success: a request it
refuses anyway (a missing scope, a rate limit of its own) passes through and does not use up a hit.

No pytest here and nothing per request beyond a loop over the armed faults (none armed: one length check), so a
benchmark can arm thousands of requests' worth of faults from plain asyncio. Not thread-safe: like the fakes,
it lives on the event loop.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Params = Mapping[str, Any]


class FaultKind(enum.Enum):
    DROP_BEFORE_STORE = "drop_before_store"
    DROP_AFTER_STORE = "drop_after_store"
    ERROR_AFTER_STORE = "error_after_store"
    OUTAGE = "outage"
    RATE_LIMITED = "rate_limited"

    @property
    def after_store(self) -> bool:
        """Whether the fake handles the request (stores the post) before the fault decides the answer."""
        return self in (FaultKind.DROP_AFTER_STORE, FaultKind.ERROR_AFTER_STORE)

    @property
    def drops(self) -> bool:
        """Whether the connection is closed without any answer."""
        return self in (FaultKind.DROP_BEFORE_STORE, FaultKind.DROP_AFTER_STORE)


DROP_BEFORE_STORE = FaultKind.DROP_BEFORE_STORE
DROP_AFTER_STORE = FaultKind.DROP_AFTER_STORE
ERROR_AFTER_STORE = FaultKind.ERROR_AFTER_STORE
OUTAGE = FaultKind.OUTAGE
RATE_LIMITED = FaultKind.RATE_LIMITED
_DEFAULT_STATUS = {ERROR_AFTER_STORE: 502, OUTAGE: 503, RATE_LIMITED: 429}


@dataclass(frozen=True)
class Fault:
    """One armed failure.

    ``times``: how many matching requests it hits (``None``: every one, until ``duration`` ends or it is
    removed). ``every``: hit one matching request in ``every`` (2: every other one), after letting ``skip``
    through — deterministic, so a benchmark's figures repeat. ``where``: an optional test on the request's
    parameters (Slack: query and body merged; Discord: path parameters, query and JSON body merged), e.g.
    ``lambda p: p.get("channel") == "C1"``. ``status`` defaults to 502 after storing, 503 for an outage.
    ``retry_after`` (seconds) is what a ``RATE_LIMITED`` answer asks for.
    """

    method: str
    kind: FaultKind
    times: int | None = 1
    duration: float | None = None
    every: int = 1
    skip: int = 0
    status: int | None = None
    retry_after: float = 1.0
    where: Callable[[Params], bool] | None = None

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (None: until removed)")
        if self.every < 1 or self.skip < 0:
            raise ValueError("every must be at least 1 and skip not negative")

    @property
    def answer_status(self) -> int:
        """The HTTP status the fake answers with (0: none, the connection is dropped)."""
        if self.kind.drops:
            return 0
        return self.status if self.status is not None else _DEFAULT_STATUS[self.kind]


@dataclass(frozen=True)
class FaultHit:
    """A request a fault decided the answer to. ``status`` 0: the connection was dropped."""

    method: str
    kind: FaultKind
    status: int
    at: float


@dataclass
class _Armed:
    fault: Fault
    until: float | None
    seen: int = 0
    hits: int = 0


class Faults:
    """The faults armed on one fake; ``clock`` (default ``time.monotonic``) times outages' ``duration``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._armed: list[_Armed] = []
        self.fired: list[FaultHit] = []
        """Every request a fault answered, in order."""

    def add(self, fault: Fault) -> Fault:
        """Arm ``fault`` (from now on); returns it, to :meth:`remove` later. Earlier-armed faults win."""
        until = None if fault.duration is None else self._clock() + fault.duration
        self._armed.append(_Armed(fault, until))
        return fault

    def remove(self, fault: Fault) -> None:
        """Disarm ``fault`` (the outage is over); a fault already used up or expired is ignored."""
        self._armed = [armed for armed in self._armed if armed.fault is not fault]

    def clear(self) -> None:
        self._armed.clear()

    @property
    def armed(self) -> list[Fault]:
        """The faults that can still fire (an expired ``duration`` is dropped when next looked at)."""
        return [armed.fault for armed in self._armed]

    def hits(self, method: str | None = None, kind: FaultKind | None = None) -> int:
        """How many requests were answered by a fault, for one method and/or kind, or all."""
        return sum(1 for hit in self.fired if method in (None, hit.method) and kind in (None, hit.kind))

    def before(self, method: str, params: Params) -> Fault | None:
        """The fault that answers this request instead of the fake (it is not handled), if one fires."""
        return self._take(method, params, after_store=False) if self._armed else None

    def after(self, method: str, params: Params) -> Fault | None:
        """The fault that replaces the answer to this request, which the fake handled successfully."""
        return self._take(method, params, after_store=True) if self._armed else None

    def _take(self, method: str, params: Params, *, after_store: bool) -> Fault | None:
        now = self._clock()
        for armed in list(self._armed):
            fault = armed.fault
            if armed.until is not None and now >= armed.until:
                self._armed.remove(armed)
                continue
            if fault.method != method or fault.kind.after_store != after_store:
                continue
            if fault.where is not None and not fault.where(params):
                continue
            armed.seen += 1
            if armed.seen <= fault.skip or (armed.seen - fault.skip - 1) % fault.every:
                continue
            armed.hits += 1
            if fault.times is not None and armed.hits >= fault.times:
                self._armed.remove(armed)
            self.fired.append(FaultHit(method, fault.kind, fault.answer_status, now))
            return fault
        return None


__all__ = [
    "DROP_AFTER_STORE",
    "DROP_BEFORE_STORE",
    "ERROR_AFTER_STORE",
    "OUTAGE",
    "RATE_LIMITED",
    "Fault",
    "FaultHit",
    "FaultKind",
    "Faults",
]
