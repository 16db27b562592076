"""Where the core reads the time: a port, so tests drive it (``FixedClock``) and nothing sleeps to wait.

On its own, not in :mod:`bot.ports`: the command framework needs the time and must not depend on the store
protocols, which name every feature's values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Returns the current instant, timezone-aware in UTC. Raises nothing."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
