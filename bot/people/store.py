"""The stores the people feature needs: people with their platform identities, and the roles granted in the bot.

:class:`bot.ports.Store` names them; ``storage/people.py`` and ``storage/grants.py`` implement them. What any store
method may raise beyond what its docstring says is written once, in :mod:`bot.ports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.model import Grant, Identity, IdentityRecord, Person, Role


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything a caller is made of, read in one query: every command starts with one, so it costs one
    round trip to the database rather than one per table."""

    person: Person
    identities: tuple[IdentityRecord, ...]
    """By platform and id; never empty when looked up through an identity."""
    grants: tuple[Grant, ...]
    """Oldest first."""
    last_seen_at: datetime | None
    """When the identity it was looked up through last made contact (``None`` looked up by person, or never)."""
    locales: tuple[tuple[Identity, str], ...] = ()
    """The locale each identity's platform last gave (Slack's profile, Discord's client), raw as the platform
    spells it; identities whose platform never gave one are not listed. Remembered so that a DM sent later,
    with no platform event to read it from, is in the language the person's client is in."""
    roles_checked: tuple[tuple[Identity, datetime], ...] = ()
    """When each identity's stored platform role was last confirmed by its own platform (contact through it, or a
    check that got an answer); identities never confirmed are not listed. A role one identity holds counts for
    the person calling through another only while it is fresh (:mod:`bot.people.roles`)."""

    def locale_of(self, identity: Identity) -> str | None:
        """The locale ``identity``'s platform last gave, ``None`` when it never gave one."""
        return next((locale for known, locale in self.locales if known == identity), None)

    def role_checked_at(self, identity: Identity) -> datetime | None:
        """When ``identity``'s platform last confirmed its stored role, ``None`` when never."""
        return next((at for known, at in self.roles_checked if known == identity), None)


class PeopleStore(Protocol):
    """People and their platform identities (one person may be known on several platforms)."""

    async def ensure_identity(self, identity: Identity, display_name: str, now: datetime) -> IdentityRecord:
        """Returns the identity's record, creating it and a new person on first contact. Raises nothing of its own."""
        ...

    async def touch_identity(self, identity: Identity, display_name: str, platform_role: Role,
                             platform_timezone: str | None, now: datetime, platform_locale: str | None = None) -> None:
        """Record contact: refreshes name, platform role (confirmed ``now``: the platform gave it with the event),
        zone and the identity's locale (each kept when ``None``), and reopens DMs marked closed. An unknown
        identity changes nothing; returns nothing and raises nothing of its own."""
        ...

    async def get(self, person_id: int) -> Person | None:
        """Returns the person, or ``None`` for an unknown id. Raises nothing of its own."""
        ...

    async def profile(self, person_id: int) -> Profile | None:
        """Returns the person with their identities and grants, or ``None`` for an unknown id. One query; raises
        nothing of its own."""
        ...

    async def profile_of(self, identity: Identity) -> Profile | None:
        """Returns the person behind ``identity`` with all their identities and grants, or ``None`` when it never
        made contact. One query; raises nothing of its own."""
        ...

    def writes(self) -> int:
        """Returns a number that moves whenever this process may have written to the store (any write, committed or
        not, rolled back, and not only to people): a profile read while it stayed the same is still current. Costs
        no query; raises nothing."""
        ...

    async def identity(self, identity: Identity) -> IdentityRecord | None:
        """Returns the identity's record, or ``None`` when it never made contact. Raises nothing of its own."""
        ...

    async def identities_of(self, person_id: int) -> list[IdentityRecord]:
        """Returns the person's identities by platform and id; [] for an unknown person. Raises nothing of its own."""
        ...

    async def find_by_name(self, name: str) -> list[Person]:
        """Returns people whose name or an identity's name (case-insensitive) or external id is exactly ``name``, by
        id; [] when none. Raises nothing of its own."""
        ...

    async def set_timezone(self, person_id: int, timezone: str | None) -> None:
        """Set the zone the person chose (``None``: back to the platform's). The caller validated it; an
        unknown person changes nothing. Returns nothing; raises nothing of its own."""
        ...

    async def set_language(self, person_id: int, language: str | None) -> None:
        """Set the person's language (``None``: the coalition's). An unknown person changes nothing; returns nothing and
        raises nothing of its own."""
        ...

    async def set_preferred_platform(self, person_id: int, platform: str | None) -> None:
        """Set the platform the person's direct messages go through (``all``: every account; ``None``: the first
        reachable). The caller checked they have an identity there; an unknown person changes nothing. Returns
        nothing; raises nothing of its own."""
        ...

    async def set_dm_closed(self, identity: Identity, reason: str | None) -> None:
        """Mark the identity's DMs closed with ``reason`` (``None``: open again). An unknown identity changes
        nothing; returns nothing and raises nothing of its own."""
        ...

    async def set_platform_role(self, identity: Identity, role: Role, checked_at: datetime | None = None) -> None:
        """Record the role the platform gives the identity now; with ``checked_at``, also that the platform confirmed
        it then (without, when it was last confirmed is kept). An unknown identity changes nothing; returns nothing
        and raises nothing of its own."""
        ...

    async def set_dm_channel(self, identity: Identity, channel_id: str) -> None:
        """Remember the identity's DM channel. An unknown identity changes nothing; returns nothing and raises nothing
        of its own."""
        ...

    async def count(self) -> int:
        """Returns how many people are known. Raises nothing of its own."""
        ...


class GrantStore(Protocol):
    """Roles granted in the bot (``bot.model.Grant``), coalition-wide or for one topic."""

    async def of_person(self, person_id: int) -> list[Grant]:
        """Returns the person's grants, oldest first; [] for none. Raises nothing of its own."""
        ...

    async def add(self, person_id: int, role: Role, topic_id: int | None, granted_by: int | None,
                  now: datetime) -> bool:
        """Grant ``role`` (for ``topic_id``, or all topics with ``None``); returns False when the grant existed
        already. Raises nothing of its own."""
        ...

    async def remove(self, person_id: int, role: Role, topic_id: int | None) -> bool:
        """Withdraw exactly that grant; returns False when there was none. Raises nothing of its own."""
        ...

    async def coordinators_of(self, topic_id: int) -> list[int]:
        """Returns people with a coordinator grant for this topic or for all topics, by id. Raises nothing of its
        own."""
        ...

    async def admins(self, identities: Sequence[Identity]) -> list[int]:
        """Returns people with an admin grant, plus the people behind ``identities`` (admins named in settings) that
        made contact, by id. Raises nothing of its own."""
        ...
