"""Runs one incoming command: who is calling, parse, permission, handler, translated reply.

Every command from every platform, and every button click, goes through :meth:`Dispatcher.handle`, so
permission checks and error handling exist once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.bidi import stripped
from bot.clock import Clock
from bot.commands.autocomplete import Autocomplete, Suggestion
from bot.commands.context import Caller, IncomingCommand
from bot.commands.grammar import parse_arguments, refuse_unstorable, split_command, storable, validate
from bot.commands.registry import CommandRegistry, may_try
from bot.commands.routes import BoundCommand, Invocation, Runner
from bot.commands.spec import ArgKind, Command
from bot.errors import PermissionDenied, UserError
from bot.i18n import Text, Translator, _
from bot.messages import Message, RenderedMessage
from bot.model import Identity

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply rendered for the caller, with what an adapter needs to show times in their zone."""

    message: RenderedMessage
    language: str
    timezone: str
    person_id: int


class Callers(Protocol):
    """Who is calling: the people feature answers this (first contact creates a person)."""

    async def caller_for(self, incoming: IncomingCommand) -> Caller:
        """Returns who sent ``incoming``, registering a first contact and refreshing what the platform says.
        Raises nothing of its own (the store's errors go on)."""
        ...

    async def caller_for_person(self, person_id: int, via: Identity | None = None,
                                locale: str | None = None) -> Caller:
        """Returns the caller for a known person (reached through ``via`` when given). Raises ``LookupError``
        for an unknown person or one with no identity."""
        ...


class CommandMetrics(Protocol):
    """Where each answered command is counted (:class:`bot.metrics.Metrics` is one); declared here because the
    command framework imports nothing outside its allowance."""

    def command_handled(self, command: str, outcome: str) -> None:
        """Count ``command`` (its path, or ``unknown``) answered with ``outcome``. Returns nothing; raises nothing."""
        ...


class Dispatcher:
    def __init__(self, commands: Sequence[BoundCommand], callers: Callers, translator: Translator, clock: Clock,
                 autocomplete: Autocomplete, metrics: CommandMetrics | None = None) -> None:
        self._registry = CommandRegistry(bound.command for bound in commands)
        self._runners: dict[tuple[str, ...], Runner] = {bound.command.path: bound.run for bound in commands}
        self._callers = callers
        self._translator = translator
        self._clock = clock
        self._autocomplete = autocomplete
        self._metrics = metrics

    @property
    def registry(self) -> CommandRegistry:
        """Every declared command: adapters render their platform's commands from it."""
        return self._registry

    @property
    def autocomplete(self) -> Autocomplete:
        return self._autocomplete

    async def suggest(self, incoming: IncomingCommand, kind: ArgKind, prefix: str) -> list[Suggestion]:
        """Values for a partly typed argument, for this caller: never something they cannot see."""
        incoming = dataclasses.replace(incoming, display_name=storable(incoming.display_name))
        return await self._autocomplete.suggest(await self._callers.caller_for(incoming), kind, prefix)

    async def language_for(self, incoming: IncomingCommand) -> str:
        """The language this caller is answered in (own setting, else the platform's locale, else the default):
        for what an adapter shows before the core answers — a form's labels — so it matches the reply."""
        incoming = dataclasses.replace(incoming, display_name=storable(incoming.display_name))
        return (await self._callers.caller_for(incoming)).language

    async def handle(self, incoming: IncomingCommand) -> Reply:
        # Bidi controls are never part of a command: they come from copying an RTL reply (bot.bidi.stripped).
        incoming = dataclasses.replace(
            incoming, display_name=storable(incoming.display_name),
            text=None if incoming.text is None else stripped(incoming.text),
            values={name: stripped(value) for name, value in incoming.values.items()})
        caller = await self._callers.caller_for(incoming)
        command: Command | None = None
        outcome = "ok"
        try:
            refuse_unstorable(incoming.text, incoming.values)  # every command's input, once
            command, remainder = self._resolve(incoming, caller)
            self._check_permission(command, caller)
            values = validate(command, incoming.values, caller.language) if remainder is None \
                else parse_arguments(command, remainder, caller.language)
            invocation = Invocation(caller=caller, command=command, values=values, now=self._clock.now())
            message = await self._runners[command.path](invocation)
        except UserError as error:
            outcome = "user_error"
            message = self._error_message(error, command)
        except Exception:
            outcome = "internal_error"
            # A bug in one command must not take the bot down, nor leave the person without an answer.
            log.exception("command %s failed", command.name if command else "?")
            message = Message(body=(_("Something went wrong on our side; nothing was changed. Please try "
                                      "again later, and tell a coordinator if it happens again."),), is_error=True)
        if self._metrics is not None:  # a declared path only: never what the person typed
            self._metrics.command_handled(" ".join(command.path) if command else "unknown", outcome)
        # The handler may have changed the caller's language (settings language): reply in the new one. The
        # people feature answers from what it read before the handler when nothing was written since.
        try:
            caller = await self._callers.caller_for_person(caller.person.id, via=incoming.identity,
                                                           locale=incoming.locale)
        except LookupError:  # the handler erased the caller ("forget me"): answer as read before it ran
            pass
        return Reply(message=message.render(self._translator, caller.language), language=caller.language,
                     timezone=caller.timezone, person_id=caller.person.id)

    def _resolve(self, incoming: IncomingCommand, caller: Caller) -> tuple[Command, str | None]:
        """The command, and the text left for its arguments (``None`` for typed platform options)."""
        registry = self._registry
        if incoming.path is not None:
            command = registry.get(incoming.path)
            if command is None:
                raise UserError(_("Unknown command “{command}”. Type “help” to see what you can do.",
                                  command=" ".join(incoming.path)))
            return command, None
        path, remainder = split_command(incoming.text or "", registry.known_words())
        command = registry.get(path)
        if command is None:
            usages = "\n".join(c.usage() for c in registry.group(path[0]) if may_try(c, caller))
            raise UserError(_("“{group}” needs a subcommand:\n{usages}", group=path[0], usages=usages))
        return command, remainder

    @staticmethod
    def _check_permission(command: Command, caller: Caller) -> None:
        if not may_try(command, caller):
            raise PermissionDenied(command.role)

    def _error_message(self, error: UserError, command: Command | None) -> Message:
        body: list[Text | str] = [error.message]
        if error.show_usage and command is not None:
            body.append(_("Usage: {usage}", usage=command.usage()))
        return Message(body=tuple(body), is_error=True)
