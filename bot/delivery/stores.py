"""The stores the delivery worker needs: the outbox, a circuit per platform, and workers' leases.

They live beside the worker rather than in :mod:`bot.ports` (which names them in :class:`bot.ports.Store`) only
to keep that module readable; the composition root wires ``storage/`` implementations of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, NewDelivery, SentMessage, WorkerLease
from bot.delivery.outcomes import PlatformCircuit


class OutboxStore(Protocol):
    async def enqueue(self, deliveries: Sequence[NewDelivery], now: datetime) -> int:
        """Insert rows, ignoring keys already queued; returns how many were new."""
        ...

    async def claim_due(self, now: datetime, limit: int, holder: str | None = None) -> list[Delivery]:
        """Atomically move due pending rows to ``sending``, counting an attempt and stamping ``holder`` (the
        claiming worker's lease), and return them."""
        ...

    async def mark_sent(self, delivery_id: int, sent: SentMessage, now: datetime) -> None:
        """Record the copy; clears the retry streak and ``uncertain``."""
        ...

    async def mark_final(self, delivery_id: int, status: DeliveryStatus, reason: str, now: datetime, *,
                         platform: str | None = None, retryable: bool = False) -> None:
        """End the row (failed, skipped, cancelled, missed); ``retryable``: failed for a transient reason."""
        ...

    async def retry_later(self, delivery_id: int, not_before: datetime, reason: str, *, since: datetime,
                          platform: str | None = None, uncertain: bool = False) -> None:
        """Back to ``pending`` after a failed attempt (the attempt stays counted). ``since`` starts the retry
        deadline's clock unless a streak is running; ``uncertain`` is sticky until the row is sent."""
        ...

    async def defer(self, delivery_id: int, not_before: datetime, *, platform: str, reason: str | None = None,
                    since: datetime | None = None, uncertain: bool = False) -> None:
        """Give a claimed row back unsent until ``not_before`` without counting an attempt (its platform is
        paused, or busy); ``since`` starts the deadline's clock unless a streak is running. A row no longer
        ``sending`` is left alone."""
        ...

    async def release(self, delivery_ids: Sequence[int], *, uncertain: bool = False) -> None:
        """Give claimed rows back without counting an attempt: unsent (a graceful stop), or — ``uncertain`` —
        after an attempt whose outcome could not be recorded (it may have been posted: read it back first)."""
        ...

    async def in_flight(self) -> list[Delivery]:
        """Rows in ``sending``."""
        ...

    async def recover_orphans(self, now: datetime) -> int:
        """Rows in ``sending`` whose holder has no live lease (or none at all) go back to ``pending`` marked
        uncertain; rows a live lease holds are never touched. Returns how many."""
        ...

    async def bring_forward(self, platform: str, now: datetime) -> int:
        """Rows held back by a streak of failures or a pause on ``platform`` become due now (it recovered)."""
        ...

    async def next_due(self) -> datetime | None: ...
    async def get(self, delivery_id: int) -> Delivery | None: ...
    async def by_kind(self, kind: DeliveryKind) -> list[Delivery]: ...


class CircuitStore(Protocol):
    """A circuit per platform (see ``bot/delivery/circuit.py``); each write is atomic, so workers sharing a
    database agree on one probe."""

    async def all(self) -> list[PlatformCircuit]:
        """Every platform's circuit (status reports); a platform never paused has none."""
        ...

    async def get(self, platform: str) -> PlatformCircuit | None: ...
    async def count_failure(self, platform: str, reason: str, now: datetime) -> PlatformCircuit:
        """One more outage-like failure in a row (counted only while closed); returns the circuit after it."""
        ...

    async def open(self, platform: str, failures: int, retry_at: datetime, now: datetime) -> PlatformCircuit | None:
        """Open a closed circuit until ``retry_at``, when one probe may go; ``None`` when it was open already
        (another send got there first)."""
        ...

    async def reopen(self, platform: str, failures: int, retry_at: datetime, reason: str,
                     now: datetime) -> PlatformCircuit | None:
        """A probe failed: stay open until ``retry_at``; ``None`` when it had closed meanwhile."""
        ...

    async def claim_probe(self, platform: str, now: datetime, hold_until: datetime) -> bool:
        """True for exactly one caller once an open circuit's ``retry_at`` has passed; the others are held
        until ``hold_until``."""
        ...

    async def pause(self, platform: str, until: datetime, reason: str, now: datetime) -> PlatformCircuit:
        """The platform asked to slow down: hold its queue until ``until`` (never shortens a pause)."""
        ...

    async def close(self, platform: str, now: datetime) -> tuple[PlatformCircuit | None, bool]:
        """A send went through: forget the failures (a rate-limit pause still running stays); returns the
        circuit and whether it had been open."""
        ...


class LeaseStore(Protocol):
    """Delivery workers' leases over the rows they hold in ``sending``."""

    async def acquire(self, lease: WorkerLease) -> None: ...
    async def renew(self, holder: str, expires_at: datetime) -> bool:
        """False when the lease was gone (dropped as stale): the worker must acquire it again."""
        ...

    async def release(self, holder: str) -> None: ...
    async def drop_others(self, holder: str) -> int:
        """Forget every other holder's lease (only when this process provably runs alone)."""
        ...

    async def all(self) -> list[WorkerLease]: ...
