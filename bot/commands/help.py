"""Help lists only what the caller may run; ``help <command>`` explains one command and its arguments."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.context import Context
from bot.commands.registry import CommandRegistry, may_try
from bot.commands.routes import Route, route
from bot.commands.spec import Arg, ArgKind
from bot.errors import UserError
from bot.i18n import Text, _
from bot.messages import Field, Message

COMMAND = Arg("command", _("A command name, e.g. subscribe"), ArgKind.TEXT, required=False, rest=True)


@dataclass(frozen=True, slots=True)
class HelpDeps:
    registry: CommandRegistry
    """Every declared command (declarations only: help runs nothing)."""


async def show_help(ctx: Context[HelpDeps]) -> Message:
    registry = ctx.deps.registry
    words = (ctx.get(COMMAND) or "").strip().lstrip("/").lower().split()
    if not words:
        allowed = registry.allowed_for(ctx.caller)
        lines: list[Text | str] = [_("Commands you can use (type “help <command>” for details):")]
        lines += [_("{usage} — {help}", usage=c.usage(), help=c.help) for c in allowed]
        return Message(title=_("Help"), body=tuple(lines))
    command = registry.get(tuple(words[:2])) or registry.get(tuple(words[:1]))
    if command is None and words[0] in {c.group for c in registry.commands if c.group}:
        subcommands = [c for c in registry.group(words[0]) if may_try(c, ctx.caller)]
        if not subcommands:
            raise UserError(_("Unknown command “{command}”. Type “help” to see what you can do.", command=words[0]))
        lines = [_("{usage} — {help}", usage=c.usage(), help=c.help) for c in subcommands]
        return Message(title=_("Help: {command}", command=words[0]), body=tuple(lines))
    if command is None or not may_try(command, ctx.caller):
        raise UserError(_("Unknown command “{command}”. Type “help” to see what you can do.",
                          command=" ".join(words[:2])))
    # Field names are bare labels: every adapter adds its own separator (the console "name: value"), so a
    # name ending in ":" printed "when::". The usage line and the note below show how an option is typed.
    fields = [Field(arg.name, arg.help) for arg in command.args]
    fields += [Field(option.name, option.help) for option in command.options]
    body: list[Text | str] = [command.help, command.usage()]
    if command.options:
        first = command.options[0]
        body.append(_("Options go anywhere on the line as name:value (e.g. {example}); put quotes around a "
                      "value with spaces.", example=f"{first.name}:{first.choices[0] if first.choices else '…'}"))
    if command.role.value > 0:
        body.append(_("Needs the {role} role.", role=command.role.label))
    return Message(title=_("Help: {command}", command=command.name), body=tuple(body), fields=tuple(fields))


def routes() -> list[Route[HelpDeps]]:
    return [route(("help",), _("Show what you can do, or how to use one command."), show_help,
                  args=(COMMAND,))]
