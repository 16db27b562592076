"""Who may see a topic, and who may still receive its posts: the rule, defined once. It is pure, so a feature
never re-states it; :mod:`bot.topics.visibility` applies it to what the store returns in one query."""

from __future__ import annotations

import dataclasses

from bot.model import Role
from bot.topics.model import Policy, Topic, Visibility


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


def knows_of(topic: Topic, role: Role, coordinated: frozenset[int], *, subscribed: bool, invited: bool) -> bool:
    """Whether the caller could see the topic were it not archived. Archived topics are not listed to them,
    but naming one gets "it is archived" rather than "there is no such topic", which would send them looking
    for a typo; whoever could not see it live still learns nothing."""
    live = dataclasses.replace(topic, archived=False)
    return can_see(live, role, coordinated, subscribed=subscribed, invited=invited)


def may_receive(topic: Topic, role: Role, coordinated: frozenset[int], *, subscribed: bool) -> bool:
    """Re-checked when a delivery goes out: someone who lost a role stops receiving members-only posts."""
    if topic.archived:
        return False
    if topic.visibility is Visibility.PUBLIC:
        return True
    if topic.visibility is Visibility.MEMBERS:
        return role >= Role.MEMBER or coordinates(role, coordinated, topic)
    return subscribed or coordinates(role, coordinated, topic)


def needs_approval(topic: Topic, role: Role, coordinated: frozenset[int], *, invited: bool) -> bool:
    """Whether joining waits for a coordinator: an approval topic, unless the caller coordinates it or holds an
    invitation. The listing, its buttons and ``subscribe`` all ask this, so they never disagree."""
    return topic.policy is Policy.APPROVAL and not invited and not coordinates(role, coordinated, topic)
