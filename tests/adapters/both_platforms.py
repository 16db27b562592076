"""Slack and Discord in one app: the real slack_bolt / slack_sdk and discord.py clients, started by the composition
root against both loopback fakes, on one SQLite file.

Tests that need both platforms at once (one person on each, a notice that must go out on one and not hold up the
other) drive it through :class:`BothPlatforms`: commands and button clicks as a person on either platform, and
the delivery worker run until nothing is due, every wait bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.assembly import App, build_app
from app.settings import Settings
from bot.model import Identity
from tests.adapters.slack.test_slack_adapter import buttons, install, last_reply, text_of
from tests.fakes.discord_gateway import InteractionHandle, SentMessage
from tests.fakes.discord_server import COORDINATOR_ROLE, FakeDiscord, FakeUser
from tests.fakes.slack_server import FakeSlack
from tests.postgres_server import storage_settings
from tests.support import FixedClock

SLACK_USERS = ("U1", "U2", "U3")
SETTLE_SECONDS = 10.0
"""A guard only: settling finishes in well under a second; past this the test fails instead of hanging."""

JsonDict = dict[str, Any]


def both_settings(tmp_path: Path, slack: FakeSlack, discord: FakeDiscord, *,
                  admins: Iterable[str] = ("slack:U1",)) -> Settings:
    return Settings(
        storage=storage_settings(tmp_path, "bot.db"),
        slack={"bot_token": "xoxb-test", "app_token": "xapp-test", "signing_secret": "s3cret",
               "api_base_url": slack.api_url},
        discord={"token": discord.token, "guild_id": discord.guild_id, "api_base_url": discord.api_base,
                 "gateway_url": discord.gateway_url, "member_role": "member",
                 "coordinator_role": str(COORDINATOR_ROLE.id)},
        coalition={"admins": list(admins)},
        delivery={"slack_workspace_per_second": 50.0},
        web={"host": "127.0.0.1", "port": 0},
    )


@asynccontextmanager
async def both(tmp_path: Path, slack: FakeSlack, discord: FakeDiscord, clock: FixedClock, *,
               admins: Iterable[str] = ("slack:U1",)) -> AsyncIterator[App]:
    """The whole app with both platforms configured; Slack in Socket Mode (the runner connects itself)."""
    settings = both_settings(tmp_path, slack, discord, admins=admins)
    install(slack, settings)
    async with build_app(settings, clock=clock) as app:
        yield app


def discord_text(message: SentMessage) -> str:
    """What a Discord reader sees of a message: content, then each embed's title, description and fields."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(p for p in parts if p)


def discord_buttons(message: SentMessage) -> dict[str, str]:
    """Button label → custom_id."""
    return {c["label"]: c["custom_id"] for row in message.components for c in row.get("components", [])
            if "custom_id" in c and "label" in c}


@dataclass
class BothPlatforms:
    """The running app and the two fakes it talks to, with a person's-eye view of each platform."""

    app: App
    slack: FakeSlack
    discord: FakeDiscord
    clock: FixedClock

    async def on_slack(self, user: str, text: str) -> JsonDict:
        """``/coalition <text>`` typed by ``user``; returns the ephemeral reply posted to its response_url."""
        ack = await self.slack.send_slash_command(command="/coalition", text=text, user_id=user)
        assert ack == {}  # acked at once, answered through response_url
        return await last_reply(self.slack)

    async def click_on_slack(self, user: str, button: Mapping[str, Any]) -> JsonDict:
        """``user`` clicks ``button`` (a block element); returns the reply posted to the click's response_url."""
        ack = await self.slack.send_block_action(user_id=user, action_id=button["action_id"], value=button["value"])
        assert ack == {}
        return await last_reply(self.slack)

    def slack_dms(self, user: str) -> list[JsonDict]:
        """The messages in the bot's DM with ``user``, oldest first."""
        return self.slack.messages(user)

    async def on_discord(self, user: FakeUser, name: str, options: Mapping[str, object] | None = None,
                         ) -> SentMessage:
        """The slash command ``name`` (its full path, e.g. ``"settings platform"``) sent by ``user``; returns
        the reply message, whether it came at once or after a deferral."""
        handle = await self.discord.send_slash_command(name, options, user_id=user.id)
        return await self._discord_reply(handle)

    async def click_on_discord(self, user: FakeUser, custom_id: str, message: SentMessage) -> SentMessage:
        handle = await self.discord.send_component(custom_id, user_id=user.id, message=message)
        return await self._discord_reply(handle)

    @staticmethod
    async def _discord_reply(handle: InteractionHandle) -> SentMessage:
        body = await handle.callback()
        if body["type"] == 5:  # deferred (a slow reply): the first follow-up fills it in
            message: SentMessage = await handle.followup()
            return message
        assert body["type"] == 4, body
        original: SentMessage = await handle.original_response()
        return original

    async def settle(self) -> None:
        """Do everything due now — due announcements, fan-outs, the delivery worker — until nothing is left."""
        async with asyncio.timeout(SETTLE_SECONDS):
            await self.app.run_due()
            while await self.app.worker.run_due():
                pass

    async def person_of(self, platform: str, external_id: str | int) -> int | None:
        record = await self.app.store.people.identity(Identity(platform, str(external_id)))
        return None if record is None else record.person_id


@asynccontextmanager
async def both_platforms(tmp_path: Path, clock: FixedClock | None = None, *,
                         slack_users: Iterable[str] = SLACK_USERS,
                         admins: Iterable[str] = ("slack:U1",)) -> AsyncIterator[BothPlatforms]:
    """Both fakes, the Slack users added, and the app connected to both; everything closed on every path."""
    clock = clock or FixedClock()
    async with FakeSlack() as slack, FakeDiscord() as discord:
        for user in slack_users:
            slack.add_user(user, name=user.lower())
        async with both(tmp_path, slack, discord, clock, admins=admins) as app:
            yield BothPlatforms(app, slack, discord, clock)


__all__ = ["SETTLE_SECONDS", "SLACK_USERS", "BothPlatforms", "JsonDict", "both", "both_platforms", "buttons",
           "discord_buttons", "discord_text", "text_of"]
