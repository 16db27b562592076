"""The stores of delivery: the outbox, a circuit per platform, workers' leases, and delivery reports.

They live beside the worker rather than in :mod:`bot.ports` (which names them in :class:`bot.ports.Store`); the
composition root wires ``storage/`` implementations of each. What every store method may raise beyond what it
names (the database failing, a foreign key, a naive ``datetime``) is said once in :mod:`bot.ports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, NewDelivery, SentMessage, WorkerLease
from bot.delivery.outcomes import (
    DeliveryCount,
    MissedDelivery,
    MissedReminder,
    PlatformCircuit,
    ProblemDelivery,
    StatusCount,
    Stopped,
)


class OutboxStore(Protocol):
    """The outbox: one row per (message, target). The worker claims and settles rows; a feature looks up and
    cancels the rows of its announcements. A method given an unknown row id changes nothing."""

    async def enqueue(self, deliveries: Sequence[NewDelivery], now: datetime) -> int:
        """Insert rows, ignoring keys already queued; returns how many were new. Raises nothing of its own."""
        ...

    async def claim_due(self, now: datetime, limit: int, holder: str | None = None) -> list[Delivery]:
        """Atomically move at most ``limit`` due pending rows to ``sending``, counting an attempt and stamping
        ``holder`` (the claiming worker's lease), and return them, earliest due first. Raises nothing of its
        own."""
        ...

    async def mark_sent(self, delivery_id: int, sent: SentMessage, now: datetime) -> None:
        """Record the copy; clears the retry streak and ``uncertain``. Returns nothing; raises nothing of its own."""
        ...

    async def mark_final(self, delivery_id: int, status: DeliveryStatus, reason: str, now: datetime, *,
                         platform: str | None = None, retryable: bool = False) -> None:
        """End the row (failed, skipped, cancelled, missed); ``retryable``: failed for a transient reason. Returns
        nothing; raises nothing of its own."""
        ...

    async def retry_later(self, delivery_id: int, not_before: datetime, reason: str, *, since: datetime,
                          platform: str | None = None, uncertain: bool = False) -> None:
        """Back to ``pending`` after a failed attempt (the attempt stays counted). ``since`` starts the retry deadline's
        clock unless a streak is running; ``uncertain`` is sticky until the row is sent. Returns nothing; raises nothing
        of its own."""
        ...

    async def defer(self, delivery_id: int, not_before: datetime, *, platform: str, reason: str | None = None,
                    since: datetime | None = None, uncertain: bool = False) -> None:
        """Give a claimed row back unsent until ``not_before`` without counting an attempt (its platform is
        paused, or busy); ``since`` starts the deadline's clock unless a streak is running. A row no longer
        ``sending`` is left alone. Returns nothing; raises nothing of its own."""
        ...

    async def release(self, delivery_ids: Sequence[int], *, uncertain: bool = False) -> None:
        """Give claimed rows back without counting an attempt: unsent (a graceful stop), or — ``uncertain`` —
        after an attempt whose outcome could not be recorded (it may have been posted: read it back first).
        Rows no longer ``sending`` are left alone. Returns nothing; raises nothing of its own."""
        ...

    async def in_flight(self) -> list[Delivery]:
        """Returns rows in ``sending``, by id. Raises nothing of its own."""
        ...

    async def recover_orphans(self, now: datetime) -> int:
        """Rows in ``sending`` whose holder has no live lease (or none at all) go back to ``pending`` marked
        uncertain; rows a live lease holds are never touched. Returns how many. Raises nothing of its own."""
        ...

    async def bring_forward(self, platform: str, now: datetime) -> int:
        """Rows held back by a streak of failures or a pause on ``platform`` become due now (it recovered);
        returns how many. Raises nothing of its own."""
        ...

    async def next_due(self) -> datetime | None:
        """Returns when the earliest pending row falls due; ``None`` when none is pending. Raises nothing of its own."""
        ...

    async def get(self, delivery_id: int) -> Delivery | None:
        """Returns the row, or ``None`` for an unknown id. Raises nothing of its own."""
        ...

    async def by_kind(self, kind: DeliveryKind) -> list[Delivery]:
        """Returns every row of ``kind``, by id. Raises nothing of its own."""
        ...

    async def of_announcement(self, announcement_id: int,
                              kind: DeliveryKind = DeliveryKind.ANNOUNCEMENT) -> list[Delivery]:
        """Returns the announcement's rows of ``kind`` (its copies, or the reports about it), by id. Raises nothing of
        its own."""
        ...

    async def cancel_announcement(self, announcement_id: int, reason: str, now: datetime) -> Stopped:
        """End the announcement's rows still ``pending`` as ``cancelled`` with ``reason`` — its counted rows and
        the ``announcement-copy`` rows alike (those being sent are left); returns how many of each. Raises nothing
        of its own."""
        ...

    async def open_for_announcement(self, announcement_id: int) -> int:
        """Returns how many of the announcement's rows — counted rows and ``announcement-copy`` rows — are still
        ``pending`` or ``sending`` (from counters kept as rows change: the same cost however many it has). Raises
        nothing of its own."""
        ...

    async def take_over(self, copy_id: int) -> bool:
        """A counted row is about to post on the platform of the ``announcement-copy`` row ``copy_id``, which ended
        without posting: make the copy no longer retryable, so ``announce retry`` cannot queue it again behind the
        counted row. Returns False (nothing changed) when the copy is no longer ended — re-queued meanwhile, or
        sent. Raises nothing of its own."""
        ...

    async def by_key(self, dedupe_key: str) -> Delivery | None:
        """Returns the row queued under ``dedupe_key``, or ``None``. Raises nothing of its own."""
        ...


class CircuitStore(Protocol):
    """A circuit per platform (see ``bot/delivery/circuit.py``); each write is atomic, so workers sharing a
    database agree on one probe."""

    async def all(self) -> list[PlatformCircuit]:
        """Returns every platform's circuit (status reports), by platform; a platform that never failed nor paused has
        none. Raises nothing of its own."""
        ...

    async def get(self, platform: str) -> PlatformCircuit | None:
        """Returns the platform's circuit, or ``None`` when it never failed nor paused. Raises nothing of its own."""
        ...

    async def count_failure(self, platform: str, reason: str, now: datetime) -> PlatformCircuit:
        """One more outage-like failure in a row (counted only while closed); returns the circuit after it.
        Raises nothing of its own."""
        ...

    async def open(self, platform: str, failures: int, retry_at: datetime, now: datetime) -> PlatformCircuit | None:
        """Open a closed circuit until ``retry_at``, when one probe may go; returns ``None`` when it was open already
        (another send got there first) or has no row yet. Raises nothing of its own."""
        ...

    async def reopen(self, platform: str, failures: int, retry_at: datetime, reason: str,
                     now: datetime) -> PlatformCircuit | None:
        """A probe failed: stay open until ``retry_at``; returns the circuit, or ``None`` when it had closed
        meanwhile. Raises nothing of its own."""
        ...

    async def claim_probe(self, platform: str, now: datetime, hold_until: datetime) -> bool:
        """Returns True for exactly one caller once an open circuit's ``retry_at`` has passed; the others are held
        until ``hold_until``. False for a closed circuit. Raises nothing of its own."""
        ...

    async def pause(self, platform: str, until: datetime, reason: str, now: datetime) -> PlatformCircuit:
        """The platform asked to slow down: hold its queue until ``until`` (never shortens a pause); returns
        the circuit after it. Raises nothing of its own."""
        ...

    async def close(self, platform: str, now: datetime) -> tuple[PlatformCircuit | None, bool]:
        """A send went through: forget the failures (a rate-limit pause still running stays); returns the
        circuit (``None`` when there was none) and whether it had been open. Raises nothing of its own."""
        ...


class LeaseStore(Protocol):
    """Delivery workers' leases over the rows they hold in ``sending``."""

    async def acquire(self, lease: WorkerLease) -> None:
        """Take the lease, or refresh it for the same holder (its start stays). Returns nothing; raises nothing of its
        own."""
        ...

    async def renew(self, holder: str, expires_at: datetime) -> bool:
        """Extend the lease to ``expires_at``; returns False when it was gone (dropped as stale): the worker must
        acquire it again. Raises nothing of its own."""
        ...

    async def release(self, holder: str) -> None:
        """Give the lease up; a lease already gone is no error. Returns nothing; raises nothing of its own."""
        ...

    async def drop_others(self, holder: str) -> int:
        """Forget every other holder's lease (only when this process provably runs alone); returns how many.
        Raises nothing of its own."""
        ...

    async def all(self) -> list[WorkerLease]:
        """Returns every lease, expired ones too, oldest first. Raises nothing of its own."""
        ...

    async def live(self, now: datetime) -> int:
        """Returns how many leases have not expired at ``now`` (the delivery workers sending). Raises nothing of its
        own."""
        ...


class DeliveryReportStore(Protocol):
    """Delivery reports read counts (never message text); missed rows are summarised once; an announcement's
    transiently failed rows (``retryable``) can be re-queued, permanent failures never."""

    async def announcement_counts(self, announcement_id: int) -> list[DeliveryCount]:
        """Returns the announcement's copies counted by platform, kind and status. Raises nothing of its own."""
        ...

    async def live_counts(self, announcement_id: int) -> list[StatusCount]:
        """Returns the announcement's copies counted by status, from counters kept as rows change (the same cost at
        100 and 100,000 copies; no platform: see :meth:`announcement_counts` for that). Raises nothing of its
        own."""
        ...

    async def copies_sent(self, announcement_id: int) -> int:
        """Returns how many ``announcement-copy`` rows of the announcement were delivered (extra copies on other
        accounts, not people), from the same counters as :meth:`live_counts`. Raises nothing of its own."""
        ...

    async def problems(self, announcement_id: int, limit: int) -> list[ProblemDelivery]:
        """Returns at most ``limit`` of the announcement's copies that failed, were skipped or were missed, oldest
        first, each with its recipient's name. Raises nothing of its own."""
        ...

    async def outbox_counts(self, ended_since: datetime) -> list[DeliveryCount]:
        """Returns rows still open, and those that ended since ``ended_since``, counted by platform, kind and status.
        Raises nothing of its own."""
        ...

    async def unreported_missed(self, limit: int, after_id: int = 0) -> list[MissedDelivery]:
        """Returns at most ``limit`` missed rows not yet summarised, oldest first, from after ``after_id`` (to page past
        rows nobody can be told about yet). Raises nothing of its own."""
        ...

    async def mark_reported(self, delivery_ids: Sequence[int], now: datetime) -> int:
        """Record these rows as summarised; returns how many were not already. Raises nothing of its own."""
        ...

    async def missed_reminders(self, meeting_id: int, limit: int) -> list[MissedReminder]:
        """Returns the series' missed reminders, one per (occurrence, offset), latest start first, at most ``limit``.
        Raises nothing of its own."""
        ...

    async def requeue_retryable(self, announcement_id: int, now: datetime) -> int:
        """Make the announcement's transiently failed copies pending and due ``now`` again, with a fresh
        attempt count; returns how many. Raises nothing of its own."""
        ...
