"""What a handler receives: the caller (person, roles, language, zone), its arguments, and the services its
feature declared it needs (``deps``) — never a bag of every service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.commands.spec import Command
from bot.errors import UsageError, UserError
from bot.i18n import _
from bot.model import Identity, IdentityRecord, Person, Role, RoleSources

D = TypeVar("D")


class ZoneSource(StrEnum):
    OWN = "own"
    PLATFORM = "platform"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class IncomingCommand:
    """A command as an adapter hands it over: either ``text`` in the text grammar, or a ``path`` with
    typed ``values`` (Discord options). ``platform_role`` is what the platform says about the caller
    (a Slack guest is an outsider, a Discord member-role holder a member)."""

    identity: Identity
    display_name: str
    text: str | None = None
    path: tuple[str, ...] | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    platform_role: Role = Role.OUTSIDER
    platform_timezone: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Caller:
    person: Person
    identity: IdentityRecord
    roles: RoleSources
    coordinated: frozenset[int]
    language: str
    timezone: str
    timezone_source: ZoneSource

    @property
    def role(self) -> Role:
        return self.roles.effective

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def may_coordinate_something(self) -> bool:
        return self.role >= Role.COORDINATOR or bool(self.coordinated)


@dataclass(frozen=True, slots=True)
class Context(Generic[D]):
    """One run of one command. ``deps`` is the feature's own dependencies value (``TopicCommandDeps`` …),
    handed to :func:`bot.commands.routes.bind` by the composition root."""

    caller: Caller
    command: Command
    values: Mapping[str, str]
    deps: D
    now: datetime

    def arg(self, name: str) -> str:
        """A required argument (the grammar has checked it is present)."""
        value = self.values.get(name)
        if value is None:
            raise UsageError(_("Missing “{name}”.", name=name))
        return value

    def opt(self, name: str) -> str | None:
        return self.values.get(name)

    def page(self, last: int, name: str = "page") -> int:
        """The page an optional ``page:`` option asks for (1 when absent), refused outside 1..``last``."""
        raw = self.opt(name)
        if raw is None:
            return 1
        if not (raw.isascii() and raw.isdigit()):
            raise UserError(_("“{name}” must be a number, not “{value}”.", name=name, value=raw))
        if not 1 <= int(raw) <= last:
            raise UserError(_("“page” must be between 1 and {last}.", last=last))
        return int(raw)

    def int_arg(self, name: str) -> int:
        raw = self.arg(name).lstrip("#")
        if not (raw.isascii() and raw.isdigit()):
            raise UsageError(_("“{name}” must be a number, not “{value}”.", name=name, value=raw))
        return int(raw)
