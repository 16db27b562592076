"""All commands, gathered from the feature modules by the composition root, and who may run which."""

from __future__ import annotations

from collections.abc import Iterable

from bot.commands.context import Caller
from bot.commands.spec import Command
from bot.model import Role


class CommandRegistry:
    def __init__(self, commands: Iterable[Command]) -> None:
        self._commands: dict[tuple[str, ...], Command] = {}
        for command in commands:
            if command.path in self._commands:
                raise ValueError(f"command declared twice: {command.name}")
            self._commands[command.path] = command
        plain = {c.path[0] for c in self._commands.values() if c.group is None}
        groups = {c.group for c in self._commands.values() if c.group is not None}
        if plain & groups:
            raise ValueError(f"a name is both a command and a group: {sorted(plain & groups)}")
        for group in groups:
            if len(self.group(group)) > 25:
                raise ValueError(f"group {group} has more than 25 subcommands (Discord's limit)")

    @property
    def commands(self) -> list[Command]:
        return list(self._commands.values())

    def get(self, path: tuple[str, ...]) -> Command | None:
        return self._commands.get(path)

    def group(self, name: str) -> list[Command]:
        return [c for c in self._commands.values() if c.group == name]

    def top_level_names(self) -> list[str]:
        """Plain command names and group names, in declaration order."""
        return list(dict.fromkeys(c.path[0] for c in self._commands.values()))

    def known_words(self) -> dict[str, set[str] | None]:
        words: dict[str, set[str] | None] = {}
        for command in self._commands.values():
            if command.group is None:
                words[command.path[0]] = None
            else:
                subcommands = words.setdefault(command.group, set())
                assert subcommands is not None
                subcommands.add(command.path[1])
        return words

    def allowed_for(self, caller: Caller) -> list[Command]:
        return [c for c in self._commands.values() if may_try(c, caller)]


def may_try(command: Command, caller: Caller) -> bool:
    """Whether ``caller`` may run ``command`` at all; topic-level checks come later, in the handler."""
    if caller.role >= command.role:
        return True
    return command.role is Role.COORDINATOR and bool(caller.coordinated)
