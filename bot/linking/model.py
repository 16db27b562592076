"""The values of account linking: a code as stored, a proposal waiting for the issuer, and the merge plan a person
sees before confirming (the same value the merge returns, so what was shown is what was done)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.model import Identity


class CodeState(StrEnum):
    """``issued``: waiting for ``link <code>``; ``proposed``: claimed, waiting for the issuer's confirmation;
    ``used``: confirmed (the code can never be claimed again)."""

    ISSUED = "issued"
    PROPOSED = "proposed"
    USED = "used"


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A live code found by its hash: who issued it, and the person behind them now."""

    id: int
    issuer: Identity
    issuer_person_id: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Proposal:
    """A claimed code waiting for its issuer: who claimed it and when (the confirmation window counts from
    then), and the reference its buttons carry (``None``: proposed before references existed)."""

    id: int
    issuer: Identity
    claimer: Identity
    proposed_at: datetime
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class MergePlan:
    """What joining the absorbed person into the survivor does, counted from both sides' rows.

    The survivor is the person behind the identity that issued the code (it confirms); the absorbed person is the
    claimer's, deleted once their rows have moved. Topic slugs are shown because the person follows them (before
    the confirmation only the public ones: see ``public``); nothing here names another person."""

    survivor_id: int
    absorbed_id: int
    survivor_platforms: tuple[str, ...]
    absorbed_platforms: tuple[str, ...]
    identities: int
    """Accounts that move to the survivor."""
    new_topics: tuple[str, ...]
    """Topics only the absorbed person followed: the survivor follows them afterwards."""
    more_often: tuple[str, ...]
    """Topics both follow where the absorbed person's mode is the more frequent one, which is kept."""
    requests: int
    """Subscription requests (any state) that move."""
    withdrawn: tuple[str, ...]
    """Topics whose pending request is withdrawn: a duplicate, or the merged person follows the topic."""
    invitations: int
    """Invitations that move (a duplicate keeps one)."""
    grants: int
    """Grants the survivor gains (a duplicate keeps the older)."""
    rsvps: int
    """Answers that move or replace an older answer for the same occurrence."""
    history: int
    """Finished messages (sent, failed …) that move as they are."""
    queued: int
    """Queued messages that move."""
    duplicates: int
    """Queued messages dropped, of either side, because the person gets or got the same one through the other
    side's row (``storage/linking_merge.py`` says which of two stays)."""
    settings: tuple[str, ...]
    """Settings the survivor has not set and takes from the absorbed person: ``timezone``, ``language``,
    ``preferred_platform``, ``organisation``, ``country``."""
    public: frozenset[str] = frozenset()
    """The slugs among ``new_topics``, ``more_often`` and ``withdrawn`` of public topics: before the merge is
    confirmed, the only ones named to the identity that gave the code (the claimer may be a stranger to it)."""

    @property
    def platforms(self) -> tuple[str, ...]:
        """Every platform of the merged person, sorted: what the audit log names (never a handle)."""
        return tuple(sorted({*self.survivor_platforms, *self.absorbed_platforms}))
