"""Interactions in, core replies out: slash commands, autocomplete, button clicks and modal submissions.

All four end in :meth:`bot.commands.dispatcher.Dispatcher.handle` as the person who acted, with their role
from the guild (fetched when the event comes from a DM), so permission checks exist once, in the core.
Replies are ephemeral: every reply is rendered for its caller (their language, what they may see).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any

import discord
from discord import app_commands

from adapters.discord.identity import RoleMap, identity_of
from adapters.discord.once import OnceInteractions
from adapters.discord.render import NO_MENTIONS, Part, button_label, render_parts
from adapters.discord.tokens import TOKEN_LENGTH, ActionTokens
from bot.bidi import cut
from bot.clock import Clock
from bot.commands.context import IncomingCommand
from bot.commands.dispatcher import Dispatcher
from bot.commands.spec import Arg, ArgKind, Command
from bot.i18n import Translator, _
from bot.messages import ActionStyle, RenderedAction, RenderedMessage
from bot.people.languages import platform_language

log = logging.getLogger(__name__)

ACTION_PREFIX = "coalition:a:"
MODAL_PREFIX = "coalition:m:"
MODAL_TITLE_LIMIT = 45
CHOICE_LIMIT = 100  # an autocomplete choice's name and value
CHOICES_PER_ANSWER = 25
# Discord drops an interaction not acknowledged within 3 s: a reply not ready by then is deferred
# ("thinking…") and sent as the follow-up that fills it in.
ACK_SECONDS = 2.0
STYLES = {ActionStyle.DEFAULT: discord.ButtonStyle.secondary, ActionStyle.PRIMARY: discord.ButtonStyle.primary,
          ActionStyle.DANGER: discord.ButtonStyle.danger}


class InteractionHandler:
    def __init__(self, dispatcher: Dispatcher, translator: Translator, default_language: str, clock: Clock,
                 roles: RoleMap, tokens: ActionTokens, once: OnceInteractions | None = None) -> None:
        self._dispatcher = dispatcher
        self._translator = translator
        self._default_language = default_language
        self._clock = clock
        self._roles = roles
        self._tokens = tokens
        self._once = once or OnceInteractions(None, clock)

    async def first_time(self, interaction: discord.Interaction) -> bool:
        """Whether to handle ``interaction`` here: discord.py's ``interaction_check`` of the command tree, the
        buttons and the modals asks this before any of them runs; False leaves it unanswered (another copy of
        it, received by another gateway session, is handled instead)."""
        return await self._once.first(interaction)

    # --- incoming --------------------------------------------------------------------------------

    async def incoming(self, interaction: discord.Interaction, *, text: str | None = None,
                       path: tuple[str, ...] | None = None,
                       values: Mapping[str, str] | None = None) -> IncomingCommand:
        user = interaction.user
        role = await self._roles.platform_role(interaction.client, user)
        return IncomingCommand(identity=identity_of(user), display_name=user.display_name, text=text, path=path,
                               values=dict(values or {}), platform_role=role, locale=str(interaction.locale))

    async def run_command(self, interaction: discord.Interaction, command: Command, values: dict[str, Any]) -> None:
        """A slash command: typed options become core values; a missing rest argument opens a modal."""
        text_values = {name: _as_text(value) for name, value in values.items()}
        missing = command.form_arg
        if missing is not None and missing.name not in text_values:
            label = await self.modal_label(interaction, missing)
            await interaction.response.send_modal(CommandModal(self, command, text_values, missing, label))
            return
        await self.run_values(interaction, command, text_values)

    async def run_values(self, interaction: discord.Interaction, command: Command, values: Mapping[str, str]) -> None:
        await self._answer(interaction, self._reply(interaction, path=command.path, values=values))

    async def complete(self, interaction: discord.Interaction, kind: ArgKind,
                       current: str) -> list[app_commands.Choice[str]]:
        """Suggestions from the core, for this caller: never a topic they cannot see."""
        found = await self._dispatcher.suggest(await self.incoming(interaction), kind, current)
        return choices_for((s.label, s.value) for s in found)

    async def run_action(self, interaction: discord.Interaction, token: str) -> None:
        """A button: the stored invocation runs as whoever clicked, with the same checks as if typed."""
        command = await self._tokens.command_for(token)
        if command is None:
            message = RenderedMessage(body=(self._translator.render(
                _("This button no longer works. Run the command again."), self._language(interaction)),),
                is_error=True)
            await self.respond(interaction, message)
            return
        await self._answer(interaction, self._reply(interaction, text=command))

    async def _reply(self, interaction: discord.Interaction, **command: Any) -> RenderedMessage:
        return (await self._dispatcher.handle(await self.incoming(interaction, **command))).message

    async def _answer(self, interaction: discord.Interaction, reply: Awaitable[RenderedMessage]) -> None:
        task = asyncio.ensure_future(reply)
        try:
            message = await asyncio.wait_for(asyncio.shield(task), ACK_SECONDS)
        except TimeoutError:
            await interaction.response.defer(ephemeral=True, thinking=True)
            message = await task
        await self.respond(interaction, message)

    async def report_failure(self, interaction: discord.Interaction, error: BaseException) -> None:
        """A bug or an outage must not leave the person with Discord's bare "interaction failed"."""
        log.error("Discord interaction failed", exc_info=error)
        text = _("Something went wrong on our side. Please try again later; if it keeps happening, tell a "
                 "coordinator.")
        message = RenderedMessage(body=(self._translator.render(text, self._language(interaction)),),
                                  is_error=True)
        with contextlib.suppress(discord.HTTPException):
            await self.respond(interaction, message)

    # --- outgoing --------------------------------------------------------------------------------

    async def respond(self, interaction: discord.Interaction, message: RenderedMessage) -> None:
        for part in render_parts(message):
            kwargs = await self.part_kwargs(part)
            if not interaction.response.is_done():
                await interaction.response.send_message(ephemeral=True, **kwargs)
            else:
                await interaction.followup.send(ephemeral=True, **kwargs)

    async def part_kwargs(self, part: Part) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if part.embed is not None:
            kwargs["embed"] = part.embed
        view = await self.view_for(part.actions)
        if view is not None:
            kwargs["view"] = view
        if part.attachment is not None:
            kwargs["file"] = discord.File(io.BytesIO(part.attachment.data), filename=part.attachment.filename)
        return kwargs

    async def edit_kwargs(self, part: Part) -> dict[str, Any]:
        """What replaces a delivered part: an edit states embed and buttons outright, so buttons (or an embed)
        the new version no longer has are removed rather than left behind. The file stays as uploaded."""
        kwargs = await self.part_kwargs(part)
        kwargs.pop("file", None)
        kwargs["embed"] = part.embed
        kwargs.setdefault("view", None)
        return kwargs

    async def view_for(self, actions: tuple[RenderedAction, ...]) -> discord.ui.View | None:
        if not actions:
            return None
        view = discord.ui.View(timeout=None)
        now = self._clock.now()
        for action in actions:
            view.add_item(ActionButton(await self._tokens.token_for(action.command, now), action.label,
                                       action.style))
        return view

    def _language(self, interaction: discord.Interaction) -> str:
        """What Discord shows before the core answers (a modal's label, a failure) is in the client's language
        when we ship it (the core's rule for platform locales), else the coalition's."""
        return platform_language(str(interaction.locale), self._translator.languages) or self._default_language

    async def modal_label(self, interaction: discord.Interaction, arg: Arg) -> str:
        """In the person's own language when they set one (as the reply will be), else their client's."""
        language = await self._dispatcher.language_for(await self.incoming(interaction))
        return cut(self._translator.render(arg.help, language), MODAL_TITLE_LIMIT)


