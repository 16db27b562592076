"""A button's command, built from the command's declaration rather than typed as text.

A button runs a command line as whoever clicks it. Written as an f-string, a renamed command or option broke
a button only when someone clicked it; :func:`invoke` checks, when the button is built, that every value
names a declared argument or option and fits its kind, and renders the line with the grammar's own quoting,
then parses it back through the same grammar, so what runs on a click is exactly what was built.

The rendered text is what adapters show and store (Slack's button value, Discord's button token hashes it),
so for the same values it never changes: positional arguments in declaration order, then the options in the
order they were given, then a rest argument last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.commands.grammar import CLOSING_QUOTES, OPENING_QUOTES, parse_arguments
from bot.commands.spec import NUMBERED, Arg, Command, Option
from bot.errors import UserError


class InvocationError(ValueError):
    """A button names something its command does not declare, or a value that does not fit: a bug in the code
    that builds the button, found when it is built (and by the button tests), never when it is clicked."""


@dataclass(frozen=True, slots=True)
class CommandLine:
    """The command a button runs, as text. Equal when the text is: a line read back from a delivery row is
    the same button as the one built before it was stored."""

    text: str
    command: Command | None = field(default=None, compare=False, repr=False)
    """The declaration it was built from; ``None`` for a line read back from storage (checked when built)."""

    @classmethod
    def recorded(cls, text: str) -> CommandLine:
        """A line an earlier build stored (a queued message's buttons); it was checked when it was built."""
        return cls(text)


def invoke(command: Command, /, **values: str | int) -> CommandLine:
    """The command line that runs ``command`` with ``values``, keyed by argument and option name.

    Raises :class:`InvocationError` for an undeclared name, a missing required argument, a value of the
    wrong kind, or a line that would not parse back to the same values.
    """
    args = {arg.name: arg for arg in command.args}
    options = {option.name: option for option in command.options}
    for name in values:
        if name not in args and name not in options:
            raise InvocationError(f"{command.name} declares no argument or option “{name}”")
    for arg in command.args:
        if arg.required and arg.name not in values:
            raise InvocationError(f"{command.name} needs “{arg.name}”")
    texts = {name: _value_text(command, args.get(name) or options[name], value) for name, value in values.items()}
    expected = {name: text.lower() if _choices(command, name) else text for name, text in texts.items()}
    head = [_quoted(texts[arg.name]) for arg in command.args if arg.name in texts and not arg.rest]
    head += [f"{name}:{_quoted(texts[name])}" for name in values if name in options]
    rest = [texts[arg.name] for arg in command.args if arg.name in texts and arg.rest]
    # A rest argument goes as typed when that reads back the same (``https://…`` stays bare), else quoted.
    candidates = [head + rest, head + [f'"{text}"' for text in rest]] if rest else [head]
    for words in candidates:
        line = " ".join(words)
        try:
            parsed = parse_arguments(command, line)
        except UserError:
            continue
        if parsed == expected:
            return CommandLine(f"{command.name} {line}" if line else command.name, command)
    raise InvocationError(f"{command.name}: the button's values do not survive the grammar's quoting")


def _value_text(command: Command, declared: Arg | Option, value: str | int) -> str:
    if isinstance(value, bool):
        raise InvocationError(f"{command.name}: “{declared.name}” is not a yes/no value")
    if declared.kind in NUMBERED:
        if not isinstance(value, int):
            raise InvocationError(f"{command.name}: “{declared.name}” takes a number")
        return str(value)
    if not isinstance(value, str):
        raise InvocationError(f"{command.name}: “{declared.name}” takes text")
    if declared.choices and value.lower() not in declared.choices:
        raise InvocationError(f"{command.name}: “{value}” is not one of {declared.name}'s choices")
    return str(value)  # an enum member (a delivery mode) as its stored value


def _choices(command: Command, name: str) -> tuple[str, ...]:
    declared: list[Arg | Option] = [*command.args, *command.options]
    return next((d.choices for d in declared if d.name == name), ())


def _quoted(text: str) -> str:
    """``text`` as one word: bare when it is one already, else in straight double quotes."""
    plain = text and not any(c.isspace() or c in OPENING_QUOTES or c in CLOSING_QUOTES for c in text)
    return text if plain else f'"{text}"'
