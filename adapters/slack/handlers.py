"""Slack events into core commands: slash commands, button clicks and modal submissions.

Everything a person does reaches :meth:`Dispatcher.handle` as an :class:`IncomingCommand` carrying the
person's Slack identity and what Slack says about them (name, zone, role, locale), so permissions and
errors are decided by the core only. Replies are ephemeral: only the caller sees them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import ACTION_ID_PREFIX, render_slack_blocks
from adapters.slack.compose import (
    CALLBACK_ID,
    INPUT_BLOCK,
    composable,
    compose_view,
    result_view,
    submitted_command,
)
from adapters.slack.escape import clean_command_text
from adapters.slack.identity import SlackDirectory
from bot.commands.context import IncomingCommand
from bot.commands.dispatcher import Dispatcher, Reply
from bot.commands.registry import CommandRegistry
from bot.i18n import Translator, _
from bot.messages import RenderedMessage, strip_markers
from bot.model import Identity

log = logging.getLogger(__name__)

PLATFORM = "slack"
RESPONSE_URL_POSTS = 5  # Slack accepts at most five posts to one response_url
ERROR_TEXT_LIMIT = 1000


class SlackHandlers:
    """The bolt listeners. ``shortcuts`` are the slash commands that stand for one top-level command."""

    def __init__(self, dispatcher: Dispatcher, directory: SlackDirectory, registry: CommandRegistry,
                 translator: Translator, *, umbrella: str, shortcuts: Collection[str],
                 default_language: str) -> None:
        self._dispatcher = dispatcher
        self._directory = directory
        self._registry = registry
        self._translator = translator
        self._umbrella = umbrella
        self._shortcuts = frozenset(shortcuts)
        self._default_language = default_language

    def register(self, app: AsyncApp) -> None:
        for command in (self._umbrella, *sorted(self._shortcuts)):
            app.command(command)(self.on_command)
        app.action(re.compile(f"^{re.escape(ACTION_ID_PREFIX)}"))(self.on_action)
        app.view(CALLBACK_ID)(self.on_view_submission)

    # --- listeners ---------------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond,
                         client: AsyncWebClient) -> None:
        text = self.command_text(str(command.get("command", "")), str(command.get("text", "")))
        user_id = str(command["user_id"])
        found = composable(self._registry, text)
        if found is not None and command.get("trigger_id"):
            await ack()
            # The trigger id lives three seconds: open the modal before anything slow.
            language = await self._modal_language(user_id)
            await client.views_open(trigger_id=command["trigger_id"],
                                    view=compose_view(found, self._translator, language, command.get("channel_id")))
            return
        await ack()
        reply = await self.run(user_id, text)
        await self._respond(respond, reply.message, reply.language)

    async def on_action(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                        client: AsyncWebClient) -> None:
        await ack()
        action = body["actions"][0]
        reply = await self.run(str(body["user"]["id"]), str(action.get("value") or ""))
        container = body.get("container") or {}
        if container.get("type") == "view" and body.get("view"):
            await client.views_update(view_id=body["view"]["id"],
                                      view=result_view(reply.message, self._translator, reply.language))
            return
        await self._respond(respond, reply.message, reply.language)

    async def on_view_submission(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = submitted_command(view)
        if text is None:
            await ack(response_action="errors", errors={INPUT_BLOCK: "?"})
            return
        reply = await self.run(str(body["user"]["id"]), text)
        if reply.message.is_error:
            # Keep the modal open with what they typed, and say what is wrong under the field.
            message = reply.message
            detail = "\n".join([*message.body, *(f"{f.name}: {f.value}" for f in message.fields)])
            await ack(response_action="errors", errors={INPUT_BLOCK: detail[:ERROR_TEXT_LIMIT]})
            return
        await ack(response_action="update", view=result_view(reply.message, self._translator, reply.language))

    # --- helpers -----------------------------------------------------------------------------------

    def command_text(self, slash_command: str, text: str) -> str:
        """The core command line for ``/subscribe x`` (``subscribe x``) or ``/coalition subscribe x``."""
        text = strip_markers(clean_command_text(text)).strip()
        if slash_command == self._umbrella:
            return text or "help"
        return f"{slash_command.lstrip('/')} {text}".strip()

    async def run(self, user_id: str, text: str) -> Reply:
        profile = await self._directory.profile(user_id)
        return await self._dispatcher.handle(IncomingCommand(
            identity=Identity(PLATFORM, user_id), display_name=profile.display_name, text=text,
            platform_role=profile.role, platform_timezone=profile.timezone, locale=profile.locale))

    async def _modal_language(self, user_id: str) -> str:
        profile = await self._directory.profile(user_id)
        hint = (profile.locale or "").split("-")[0].lower()
        return hint if hint and self._translator.supports(hint) else self._default_language

    async def _respond(self, respond: AsyncRespond, message: RenderedMessage, language: str) -> None:
        parts = render_slack_blocks(message)
        if len(parts) > RESPONSE_URL_POSTS:
            log.warning("a reply of %d messages exceeds Slack's %d response_url posts; the rest is dropped",
                        len(parts), RESPONSE_URL_POSTS)
        for index, part in enumerate(parts[:RESPONSE_URL_POSTS]):
            blocks = list(part.blocks)
            if index == RESPONSE_URL_POSTS - 1 and len(parts) > RESPONSE_URL_POSTS:
                note = self._translator.render(_("(The reply is too long for Slack; the rest was left out.)"),
                                               language)
                blocks = [*blocks[:-1], {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]
            await respond(text=part.text, blocks=blocks, response_type="ephemeral", replace_original=False)
