"""The core's configuration: plain values handed in by the composition root (the core reads no settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.model import Identity


@dataclass(frozen=True, slots=True)
class CoreConfig:
    coalition_name: str = "Coalition"
    default_timezone: str = "UTC"
    default_language: str = "en"
    admins: frozenset[Identity] = field(default_factory=frozenset)
    request_expiry: timedelta = timedelta(days=14)