def choices_for(suggestions: Iterable[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    """At most 25 choices (Discord refuses the whole answer otherwise; typing more narrows the list). A label
    over 100 characters is shortened with "…"; a value over 100 cannot be offered at all, since a shortened
    value would run the command on something else."""
    choices = [app_commands.Choice(name=cut(label, CHOICE_LIMIT), value=value)
               for label, value in suggestions if 0 < len(value) <= CHOICE_LIMIT]
    return choices[:CHOICES_PER_ANSWER]


def _as_text(value: Any) -> str:
    """A typed option as the core reads it: a user becomes ``discord:<id>``, numbers their digits."""
    if isinstance(value, discord.User | discord.Member):
        return str(identity_of(value))
    return str(value)


def handler_of(interaction: discord.Interaction) -> InteractionHandler:
    handler = getattr(interaction.client, "coalition", None)
    if not isinstance(handler, InteractionHandler):
        raise RuntimeError("the Discord client has no coalition interaction handler")
    return handler


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=re.escape(ACTION_PREFIX) + f"(?P<token>[0-9a-f]{{{TOKEN_LENGTH}}})"):
    """A core action. Matched by its custom_id pattern, so clicks work after a restart too."""

    def __init__(self, token: str, label: str = "…", style: ActionStyle = ActionStyle.DEFAULT) -> None:
        super().__init__(discord.ui.Button(label=button_label(label), style=STYLES[style],
                                           custom_id=ACTION_PREFIX + token))
        self.token = token

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ActionButton:
        return cls(match["token"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await handler_of(interaction).first_time(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        handler = handler_of(interaction)
        try:
            await handler.run_action(interaction, self.token)
        except Exception as error:
            await handler.report_failure(interaction, error)


class CommandModal(discord.ui.Modal):
    """Asks for a command's missing free-text argument; submitting runs the whole command."""

    def __init__(self, handler: InteractionHandler, command: Command, values: Mapping[str, str], arg: Arg,
                 label: str) -> None:
        super().__init__(title=f"/{command.name}"[:MODAL_TITLE_LIMIT],
                         custom_id=MODAL_PREFIX + os.urandom(8).hex(), timeout=900)
        self._handler = handler
        self._command = command
        self._values = dict(values)
        self._arg = arg
        self.field: discord.ui.TextInput[CommandModal] = discord.ui.TextInput(
            label=label, custom_id=arg.name, style=discord.TextStyle.paragraph,
            max_length=min(arg.max_length, 4000))
        self.add_item(self.field)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await self._handler.first_time(interaction)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        await self._handler.run_values(interaction, self._command, {**self._values, self._arg.name: self.field.value})

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await self._handler.report_failure(interaction, error)
