"""Routes: a command's declaration paired with its handler, bound to the services that handler needs.

Each feature module returns its routes from a service-free ``routes()`` function (its router); the
composition root binds every router to the feature's own dependencies value and hands the bound commands to
the :class:`~bot.commands.dispatcher.Dispatcher`. So a handler sees exactly the services its feature
declared, and the declarations alone (for the Slack manifest, Discord's command tree, help) need none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from bot.commands.context import Caller, Context
from bot.commands.spec import Arg, Command, Option
from bot.i18n import Text
from bot.messages import Message
from bot.model import Role

D = TypeVar("D")

Handler = Callable[[Context[D]], Awaitable[Message]]


@dataclass(frozen=True, slots=True)
class Route(Generic[D]):
    command: Command
    handler: Handler[D]


def route(path: tuple[str, ...], help: Text, handler: Handler[D], *, role: Role = Role.OUTSIDER,
          args: tuple[Arg, ...] = (), options: tuple[Option, ...] = (), topic_arg: str | None = None) -> Route[D]:
    """Declare a command and name its handler in one expression, as feature routers list them."""
    return Route(Command(path, help, role=role, args=args, options=options, topic_arg=topic_arg), handler)


@dataclass(frozen=True, slots=True)
class Invocation:
    """What the dispatcher knows when it runs a command: who, which command, its checked values, when."""

    caller: Caller
    command: Command
    values: Mapping[str, str]
    now: datetime


Runner = Callable[[Invocation], Awaitable[Message]]


@dataclass(frozen=True, slots=True)
class BoundCommand:
    """A declared command whose handler has its feature's dependencies: ready for the dispatcher."""

    command: Command
    run: Runner


def bind(routes: Iterable[Route[D]], deps: D) -> list[BoundCommand]:
    """Give every handler of one router the same dependencies value."""
    return [BoundCommand(r.command, _runner(r.handler, deps)) for r in routes]


def _runner(handler: Handler[D], deps: D) -> Runner:
    async def run(invocation: Invocation) -> Message:
        return await handler(Context(caller=invocation.caller, command=invocation.command,
                                     values=invocation.values, deps=deps, now=invocation.now))
    return run
