"""What the Discord adapter keeps and reads, each through a small port the composition root hands it.

The adapter never sees the SQLite store (nor imports ``storage/``): it gets exactly the ports it persists
through, and the one core rule it asks about stored channels, already bound to the core's store. Importing this
module loads no discord.py, so the root can build the bundle before the adapter's SDK is needed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.adapter_stores import ActionTokenStore, PublishStore, SendAttemptStore
from bot.model import Identity
from bot.people.store import PeopleStore

ForwardCheck = Callable[[str, str], Awaitable[bool]]
"""``(platform, channel_id)``: whether posts in that channel may be forwarded beyond the coalition's server
(:func:`bot.channels.service.may_forward`, bound to the core's store by the root)."""


class SeenDeliveries(Protocol):
    """The deliveries handled already, shared by every process on the database (``storage/handled_events.py``):
    what lets one process, of those whose gateway sessions received an interaction, handle it."""

    async def first_seen(self, key: str, now: datetime) -> bool:
        """Returns True the first time ``key`` is claimed, by any process; False ever after (until pruned). Raises
        only what the database raises."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forgets the keys first seen before ``before``; returns how many. Raises only what the database
        raises."""
        ...


@dataclass(frozen=True, slots=True)
class DiscordStores:
    people: PeopleStore
    """Where each person's DM channel is remembered, so one is opened once per person."""
    action_tokens: ActionTokenStore
    send_attempts: SendAttemptStore
    publishes: PublishStore
    may_forward: ForwardCheck
    forget_dm: Callable[[Identity, str], Awaitable[bool]] | None = None
    """Clears a stored DM channel Discord no longer knows (``DirectChannelStore.forget``), so it is reopened."""
    seen: SeenDeliveries | None = None
    """Where each interaction is claimed before it is handled (:mod:`adapters.discord.once`), so that two gateway
    sessions receiving it (a takeover, a resume) handle it once. None: every interaction is handled."""
