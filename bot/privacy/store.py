"""The store the privacy feature needs; ``storage/privacy.py`` implements it. What any store method may raise
beyond what its docstring says is written once, in :mod:`bot.ports`."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.privacy.model import Erasure, PersonData


class PrivacyStore(Protocol):
    """Every row that names a person, read together or erased together."""

    async def person_data(self, person_id: int, now: datetime) -> PersonData | None:
        """Returns everything held about the person (their deliveries only, never another's), or ``None`` for an
        unknown id; ``now`` tells an email sign-up waiting for its link from an expired one. Raises nothing of its
        own."""
        ...

    async def erase(self, person_id: int, now: datetime) -> Erasure | None:
        """Erase the person in one transaction (joining the caller's when one is open): their identities,
        settings, subscriptions, requests, invitations, RSVPs, grants, digest items, deliveries addressed to them,
        their addresses' email keys, signups and health; announcements and meetings they wrote stay, attributed to
        :data:`~bot.privacy.model.FORMER_PERSON_ID`; audit entries they made lose their actor and entries about
        them (:mod:`bot.audit.about`) every mention of them; Discord's first-attempt records of messages to them go.
        Announcement reports keep counting the copies that had already gone out to them (sent, failed, skipped,
        missed, cancelled, or carried in a digest) and stop counting those that had not. Records nothing in the
        audit log itself. Returns what was removed, or ``None`` when the
        person is already gone (nothing changes). Raises nothing of its own."""
        ...
