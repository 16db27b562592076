"""Getting every answer to the person who asked, whatever Slack limits or refuses.

Slack's limits that shape this: a ``response_url`` takes at most five posts (within 30 minutes), a message
at most 50 blocks, a modal at most 100, and a file cannot be ephemeral. So a reply goes ephemeral through
the ``response_url`` while it fits in five posts; what does not fit — and anything Slack refuses there —
continues in the person's direct messages with the bot, and the ephemeral part says so. A file goes to the
DM and the reply says where it went. Only when Slack refuses the DM too is there nobody left to tell: that
is logged.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import SlackMessage, context_block, mrkdwn, render_slack_blocks
from adapters.slack.files import upload_or_reason
from bot.i18n import Msg, Translator, _, _n
from bot.messages import RenderedMessage

log = logging.getLogger(__name__)

RESPONSE_URL_POSTS = 5  # Slack accepts at most five posts to one response_url
NETWORK_ERRORS = (SlackClientError, aiohttp.ClientError, OSError, TimeoutError)


def slack_reason(error: Exception) -> str:
    """Slack's error code for a refused call, or the kind of network failure."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"http {error.response.status_code}")
    return type(error).__name__


class Replies:
    """Sends replies as ephemeral messages, modals' overflow and fallbacks as DMs."""

    def __init__(self, client: AsyncWebClient, translator: Translator) -> None:
        self._client = client
        self._translator = translator

    def note(self, message: Msg, language: str) -> SlackMessage:
        """One of the adapter's own notes, as a message of one small line."""
        text = mrkdwn(self._translator.render(message, language), language)
        return SlackMessage(text=text, blocks=(context_block(text),))

    async def respond(self, respond: AsyncRespond | None, user_id: str, message: RenderedMessage,
                      language: str) -> None:
        """Reply ephemerally through ``respond`` (``None``: there is no response_url), continuing in a DM."""
        message = await self.with_attachment(user_id, message, language)
        parts = render_slack_blocks(message)
        here = parts if len(parts) <= RESPONSE_URL_POSTS else parts[:RESPONSE_URL_POSTS - 1]
        posted = 0
        if respond is not None:
            for part in here:
                if not await self._ephemeral(respond, part):
                    break
                posted += 1
        rest = parts[posted:]
        if not rest:
            return
        if posted < len(here):  # Slack refused the response_url (expired, used up, or no such thing here)
            lead = _("Slack could not show this answer where you asked, so here it is.") if posted == 0 else \
                _("Slack stopped showing this answer where you asked, so here is the rest of it.")
            await self.direct(user_id, rest, lead=self.note(lead, language))
            return
        reason = await self.direct(user_id, rest)
        assert respond is not None
        if reason is None:
            note = _n("This reply is too long to show here: its last part is in your direct messages with the bot.",
                      "This reply is too long to show here: its last {n} parts are in your direct messages with the "
                      "bot.", len(rest))
        else:
            note = _("This reply is too long to show here, and Slack refused to send the rest to your direct "
                     "messages ({error}). Ask for less, e.g. a narrower search.", error=reason)
        await self._ephemeral(respond, self.note(note, language))

    async def direct(self, user_id: str, parts: Sequence[SlackMessage], *,
                     lead: SlackMessage | None = None) -> str | None:
        """Post ``parts`` (after ``lead``) in the person's DM with the bot; why it failed, ``None`` if it did not."""
        try:
            channel = await self._dm_channel(user_id)
            for part in ([lead] if lead is not None else []) + list(parts):
                await self._client.chat_postMessage(channel=channel, text=part.text, blocks=list(part.blocks),
                                                    unfurl_links=False)
        except (SlackApiError, *NETWORK_ERRORS) as error:
            reason = slack_reason(error)
            log.warning("could not DM %s a reply (%s); the person gets no answer", user_id, reason)
            return reason
        return None

    async def with_attachment(self, user_id: str, message: RenderedMessage, language: str) -> RenderedMessage:
        """The message without its file, which goes to the DM, and a line saying where it went."""
        if message.attachment is None:
            return message
        name = message.attachment.filename
        try:
            channel = await self._dm_channel(user_id)
        except (SlackApiError, *NETWORK_ERRORS) as error:
            reason: str | None = slack_reason(error)
        else:
            reason = await upload_or_reason(self._client, channel, message.attachment)
        note = _("The file {file} is in your direct messages with the bot.", file=name) if reason is None else \
            _("Slack refused the file {file} ({error}), so it could not be sent.", file=name, error=reason)
        return dataclasses.replace(message, attachment=None,
                                   body=(*message.body, self._translator.render(note, language)))

    async def _dm_channel(self, user_id: str) -> str:
        response = await self._client.conversations_open(users=user_id)
        return str(response["channel"]["id"])

    @staticmethod
    async def _ephemeral(respond: AsyncRespond, part: SlackMessage) -> bool:
        """Whether Slack took the post; an expired or used-up response_url answers 404, bad content 400."""
        try:
            response = await respond(text=part.text, blocks=list(part.blocks), response_type="ephemeral",
                                     replace_original=False)
        except ValueError:  # bolt: this interaction has no response_url
            return False
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("response_url post failed (%s)", type(error).__name__)
            return False
        if response.status_code != 200:
            log.warning("response_url refused a post: %s %s", response.status_code, response.body)
            return False
        return True
