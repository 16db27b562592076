"""Who someone is and what role they hold: the values every part of the core shares. Frozen, typed,
platform-free; each capability keeps its own values in its folder (``bot/topics/model.py`` …)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from bot.i18n import Text, _


class Role(IntEnum):
    """Roles are ordered: a higher role can do everything a lower one can."""

    OUTSIDER = 0
    MEMBER = 1
    COORDINATOR = 2
    ADMIN = 3

    @property
    def label(self) -> Text:
        return ROLE_LABELS[self]

    @classmethod
    def parse(cls, value: str) -> Role:
        """Raises ``KeyError`` for a name that is no role."""
        return cls[value.strip().upper()]


ROLE_LABELS: dict[Role, Text] = {
    Role.OUTSIDER: _("outsider"),
    Role.MEMBER: _("member"),
    Role.COORDINATOR: _("coordinator"),
    Role.ADMIN: _("admin"),
}


@dataclass(frozen=True, slots=True)
class Identity:
    """One account on one platform, e.g. ``slack:U123`` or ``console:demo-admin``."""

    platform: str
    external_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"

    @classmethod
    def parse(cls, value: str) -> Identity:
        """Parse ``platform:id``; raises ``ValueError`` when there is no colon or an empty part."""
        platform, sep, external_id = value.strip().partition(":")
        if not sep or not platform or not external_id:
            raise ValueError(f"not an identity: {value!r}")
        return cls(platform.lower(), external_id)


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    display_name: str
    timezone: str | None
    language: str | None
    platform_timezone: str | None
    organisation: str | None
    country: str | None
    preferred_platform: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    identity: Identity
    person_id: int
    display_name: str
    platform_role: Role
    dm_closed_reason: str | None
    dm_channel_id: str | None


@dataclass(frozen=True, slots=True)
class Grant:
    person_id: int
    role: Role
    topic_id: int | None
    granted_by: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RoleSources:
    """The three places a role comes from; the highest wins."""

    from_settings: Role
    from_platform: Role
    from_grants: Role

    @property
    def effective(self) -> Role:
        return max(self.from_settings, self.from_platform, self.from_grants)
