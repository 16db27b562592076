"""The stores email followers need: signups waiting for their confirmation link, the key of each address's
manage and unsubscribe links, the stamps the subscribe form's rate limits count, and each address's bounce
health.

:class:`bot.ports.Store` names them (``email``, ``email_health``); ``storage/email.py`` implements them. What any
store method may raise beyond what its docstring says is written once, in :mod:`bot.ports`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.email.model import EmailKey, Signup
from bot.subscriptions.model import DeliveryMode


class EmailStore(Protocol):
    """Signups, link keys and rate-limit stamps. Addresses are the external ids of ``email`` identities."""

    async def client_salt(self) -> str:
        """Returns the random salt rate-limit subjects are hashed with (made once, by the migration). Raises
        nothing of its own."""
        ...

    async def count_stamps(self, subject: str, since: datetime) -> int:
        """Returns how many requests were stamped for ``subject`` (a salted hash) after ``since``. Raises
        nothing of its own."""
        ...

    async def stamp(self, subjects: tuple[str, ...], now: datetime) -> None:
        """Record one request for each of ``subjects`` at ``now``. Returns nothing; raises nothing of its own."""
        ...

    async def add_signup(self, person_id: int, address: str, topic_id: int, mode: DeliveryMode, language: str,
                         zone: str, token: str, now: datetime, expires_at: datetime, *,
                         used: bool = False) -> Signup:
        """Store a signup (``used``: already spent, for a request that needs no confirmation). Returns it. Raises
        nothing of its own (a repeated token is a database integrity error)."""
        ...

    async def signup(self, token: str) -> Signup | None:
        """Returns the signup with ``token``, used or not, expired or not; ``None`` for none. Raises nothing of its
        own."""
        ...

    async def use_signup(self, signup_id: int, now: datetime) -> bool:
        """Mark the signup used if it is unused and unexpired at ``now``; returns whether this call did (so of two
        at once, exactly one gets ``True``). Raises nothing of its own."""
        ...

    async def ensure_key(self, address: str, key: str, now: datetime) -> str:
        """Returns the key of the ``email`` identity ``address``, storing ``key`` when it has none. The identity
        must exist (a foreign key). Raises nothing of its own."""
        ...

    async def mark_confirmed(self, address: str, now: datetime) -> None:
        """Remember that ``address`` confirmed a signup (the first time only), so pruning keeps it. Returns
        nothing; raises nothing of its own."""
        ...

    async def key_of(self, address: str) -> str | None:
        """Returns the key of ``address``; ``None`` when it has none. Raises nothing of its own."""
        ...

    async def follower_key(self, address: str) -> str | None:
        """Returns the key of ``address`` once it has confirmed a signup (:meth:`mark_confirmed`); ``None`` before,
        or for no key. Raises nothing of its own."""
        ...

    async def by_key(self, key: str) -> EmailKey | None:
        """Returns the address and person behind ``key``; ``None`` for an unknown (or rotated) key. Raises nothing
        of its own."""
        ...

    async def remove_address(self, address: str) -> int | None:
        """Delete the ``email`` identity ``address`` with its key and its signups; returns its person's id, or
        ``None`` when there was no such identity. The person stays (see :meth:`remove_person_if_unused`). Raises
        nothing of its own."""
        ...

    async def remove_person_if_unused(self, person_id: int) -> bool:
        """Delete the person when nothing is left of them: no identity, and nothing they wrote or decided
        (announcements, meetings, audit entries, grants or requests decided). Returns whether it did. Raises
        nothing of its own."""
        ...

    async def prune(self, now: datetime, stamps_before: datetime) -> tuple[int, int]:
        """Delete signups expired at ``now``, used or not, and rate-limit stamps older than ``stamps_before``; then
        every ``email`` identity that never confirmed (:meth:`mark_confirmed`) and is left with no subscription,
        no pending request, no signup and no other identity on its person, with the person (when nothing else
        holds it). Returns (signups deleted, people deleted).
        Raises nothing of its own."""
        ...


class EmailHealthStore(Protocol):
    """Consecutive permanent refusals per address, and whether mail to it is paused."""

    async def refused(self, address: str, now: datetime, pause_after: int) -> int:
        """Count one more consecutive refusal; the address is paused from the ``pause_after``-th on. Returns the
        count. Raises nothing of its own."""
        ...

    async def delivered(self, address: str) -> None:
        """A mail was accepted: the count starts again and any pause ends (the address works). Returns nothing;
        raises nothing of its own."""
        ...

    async def is_paused(self, address: str) -> bool:
        """Returns whether mail to ``address`` is paused. Raises nothing of its own."""
        ...

    async def resume(self, address: str) -> bool:
        """Unpause ``address`` and reset its count; returns whether it was paused. Raises nothing of its own."""
        ...
