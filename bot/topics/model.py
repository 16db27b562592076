"""A topic: who may see it (visibility) and how people join it (policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Visibility(StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"
    PRIVATE = "private"


class Policy(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    slug: str
    title: str
    description: str
    visibility: Visibility
    policy: Policy
    archived: bool
    created_at: datetime


class InviteOutcome(StrEnum):
    """What ``topic invite`` did: invited and told, or nothing because they follow or are invited already."""

    INVITED = "invited"
    INVITED_ALREADY = "invited-already"
    FOLLOWS = "follows"


@dataclass(frozen=True, slots=True)
class SeenTopic:
    """A topic with what decides whether one person may see it besides their role: whether they follow it and
    whether they hold an invitation to it. The store joins both in, so no feature asks per topic."""

    topic: Topic
    subscribed: bool
    invited: bool
