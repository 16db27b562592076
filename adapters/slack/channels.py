"""Whether a Slack channel may carry members-only announcements: ``conversations.info``, read closed.

``conversations.info`` needs ``channels:read`` for a public channel and ``groups:read`` for a private one
(the manifest grants both); without them Slack answers ``missing_scope`` and says which scope it
``needed``. Every answer short of a clear "only members read this" refuses: a missing scope or an
unknown channel raises a translated :class:`UserError` naming the cause, anything else answers ``None``,
which the core refuses too. Slack Connect channels (shared, or being shared, with another organisation)
count as public, because people from outside the coalition read them.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.i18n import _

log = logging.getLogger(__name__)

_SHARED = ("is_ext_shared", "is_pending_ext_shared")


async def channel_is_public(client: AsyncWebClient, channel_id: str) -> bool | None:
    """``True`` when people other than the coalition's members may read ``channel_id``; ``None`` when Slack
    did not say for a reason the admin cannot fix from here (network, Slack's own errors)."""
    try:
        response = await client.conversations_info(channel=channel_id)
    except SlackApiError as error:
        code = str(error.response.get("error") or "")
        if code == "missing_scope":
            needed = str(error.response.get("needed") or "?")
            raise UserError(_("Slack did not let the bot check #{channel}: the app lacks the “{scope}” permission, "
                              "so nothing was changed. Reinstall the Slack app with the scopes of the current "
                              "manifest (python -m bot slack-manifest), then try again.", channel=channel_id,
                              scope=needed)) from error
        if code == "channel_not_found":
            raise UserError(_("Slack does not show the bot #{channel}: it does not exist, or it is private and the "
                              "bot is not in it (invite the bot with /invite). Nothing was changed.",
                              channel=channel_id)) from error
        log.warning("conversations.info failed for %s (%s)", channel_id, code)
        return None
    except (SlackClientError, OSError, TimeoutError) as error:
        log.warning("conversations.info failed for %s (%s)", channel_id, type(error).__name__)
        return None
    channel = response.get("channel") or {}
    if not channel:
        return None
    if channel.get("is_im") or channel.get("is_mpim"):
        return False
    if any(channel.get(flag) for flag in _SHARED):
        return True
    if "is_private" not in channel:
        return None  # Slack always says; an answer without it is not one to trust
    return not channel["is_private"]
