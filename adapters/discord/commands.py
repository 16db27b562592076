"""The app-command tree, generated from the core's declarations: same names, groups, typed options.

Each core :class:`~bot.commands.spec.Command` becomes one ``app_commands.Command`` whose callback signature
is built from the declared arguments (so discord.py itself produces the option types, choices and
autocomplete), and whose callback hands the typed values to ``invoke``. The command's ``form_arg`` (the core's
one rule for what a form asks for) is registered as optional: when it is left out, ``invoke`` opens a modal.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Optional, cast

import discord
from discord import app_commands

from bot.commands.registry import CommandRegistry
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.i18n import Msg, Translator, _
from bot.people.languages import platform_language

DESCRIPTION_LIMIT = 100
STRING_OPTION_LIMIT = 6000
CHOICE_COUNT_LIMIT = 25  # fixed choices per option, and autocomplete choices per answer

Invoke = Callable[[discord.Interaction, Command, dict[str, Any]], Awaitable[None]]
Complete = Callable[[discord.Interaction, ArgKind, str], Awaitable[list[app_commands.Choice[str]]]]
Describe = Callable[[Msg], str]
AUTOCOMPLETED = (ArgKind.TOPIC, ArgKind.ZONE, ArgKind.LANGUAGE, ArgKind.MEETING, ArgKind.RESOURCE)


def build_commands(registry: CommandRegistry, describe: Describe, invoke: Invoke,
                   complete: Complete) -> list[app_commands.Command[Any, ..., None] | app_commands.Group]:
    """Top-level commands and groups, in declaration order."""
    top: dict[str, app_commands.Command[Any, ..., None] | app_commands.Group] = {}
    for command in registry.commands:
        app_command = _command(command, describe, invoke, complete)
        if command.group is None:
            top[command.path[0]] = app_command
            continue
        group = top.get(command.group)
        if group is None:
            names = ", ".join(c.path[1] for c in registry.group(command.group))
            group = app_commands.Group(name=command.group,
                                       description=_described(describe, _("Subcommands: {names}", names=names)))
            top[command.group] = group
        assert isinstance(group, app_commands.Group)
        group.add_command(app_command)
    return list(top.values())


def _described(describe: Describe, text: Msg) -> app_commands.locale_str:
    """The default-language description; :class:`DescriptionTranslator` supplies the other languages."""
    return app_commands.locale_str(_limit(describe(text)), text=text)


class DescriptionTranslator(app_commands.Translator):
    """Descriptions in every Discord locale whose language has a catalogue (``es-ES`` and ``es-419`` both
    read Spanish, ``pt-BR`` Portuguese, ``fr`` French; Discord has no Arabic or Swahili locale, so those
    readers see the coalition's language there). Names stay as declared, English on every platform: a
    command is declared once and the core matches it by name."""

    def __init__(self, translator: Translator, default_language: str) -> None:
        self._translator = translator
        self._default = default_language

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        text = string.extras.get("text")
        language = platform_language(str(locale.value), self._translator.languages)
        if text is None or language is None or language == self._default:
            return None
        return _limit(self._translator.render(text, language))


def _limit(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(text.split()) or "…"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _annotation(kind: ArgKind, max_length: int) -> Any:
    if kind is ArgKind.INTEGER:
        return int
    if kind is ArgKind.PERSON:
        return discord.User
    return cast(Any, app_commands.Range)[str, 1, min(max_length, STRING_OPTION_LIMIT)]


def _command(command: Command, describe: Describe, invoke: Invoke,
             complete: Complete) -> app_commands.Command[Any, ..., None]:
    declared: list[tuple[Arg | Option, bool]] = [(arg, arg.required and arg is not command.form_arg)
                                                 for arg in command.args]
    declared += [(option, False) for option in command.options]
    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=discord.Interaction)]
    python_names: dict[str, str] = {}
    descriptions: dict[str, app_commands.locale_str] = {}
    renames: dict[str, str] = {}
    choices: dict[str, list[app_commands.Choice[str]]] = {}
    completers: dict[str, Any] = {}
    for spec, required in declared:
        name = spec.name.replace("-", "_")
        python_names[name] = spec.name
        if name != spec.name:
            renames[name] = spec.name
        annotation = _annotation(spec.kind, spec.max_length)
        parameters.append(inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation if required else Optional[annotation],  # noqa: UP045
            default=inspect.Parameter.empty if required else None))
        descriptions[name] = _described(describe, spec.help)
        if spec.choices and len(spec.choices) <= CHOICE_COUNT_LIMIT:
            choices[name] = [app_commands.Choice(name=c, value=c) for c in spec.choices]
        elif spec.choices:  # more than Discord lists: offered as you type, so every one stays reachable
            completers[name] = _choice_completer(spec.choices)
        elif spec.kind in AUTOCOMPLETED:
            completers[name] = _completer(spec.kind, complete)

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        await invoke(interaction, command, {python_names[k]: v for k, v in values.items() if v is not None})

    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    decorated: Any = callback
    if descriptions:
        decorated = app_commands.describe(**descriptions)(decorated)
    if renames:
        decorated = app_commands.rename(**renames)(decorated)
    if choices:
        decorated = app_commands.choices(**cast(Mapping[str, Any], choices))(decorated)
    if completers:
        decorated = app_commands.autocomplete(**completers)(decorated)
    return app_commands.Command(name=command.path[-1], description=_described(describe, command.help),
                                callback=decorated)


def _choice_completer(values: tuple[str, ...]) -> Any:
    async def autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        typed = current.casefold()
        ranked = [v for v in values if v.casefold().startswith(typed)]
        ranked += [v for v in values if typed in v.casefold() and v not in ranked]
        return [app_commands.Choice(name=v, value=v) for v in ranked[:CHOICE_COUNT_LIMIT]]

    return autocomplete


def _completer(kind: ArgKind, complete: Complete) -> Any:
    async def autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await complete(interaction, kind, current)

    return autocomplete
