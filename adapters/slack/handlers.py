"""Slack events into core commands: slash commands, button clicks and modal submissions.

Everything a person does reaches :meth:`Dispatcher.handle` as an :class:`IncomingCommand` carrying the
person's Slack identity and what Slack says about them (name, zone, role, locale), so permissions and
errors are decided by the core only. Replies are ephemeral: only the caller sees them. Every interaction
gets an answer: a form Slack will not open, a modal it will not update, a reply too long for its limits and
a failure of the bot itself all end in a message to the person (ephemeral, or in their DM with the bot —
see :mod:`adapters.slack.replies`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
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
from adapters.slack.replies import NETWORK_ERRORS, Replies, slack_reason
from bot.commands.context import IncomingCommand
from bot.commands.dispatcher import Dispatcher, Reply
from bot.commands.registry import CommandRegistry
from bot.i18n import Text, Translator, _
from bot.messages import RenderedMessage, strip_markers
from bot.model import Identity

log = logging.getLogger(__name__)

PLATFORM = "slack"
ERROR_TEXT_LIMIT = 1000  # what the bot shows under a modal's field; a longer error also goes to the DM
BROKEN = _("Something went wrong on our side; nothing was changed. Please try again later, and tell a "
           "coordinator if it happens again.")


class SlackHandlers:
    """The bolt listeners. ``shortcuts`` are the slash commands that stand for one top-level command."""

    def __init__(self, dispatcher: Dispatcher, directory: SlackDirectory, registry: CommandRegistry,
                 translator: Translator, *, umbrella: str, shortcuts: Collection[str],
                 default_language: str, replies: Replies) -> None:
        self._dispatcher = dispatcher
        self._directory = directory
        self._registry = registry
        self._translator = translator
        self._umbrella = umbrella
        self._shortcuts = frozenset(shortcuts)
        self._default_language = default_language
        self._replies = replies

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
        await ack()
        if found is not None and command.get("trigger_id"):
            # The trigger id lives three seconds: open the modal before anything slow.
            language = await self._modal_language(user_id)
            view = compose_view(found, self._translator, language, command.get("channel_id"))
            if view is None:
                refusal: Text = _("What you typed is too long to finish in a form. Type the whole command "
                                  "instead, its text included: {usage}", usage=found.command.usage())
            else:
                try:
                    await client.views_open(trigger_id=command["trigger_id"], view=view)
                    return
                except (SlackApiError, *NETWORK_ERRORS) as error:
                    log.warning("views.open failed (%s)", slack_reason(error))
                    refusal = _("Slack could not open the form ({error}), so nothing was done. Type the whole "
                                "command instead, its text included: {usage}", error=slack_reason(error),
                                usage=found.command.usage())
            message = RenderedMessage(body=(self._translator.render(refusal, language),), is_error=True)
            await self._replies.respond(respond, user_id, message, language)
            return
        message, language = await self.answer(user_id, text)
        await self._replies.respond(respond, user_id, message, language)

    async def on_action(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                        client: AsyncWebClient) -> None:
        await ack()
        user_id = str(body["user"]["id"])
        action = body["actions"][0]
        message, language = await self.answer(user_id, str(action.get("value") or ""))
        container = body.get("container") or {}
        if container.get("type") == "view" and body.get("view"):
            await self._update_modal(client, str(body["view"]["id"]), user_id, message, language)
            return
        await self._replies.respond(respond if body.get("response_url") else None, user_id, message, language)

    async def on_view_submission(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                                 client: AsyncWebClient) -> None:
        text = submitted_command(view)
        if text is None:
            await ack(response_action="errors", errors={INPUT_BLOCK: "?"})
            return
        user_id = str(body["user"]["id"])
        message, language = await self.answer(user_id, text)
        if message.is_error:
            # Keep the modal open with what they typed, and say what is wrong under the field.
            detail = "\n".join([*message.body, *(f"{f.name}: {f.value}" for f in message.fields)])
            if len(detail) <= ERROR_TEXT_LIMIT:
                await ack(response_action="errors", errors={INPUT_BLOCK: detail})
                return
            more = self._translator.render(_("(The whole message is in your direct messages with the bot.)"),
                                           language)
            await ack(response_action="errors",
                      errors={INPUT_BLOCK: f"{detail[:ERROR_TEXT_LIMIT - len(more) - 2]}… {more}"})
            await self._replies.direct(user_id, render_slack_blocks(message))
            return
        message = await self._replies.with_attachment(user_id, message, language)
        shown, rest = result_view(message, self._translator, language)
        await ack(response_action="update", view=shown)
        if rest:
            reason = await self._replies.direct(user_id, rest)
            if reason is not None:
                await self._try_update(client, str(view.get("id") or ""),
                                       result_view(message, self._translator, language, dm_failed=reason)[0])

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

    async def answer(self, user_id: str, text: str) -> tuple[RenderedMessage, str]:
        """The reply and its language; a failure of the bot itself still answers, in the default language."""
        try:
            reply = await self.run(user_id, text)
        except Exception:
            log.exception("a Slack command of %s failed", user_id)
            language = self._default_language
            return RenderedMessage(body=(self._translator.render(BROKEN, language),), is_error=True), language
        return reply.message, reply.language

    async def _modal_language(self, user_id: str) -> str:
        """The person's own language when they set one, else their Slack locale, else the default — as the
        reply will be."""
        profile = await self._directory.profile(user_id)
        return await self._dispatcher.language_for(IncomingCommand(
            identity=Identity(PLATFORM, user_id), display_name=profile.display_name, platform_role=profile.role,
            platform_timezone=profile.timezone, locale=profile.locale))

    async def _update_modal(self, client: AsyncWebClient, view_id: str, user_id: str, message: RenderedMessage,
                            language: str) -> None:
        """Show a click's answer in the modal it came from; what Slack will not show there goes to the DM."""
        message = await self._replies.with_attachment(user_id, message, language)
        shown, rest = result_view(message, self._translator, language)
        try:
            await client.views_update(view_id=view_id, view=shown)
        except (SlackApiError, *NETWORK_ERRORS) as error:
            log.warning("views.update failed (%s)", slack_reason(error))
            lead = self._replies.note(_("Slack could not show the answer in the form ({error}), so here it is.",
                                        error=slack_reason(error)), language)
            await self._replies.direct(user_id, render_slack_blocks(message), lead=lead)
            return
        if rest:
            reason = await self._replies.direct(user_id, rest)
            if reason is not None:
                await self._try_update(client, view_id,
                                       result_view(message, self._translator, language, dm_failed=reason)[0])

    @staticmethod
    async def _try_update(client: AsyncWebClient, view_id: str, view: dict[str, Any]) -> None:
        try:
            await client.views_update(view_id=view_id, view=view)
        except (SlackApiError, *NETWORK_ERRORS) as error:
            log.warning("views.update failed (%s); the person was not told the rest is missing",
                        slack_reason(error))
