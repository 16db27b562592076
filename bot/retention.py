"""Retention: once a day, delete what the coalition chose not to keep (``[privacy]`` in the settings):
finished delivery rows (and the platform's records of sending them), audit entries and past meetings older than
their windows. Link codes that can no longer be confirmed and wrong-code records older than the longest rate
limit go too: they are worth nothing then, whatever the settings say, and were otherwise pruned only when someone
issued or typed a code.

The core never reads the settings: the composition root hands it a :class:`RetentionPolicy`. When the job last
ran is kept in the database (:class:`RetentionStore`), so a restart neither runs it twice in a day nor waits
a whole day again. The log says how many rows went, never what they held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.linking.service import LIFETIME, LinkLimits

log = logging.getLogger(__name__)

JOB = "retention"
EVERY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each kind of record is kept; ``None``: for ever."""

    deliveries: timedelta | None = timedelta(days=90)
    audit: timedelta | None = timedelta(days=365)
    past_meetings: timedelta | None = timedelta(days=365)

    @classmethod
    def from_days(cls, deliveries: int, audit: int, past_meetings: int) -> RetentionPolicy:
        """From whole days as the settings write them, 0 meaning for ever."""
        def window(days: int) -> timedelta | None:
            if days < 0:
                raise ValueError("a retention window cannot be negative")
            return timedelta(days=days) if days else None
        return cls(deliveries=window(deliveries), audit=window(audit), past_meetings=window(past_meetings))


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows one run deleted, by kind (what the log reports)."""

    deliveries: int = 0
    audit_entries: int = 0
    meetings: int = 0
    send_attempts: int = 0
    link_codes: int = 0
    link_attempts: int = 0


class RetentionStore(Protocol):
    """Deletes by age, and remembers when a periodic job last ran. Raises nothing of its own."""

    async def last_run(self, job: str) -> datetime | None:
        """Returns when ``job`` last completed, ``None`` if never. Raises nothing of its own."""
        ...

    async def mark_run(self, job: str, now: datetime) -> None:
        """Record that ``job`` completed at ``now``; returns nothing. Raises nothing of its own."""
        ...

    async def prune_deliveries(self, ended_before: datetime) -> int:
        """Delete finished delivery rows that ended before ``ended_before`` (never pending or sending ones,
        nor one an unfinished announcement or an unsent missed report still needs), leaving every
        announcement's report numbers as they were; returns how many. Raises nothing of its own."""
        ...

    async def prune_send_attempts(self, before: datetime) -> int:
        """Delete the records of when a message was first attempted (Discord's, keyed by the delivery, so they
        name its recipient) made before ``before``, except those of a delivery still pending or sending (a retry
        still needs to know); returns how many. Raises nothing of its own."""
        ...

    async def prune_link_codes(self, expired_before: datetime) -> int:
        """Delete link codes used (a used code can never be claimed again) or expired before ``expired_before``;
        returns how many. Raises nothing of its own."""
        ...

    async def prune_link_attempts(self, before: datetime) -> int:
        """Delete the records of wrong link codes typed before ``before``; returns how many. Raises nothing of its
        own."""
        ...

    async def prune_audit(self, before: datetime) -> int:
        """Delete audit entries written before ``before``; returns how many. Raises nothing of its own."""
        ...

    async def prune_meetings(self, ended_before: datetime) -> int:
        """Delete meetings that ended before ``ended_before``, with their occurrences, RSVPs and reminder
        records; returns how many meetings. Raises nothing of its own."""
        ...


class Retention:
    """The daily prune. :meth:`run_due` is cheap when it is not due (one indexed read), so the app's scheduled
    work calls it every round."""

    def __init__(self, store: RetentionStore, clock: Clock, policy: RetentionPolicy,
                 link_limits: LinkLimits | None = None) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        limits = link_limits or LinkLimits()
        self._attempts_window = max(limits.identity_window, limits.everyone_window)

    async def run_due(self) -> Pruned | None:
        """Prune if the last run is a day old or more (or there was none); ``None`` when it was not due."""
        now = self._clock.now()
        last = await self._store.last_run(JOB)
        if last is not None and now - last < EVERY:
            return None
        pruned = await self.prune(now)
        await self._store.mark_run(JOB, now)
        log.info("retention: pruned %d delivery rows, %d send attempt records, %d audit entries, %d past meetings,"
                 " %d link codes, %d wrong link code records", pruned.deliveries, pruned.send_attempts,
                 pruned.audit_entries, pruned.meetings, pruned.link_codes, pruned.link_attempts)
        return pruned

    async def prune(self, now: datetime) -> Pruned:
        """Delete everything older than its window at ``now``, whether due or not."""
        policy = self._policy
        return Pruned(
            deliveries=await self._store.prune_deliveries(now - policy.deliveries) if policy.deliveries else 0,
            # The same window as the deliveries: a record of sending lives as long as the row it was sent for.
            send_attempts=await self._store.prune_send_attempts(now - policy.deliveries) if policy.deliveries else 0,
            audit_entries=await self._store.prune_audit(now - policy.audit) if policy.audit else 0,
            meetings=await self._store.prune_meetings(now - policy.past_meetings) if policy.past_meetings else 0,
            # A code typed just before it expired may be confirmed for one more lifetime: only then is it worthless.
            link_codes=await self._store.prune_link_codes(now - LIFETIME),
            # Older than every rate-limit window, a wrong code counts towards no limit.
            link_attempts=await self._store.prune_link_attempts(now - self._attempts_window),
        )
