"""Where a person's role comes from: the settings file, their platform, and stored grants.

A platform role belongs to the identity it came from (issue 21, point 3). A person calling through one identity
gets another identity's stored platform role only while that platform vouches for it: :class:`PeopleService` asks
the platform again once the answer is :data:`ROLE_CHECK_EVERY` old, and while the platform cannot be asked (not
running, an error, too slow) the stored role keeps counting for :data:`ROLE_TRUSTED_FOR` after it was last
confirmed, and no longer. Without this, a Slack guest linked to a Discord member kept "member" for ever after the
Discord account left the server, as long as the Discord account itself never talked to the bot again.

The same holds when nobody is calling (a digest, an approval, an invitation): for a person with two or more
identities, each stored platform role counts only while fresh, and the platforms are asked first. Without it, that
guest kept getting members-only items in their digests (second review, point 5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.model import Grant, Identity, IdentityRecord, Role, RoleSources

ROLE_CHECK_EVERY = timedelta(minutes=10)
"""How long a platform's answer about an identity's role is taken as it is: a command through another identity
asks that platform again only after this, so most commands cost no platform call (contact through the identity
itself confirms it too)."""
ROLE_TRUSTED_FOR = timedelta(hours=24)
"""How long after its last confirmation a stored platform role still counts for the person calling through another
identity when its platform cannot be asked. Long enough that an outage of one platform, or a restart while it
connects, does not take away what a linked person may do on the other; short enough that someone removed from a
platform the bot no longer reaches does not keep its role through a linked account for more than a day."""
ROLE_RETRY = timedelta(minutes=1)
"""After a platform could not be asked about an identity, how long before it is asked again: a platform that is
down must not add a failing call (and its wait) to every command."""
ROLE_CHECK_SECONDS = 2.0
"""How long a command waits for a platform's answer about a role before it goes on as if it could not be asked:
well inside the three seconds Discord gives an interaction (an autocomplete among them) to be answered."""


class RoleChecker(Protocol):
    """Asks an identity's own platform what role it gives that identity now (the composition root answers through
    the running adapters' :class:`~bot.ports.PlatformRoles`)."""

    async def current_role(self, identity: Identity) -> Role | None:
        """Returns the role ``identity``'s platform gives it now, or ``None`` when the platform cannot be asked (it
        is not running, or asking failed). Raises nothing of its own."""
        ...


def resolve_roles(identities: Iterable[Identity], admins: frozenset[Identity], platform_role: Role,
                  grants: Iterable[Grant]) -> tuple[RoleSources, frozenset[int]]:
    """Global role sources and the ids of topics coordinated through topic-scoped grants."""
    settings_role = Role.ADMIN if any(identity in admins for identity in identities) else Role.OUTSIDER
    global_grants = [grant.role for grant in grants if grant.topic_id is None]
    coordinated = frozenset(g.topic_id for g in grants if g.topic_id is not None and g.role is Role.COORDINATOR)
    # A topic coordinator is at least a member of the coalition.
    grant_role = max([*global_grants, Role.MEMBER if coordinated else Role.OUTSIDER])
    return RoleSources(settings_role, platform_role, grant_role), coordinated


def counted_platform_role(identities: Sequence[IdentityRecord], via: Identity | None,
                          checked_at: Callable[[Identity], datetime | None], now: datetime) -> Role:
    """The platform role that counts for a person calling through ``via``: that identity's own (its platform gave
    it with the call), and each other identity's stored one confirmed less than :data:`ROLE_TRUSTED_FOR` ago.

    Without ``via`` (a digest, an approval, an invitation, a delivery: nobody is calling) the same rule holds for
    every identity of a person who has two or more: one stored role may be another platform's that since took it
    away, and nothing else would ever notice (second review, point 5). Those paths ask the platforms first
    (:meth:`PeopleService.caller_for_person`, the delivery worker), so a role that is still given is fresh. A person
    with one identity keeps its stored role: it is refreshed on contact, and taking it away a day after they last
    wrote would cost a member who only reads everything members-only."""
    if via is None and len(identities) < 2:
        return max((record.platform_role for record in identities), default=Role.OUTSIDER)

    def counts(record: IdentityRecord) -> bool:
        confirmed = checked_at(record.identity)
        return record.identity == via or (confirmed is not None and now - confirmed < ROLE_TRUSTED_FOR)
    return max((record.platform_role for record in identities if counts(record)), default=Role.OUTSIDER)


def due_for_check(identities: Sequence[IdentityRecord], via: Identity | None, floor: Role,
                  checked_at: Callable[[Identity], datetime | None], now: datetime) -> list[Identity]:
    """The identities other than ``via`` (every one without it) whose stored platform role is what would lift the
    person above ``floor`` (what they have anyway: ``via``'s platform role, the settings file, grants), and whose
    platform last confirmed it :data:`ROLE_CHECK_EVERY` ago or more. Highest role first; none below a role
    confirmed since."""

    def fresh(record: IdentityRecord) -> bool:
        confirmed = checked_at(record.identity)
        return confirmed is not None and now - confirmed < ROLE_CHECK_EVERY
    others = [record for record in identities if record.identity != via]
    floor = max([floor, *(record.platform_role for record in others if fresh(record))])
    due = [record for record in others if record.platform_role > floor and not fresh(record)]
    return [record.identity for record in sorted(due, key=lambda record: record.platform_role, reverse=True)]
