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
    languages: tuple[str, ...] = ()
    """The coalition's languages, in the order a public channel post carries them; empty: just
    ``default_language`` (the composition root checked that each one is shipped)."""

    @property
    def channel_languages(self) -> tuple[str, ...]:
        """What the read-only public channel is written in: each of the coalition's languages, in order."""
        return self.languages or (self.default_language,)
