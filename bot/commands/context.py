"""What a handler receives: the caller (person, roles, language, zone), its arguments, and the services its
feature declared it needs (``deps``) — never a bag of every service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.commands.spec import Arg, Command, Option
from bot.errors import UsageError, UserError
from bot.i18n import _
from bot.model import Identity, IdentityRecord, Person, Role, RoleSources

D = TypeVar("D")
E = TypeVar("E", bound=StrEnum)


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
    handed to :func:`bot.commands.routes.bind` by the composition root.

    A handler reads an argument through the :class:`Arg` or :class:`Option` its command lists (never by
    name), as the type it declares: a number is an ``int``, a choice its enum member; a misspelt one is a
    ``NameError``, an undeclared one a :class:`LookupError` (and fails ``test_typed_arguments``)."""

    caller: Caller
    command: Command
    values: Mapping[str, str]
    deps: D
    now: datetime

    def value(self, arg: Arg) -> str:
        """A required argument of this command, read through its declaration (not its name): a handler
        cannot read what its command does not declare (:class:`LookupError`, a programming error)."""
        name = self._declared(arg)
        value = self.values.get(name)
        if value is None:
            raise UsageError(_("Missing “{name}”.", name=name))
        return value

    def get(self, arg: Arg | Option) -> str | None:
        """An optional argument or option of this command, ``None`` when absent."""
        return self.values.get(self._declared(arg))

    def number(self, arg: Arg | Option) -> int:
        """A number argument (:data:`~bot.commands.spec.NUMBERED` kinds), checked and converted here once for
        every handler (``#12`` reads as 12)."""
        name = self._declared(arg)
        raw = self.values.get(name)
        if raw is None:
            raise UsageError(_("Missing “{name}”.", name=name))
        raw = raw.lstrip("#")
        if not (raw.isascii() and raw.isdigit()):
            raise UsageError(_("“{name}” must be a number, not “{value}”.", name=name, value=raw))
        return int(raw)

    def page(self, option: Option, last: int) -> int:
        """The page an optional ``page:`` option asks for (1 when absent), refused outside 1..``last``."""
        name = self._declared(option)
        raw = self.values.get(name)
        if raw is None:
            return 1
        if not (raw.isascii() and raw.isdigit()):
            raise UserError(_("“{name}” must be a number, not “{value}”.", name=name, value=raw))
        if not 1 <= int(raw) <= last:
            raise UserError(_("“page” must be between 1 and {last}.", last=last))
        return int(raw)

    def choice(self, arg: Arg, kind: type[E]) -> E:
        """A required choice argument as its enum member (the grammar checked and lower-cased it)."""
        return kind(self.value(arg))

    def optional_choice(self, arg: Arg | Option, kind: type[E]) -> E | None:
        """An optional choice argument or option as its enum member, ``None`` when absent."""
        raw = self.get(arg)
        return None if raw is None else kind(raw)

    def _declared(self, arg: Arg | Option) -> str:
        """Its name, once it is known to be one of this command's own declarations (equal, so a route that
        declares an equal copy still reads it); anything else is a bug in the handler."""
        if arg not in self.command.args and arg not in self.command.options:
            raise LookupError(f"/{self.command.name} does not declare “{arg.name}”")
        return arg.name
