"""The store the linking feature needs; ``storage/linking.py`` implements it. What any store method may raise beyond
what its docstring says is written once, in :mod:`bot.ports`."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.linking.model import IssuedCode, MergePlan, Proposal
from bot.model import Identity


class LinkStore(Protocol):
    """Link codes (hashes only), wrong-code attempts, and the merge and split of people."""

    async def issue(self, issuer: Identity, code_hash: str, now: datetime, expires_at: datetime) -> None:
        """Store a new code for ``issuer``, replacing any earlier one of theirs (issued, proposed or used). Returns
        nothing; raises nothing of its own."""
        ...

    async def find_issued(self, code_hash: str, now: datetime) -> IssuedCode | None:
        """Returns the code with this hash while it is ``issued`` and not expired at ``now``, else ``None``
        (unknown, expired, claimed, used or replaced look alike). Raises nothing of its own."""
        ...

    async def propose(self, code_id: int, claimer: Identity, now: datetime, reference: str) -> bool:
        """Mark the code proposed by ``claimer`` under ``reference`` (what its buttons carry) if it is still
        ``issued``; returns whether it was. Raises nothing of its own."""
        ...

    async def proposal_of(self, issuer: Identity) -> Proposal | None:
        """Returns the proposal waiting for ``issuer`` (their code, claimed and not yet confirmed or cancelled), or
        ``None``. Raises nothing of its own."""
        ...

    async def use(self, code_id: int) -> bool:
        """Mark the proposal used if it still is one (``proposed`` → ``used``); returns whether this call did, so of
        two concurrent confirms exactly one merges. Raises nothing of its own."""
        ...

    async def withdraw(self, issuer: Identity, reference: str | None = None) -> bool:
        """Delete ``issuer``'s code unless it was used — with ``reference``, only the proposal of that reference;
        returns whether there was one. Raises nothing of its own."""
        ...

    async def withdraw_claim(self, claimer: Identity, reference: str | None = None) -> bool:
        """Delete the code ``claimer`` claimed while its issuer has not confirmed it (the claimer backs out: the
        issuer then has nothing to confirm) — with ``reference``, only the proposal of that reference; returns
        whether there was one. Raises nothing of its own."""
        ...

    async def record_wrong(self, claimer: Identity, now: datetime, forget_before: datetime) -> None:
        """Record a wrong code typed by ``claimer`` at ``now``, and forget every attempt older than
        ``forget_before``. Returns nothing; raises nothing of its own."""
        ...

    async def wrong_since(self, since: datetime, claimer: Identity | None = None) -> list[datetime]:
        """Returns when wrong codes were typed after ``since`` (by ``claimer``, or by anyone), oldest first.
        Raises nothing of its own."""
        ...

    async def plan(self, survivor_id: int, absorbed_id: int) -> MergePlan:
        """Returns what :meth:`merge` would do now; changes nothing. Raises ``LookupError`` when either person is
        unknown."""
        ...

    async def merge(self, survivor_id: int, absorbed_id: int, now: datetime) -> MergePlan:
        """Move everything of the absorbed person to the survivor by the merge rules (see
        :class:`~bot.linking.model.MergePlan`; a request withdrawn on the way is decided at ``now``), repoint every
        column and audit subject that names them, and delete them, in one transaction (joining the caller's).
        Returns the plan it carried out. Raises ``LookupError`` when either person is unknown (nothing changes)."""
        ...

    async def split(self, person_id: int, platform: str, now: datetime) -> int:
        """Move the person's identities on ``platform`` to a new person with the first one's display name and the
        person's language and time zone (nothing else), clearing the person's preferred platform when it was that
        one. Returns the new person's id. Raises ``LookupError`` when the person has no identity there."""
        ...
