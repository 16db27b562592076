"""Who may see a topic, and who may still receive its posts: checked in one place."""

from __future__ import annotations

from bot.model import Role
from bot.topics.model import Topic, Visibility


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
