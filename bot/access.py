"""Who may see what: role resolution and topic visibility, checked in one place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.model import Grant, Identity, Role, Topic, Visibility


@dataclass(frozen=True, slots=True)
class RoleSources:
    """The three places a role comes from; the highest wins."""

    from_settings: Role
    from_platform: Role
    from_grants: Role

    @property
    def effective(self) -> Role:
        return max(self.from_settings, self.from_platform, self.from_grants)


def resolve_roles(identities: Iterable[Identity], admins: frozenset[Identity], platform_role: Role,
                  grants: Iterable[Grant]) -> tuple[RoleSources, frozenset[int]]:
    """Global role sources and the ids of topics coordinated through topic-scoped grants."""
    settings_role = Role.ADMIN if any(identity in admins for identity in identities) else Role.OUTSIDER
    global_grants = [grant.role for grant in grants if grant.topic_id is None]
    coordinated = frozenset(g.topic_id for g in grants if g.topic_id is not None and g.role is Role.COORDINATOR)
    # A topic coordinator is at least a member of the coalition.
    grant_role = max([*global_grants, Role.MEMBER if coordinated else Role.OUTSIDER])
    return RoleSources(settings_role, platform_role, grant_role), coordinated


def coordinates(role: Role, coordinated: frozenset[int], topic: Topic) -> bool:
    return role >= Role.COORDINATOR or topic.id in coordinated


def can_see(topic: Topic, role: Role, coordinated: frozenset[int], *, subscribed: bool, invited: bool) -> bool:
    """Whether the caller may know the topic exists. Archived topics are visible only to coordinators."""
    if topic.archived:
        return coordinates(role, coordinated, topic)
    if topic.visibility is Visibility.PUBLIC:
        return True
    if topic.visibility is Visibility.MEMBERS:
        return role >= Role.MEMBER or coordinates(role, coordinated, topic)
    return subscribed or invited or coordinates(role, coordinated, topic)


def may_receive(topic: Topic, role: Role, coordinated: frozenset[int], *, subscribed: bool) -> bool:
    """Re-checked when a delivery goes out: someone who lost a role stops receiving members-only posts."""
    if topic.archived:
        return False
    if topic.visibility is Visibility.PUBLIC:
        return True
    if topic.visibility is Visibility.MEMBERS:
        return role >= Role.MEMBER or coordinates(role, coordinated, topic)
    return subscribed or coordinates(role, coordinated, topic)
