"""A DM falls back to another account (and marks this one closed) only when the *account* refused for good — DMs
closed, user gone, address refused — never when the platform refused the *message* (too long, malformed): another
account would refuse it too, and this one stays fine for the next message (issue 21 review). The adapters' error
mapping says which is which."""

from __future__ import annotations

from dataclasses import dataclass

import aiosmtplib
import discord
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.discord.delivery import call_discord
from adapters.email.transport import _mapped
from adapters.slack.delivery import delivery_error
from bot.delivery.errors import PermanentDeliveryError
from bot.delivery.model import DeliveryStatus
from bot.model import Identity
from tests.bot.delivery.platforms import Platforms, dms, notice, person, row


async def test_a_message_level_refusal_fails_the_row_and_leaves_the_account_open(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.say("U1", "settings platform slack", platform="slack")
    p.slack.failures.append(PermanentDeliveryError("Slack refused the message: invalid_blocks."))
    await notice(p, ana, "n1")
    assert await row(p, "n1") == (DeliveryStatus.FAILED, None, "Slack refused the message: invalid_blocks.")
    assert dms(p.discord) == []  # Discord would have refused the same message: not tried
    slack = await p.h.app.store.people.identity(Identity("slack", "U1"))
    assert slack is not None and slack.dm_closed_reason is None
    await notice(p, ana, "n2")  # a fine message later goes where the person wants it
    assert await row(p, "n2") == (DeliveryStatus.SENT, "slack", "")
    assert dms(p.slack) == ["U1"] and dms(p.discord) == []


async def test_a_message_refused_after_other_accounts_closed_is_not_blamed_on_every_account(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.app.store.people.set_dm_closed(Identity("discord", "D1"), '"closed"')
    p.slack.failures.append(PermanentDeliveryError("Slack refused the message: msg_too_long."))
    await notice(p, ana, "n1")
    assert await row(p, "n1") == (DeliveryStatus.FAILED, None, "Slack refused the message: msg_too_long.")


async def test_an_account_level_refusal_without_dm_closed_still_falls_back(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.say("U1", "settings platform slack", platform="slack")
    p.slack.failures.append(PermanentDeliveryError("Email: the mail server refused this address (550).",
                                                   account_level=True))
    await notice(p, ana, "n1")
    assert await row(p, "n1") == (DeliveryStatus.SENT, "discord", "")
    slack = await p.h.app.store.people.identity(Identity("slack", "U1"))
    assert slack is not None and slack.dm_closed_reason is not None


# --- the adapters' mapping -----------------------------------------------------------------------------------------


def _slack(code: str) -> PermanentDeliveryError:
    response = AsyncSlackResponse(client=None, http_verb="POST", api_url="http://127.0.0.1/api/chat.postMessage",
                                  req_args={}, data={"ok": False, "error": code}, headers={}, status_code=200)
    mapped = delivery_error(SlackApiError(code, response), direct=True, posting=True)
    assert isinstance(mapped, PermanentDeliveryError)
    return mapped


@pytest.mark.parametrize(("code", "account"), [("user_not_found", True), ("cannot_dm", True),
                                               ("account_inactive", True), ("invalid_blocks", False),
                                               ("msg_too_long", False), ("channel_not_found", False)])
def test_slack_says_which_refusals_are_about_the_account(code: str, account: bool) -> None:
    assert _slack(code).account_level is account


@dataclass
class _Answer:
    """What discord.py's HTTP errors read of an HTTP answer."""

    status: int
    reason: str


async def _discord(error: discord.HTTPException) -> PermanentDeliveryError:
    async def request() -> None:
        raise error
    with pytest.raises(PermanentDeliveryError) as raised:
        await call_discord(request())
    return raised.value


@pytest.mark.parametrize(("error", "account"), [
    (discord.Forbidden(_Answer(403, "Forbidden"), {"code": 50007, "message": "Cannot send messages to this user"}),
     True),
    (discord.NotFound(_Answer(404, "Not Found"), {"code": 10013, "message": "Unknown User"}), True),
    (discord.NotFound(_Answer(404, "Not Found"), {"code": 10008, "message": "Unknown Message"}), False),
    (discord.HTTPException(_Answer(400, "Bad Request"), {"code": 50035, "message": "Invalid Form Body"}), False),
    (discord.Forbidden(_Answer(403, "Forbidden"), {"code": 50001, "message": "Missing Access"}), False),
])
async def test_discord_says_which_refusals_are_about_the_account(error: discord.HTTPException, account: bool) -> None:
    assert (await _discord(error)).account_level is account


@pytest.mark.parametrize(("stage", "account"), [("rcpt", True), ("data", False)])
def test_email_says_a_refused_address_is_about_the_account_and_refused_data_is_not(stage: str, account: bool) -> None:
    mapped = _mapped(aiosmtplib.SMTPResponseException(550, "refused"), stage)
    assert isinstance(mapped, PermanentDeliveryError) and mapped.account_level is account
