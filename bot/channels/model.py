"""A channel bound to a topic or to the public feed, on one platform."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChannelBinding:
    platform: str
    channel_id: str
