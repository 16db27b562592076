"""Files a message carries (a meeting's .ics calendar) uploaded to Slack, never dropped.

Slack has no file inside a Block Kit message and no ephemeral file: the adapter uploads the file to a
conversation (the person's DM for a reply, the channel for a delivery) with ``files.getUploadURLExternal``
and ``files.completeUploadExternal`` (slack_sdk's ``files_upload_v2``; scope ``files:write``), and the reply
says where the file went — or that Slack refused it.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Attachment

log = logging.getLogger(__name__)


async def upload(client: AsyncWebClient, channel: str, attachment: Attachment) -> None:
    """Share ``attachment`` in ``channel``; raises the SDK's error when Slack refuses."""
    await client.files_upload_v2(channel=channel, filename=attachment.filename, title=attachment.filename,
                                 content=attachment.data)


async def upload_or_reason(client: AsyncWebClient, channel: str, attachment: Attachment) -> str | None:
    """Like :func:`upload`; returns why it failed (Slack's error code) instead of raising, ``None`` on success."""
    try:
        await upload(client, channel, attachment)
    except SlackApiError as error:
        reason = str(error.response.get("error") or f"http {error.response.status_code}")
    except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
        reason = type(error).__name__
    else:
        return None
    log.warning("uploading %s to %s failed (%s)", attachment.filename, channel, reason)
    return reason
