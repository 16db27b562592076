"""A channel bound to a topic or to the public feed, on one platform."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChannelPurpose(StrEnum):
    """What a bound channel carries; the values are what ``channel_bindings.purpose`` has always stored."""

    PUBLIC = "public"
    """The public feed: announcements of public topics."""
    TOPIC = "topic"
    """One topic's channel (with its topic id)."""


@dataclass(frozen=True, slots=True)
class ChannelBinding:
    platform: str
    channel_id: str
