"""What a handler receives: the caller (person, roles, language, zone), its arguments, and the services its
feature declared it needs (``deps``) — never a bag of every service."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.commands.grammar import read_choice
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.commands.values import Occasion, parse_duration, parse_durations, parse_language, parse_zone, read_occasion
from bot.errors import UsageError, UserError
from bot.i18n import _
from bot.model import Identity, IdentityRecord, Person, Role, RoleSources
from bot.when import Reading, read_when

D = TypeVar("D")
E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


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
    name), as the type it declares: a number is an ``int``, a choice its enum member, a zone a ``ZoneInfo``,
    a duration a ``timedelta``, a time an instant; a misspelt one is a ``NameError``, an undeclared one (or one
    of another kind) a :class:`LookupError` (and fails ``test_typed_arguments``). Each conversion and its
    translated refusal lives in :mod:`bot.commands.values` or :mod:`bot.when`, never in a handler."""

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
        """A required choice argument as its enum member, typed as its value or one of its words in the
        caller's language or English (``oui`` for a French reader)."""
        return kind(read_choice(arg, self.value(arg), self.caller.language))

    def optional_choice(self, arg: Arg | Option, kind: type[E]) -> E | None:
        """An optional choice argument or option as its enum member, ``None`` when absent."""
        raw = self.get(arg)
        return None if raw is None else kind(read_choice(arg, raw, self.caller.language))

    def zone(self, arg: Arg | Option) -> ZoneInfo:
        """A required :attr:`ArgKind.ZONE` argument as its zone (``zone.key`` is the canonical name)."""
        return self._required(arg, self.optional_zone(arg))

    def optional_zone(self, arg: Arg | Option) -> ZoneInfo | None:
        return self._typed(arg, ArgKind.ZONE, parse_zone)

    def language(self, arg: Arg | Option, among: Collection[str] | None = None) -> str:
        """A required :attr:`ArgKind.LANGUAGE` argument as its code; ``among``: the only codes accepted."""
        return self._required(arg, self.optional_language(arg, among))

    def optional_language(self, arg: Arg | Option, among: Collection[str] | None = None) -> str | None:
        return self._typed(arg, ArgKind.LANGUAGE, lambda text: parse_language(text, among))

    def optional_duration(self, arg: Arg | Option) -> timedelta | None:
        """An :attr:`ArgKind.DURATION` argument as a ``timedelta``, ``None`` when absent."""
        return self._typed(arg, ArgKind.DURATION, parse_duration)

    def optional_durations(self, arg: Arg | Option) -> tuple[timedelta, ...] | None:
        """An :attr:`ArgKind.DURATIONS` argument as distinct ``timedelta`` values, longest first; ``None`` when
        absent."""
        return self._typed(arg, ArgKind.DURATIONS, parse_durations)

    def time(self, arg: Arg | Option, *, max_ahead: timedelta, zone: ZoneInfo | None = None) -> Reading:
        """A required :attr:`ArgKind.TIME` argument: its instant (aware, UTC) read on the wall clock of ``zone``
        (the caller's unless given) in the caller's words and English, refused when past or more than
        ``max_ahead`` ahead (the feature's rule)."""
        return self._required(arg, self.optional_time(arg, max_ahead=max_ahead, zone=zone))

    def optional_time(self, arg: Arg | Option, *, max_ahead: timedelta,
                      zone: ZoneInfo | None = None) -> Reading | None:
        where, language = zone or self.caller.zone, self.caller.language
        return self._typed(arg, ArgKind.TIME,
                           lambda text: read_when(text, where, self.now, max_ahead=max_ahead, language=language))

    def occasion(self, arg: Arg | Option, *, zone: ZoneInfo, max_ahead: timedelta) -> Occasion | None:
        """An optional :attr:`ArgKind.TIME` argument naming one of a series' occurrences (``next``, a day, a
        day and time), read in ``zone`` and in the caller's words; ``None`` when absent."""
        language = self.caller.language
        return self._typed(arg, ArgKind.TIME,
                           lambda text: read_occasion(text, zone, self.now, max_ahead=max_ahead, language=language))

    def _typed(self, arg: Arg | Option, kind: ArgKind, convert: Callable[[str], T]) -> T | None:
        """``convert`` applied to the argument's text, ``None`` when absent; reading an argument of another
        kind this way is a bug in the handler."""
        name = self._declared(arg)
        if arg.kind is not kind:
            raise LookupError(f"/{self.command.name} declares “{name}” as {arg.kind}, not {kind}")
        raw = self.values.get(name)
        return None if raw is None else convert(raw)

    def _required(self, arg: Arg | Option, value: T | None) -> T:
        if value is None:
            raise UsageError(_("Missing “{name}”.", name=arg.name))
        return value

    def _declared(self, arg: Arg | Option) -> str:
        """Its name, once it is known to be one of this command's own declarations (equal, so a route that
        declares an equal copy still reads it); anything else is a bug in the handler."""
        if arg not in self.command.args and arg not in self.command.options:
            raise LookupError(f"/{self.command.name} does not declare “{arg.name}”")
        return arg.name
