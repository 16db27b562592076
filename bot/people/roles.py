"""Where a person's role comes from: the settings file, their platform, and stored grants."""

from __future__ import annotations

from collections.abc import Iterable

from bot.model import Grant, Identity, Role, RoleSources


def resolve_roles(identities: Iterable[Identity], admins: frozenset[Identity], platform_role: Role,
                  grants: Iterable[Grant]) -> tuple[RoleSources, frozenset[int]]:
    """Global role sources and the ids of topics coordinated through topic-scoped grants."""
    settings_role = Role.ADMIN if any(identity in admins for identity in identities) else Role.OUTSIDER
    global_grants = [grant.role for grant in grants if grant.topic_id is None]
    coordinated = frozenset(g.topic_id for g in grants if g.topic_id is not None and g.role is Role.COORDINATOR)
    # A topic coordinator is at least a member of the coalition.
    grant_role = max([*global_grants, Role.MEMBER if coordinated else Role.OUTSIDER])
    return RoleSources(settings_role, platform_role, grant_role), coordinated
