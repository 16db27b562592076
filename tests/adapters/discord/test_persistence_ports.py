"""Issue 17: the Discord adapter persists through small ports the composition root hands it, never through the
SQLite store (it used to refuse any other store and write SQL itself).

Here the real discord.py client, against the loopback fake, runs on in-memory ports: a button's token, the first
send attempt and the publish all go through them, a click finds its command through them, and the database holds
none of it.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from adapters import discord as discord_adapter
from adapters.discord.tokens import token_of
from app.assembly import build_app
from app.settings import Settings
from bot.adapter_stores import Publish, PublishStatus
from bot.commands.invoke import invoke
from bot.messages import Action, Message
from bot.subscriptions.declarations import SUBSCRIBE
from bot.topics.model import Policy, Visibility
from tests.fakes.discord_server import ANNOUNCEMENTS, BOB, FakeDiscord
from tests.support import FixedClock, console_settings


class MemoryTokens:
    def __init__(self) -> None:
        self.commands: dict[str, str] = {}

    async def remember(self, token: str, command: str, now: datetime) -> None:
        self.commands.setdefault(token, command)

    async def command_for(self, token: str) -> str | None:
        return self.commands.get(token)


class MemoryAttempts:
    def __init__(self) -> None:
        self.first: dict[str, datetime] = {}

    async def first_attempt(self, delivery_key: str, now: datetime) -> datetime:
        return self.first.setdefault(delivery_key, now)


class MemoryPublishes:
    def __init__(self) -> None:
        self.rows: list[Publish] = []
        self.published_at: dict[int, datetime] = {}

    async def _add(self, channel_id: str, message_id: str, status: PublishStatus, now: datetime,
                   reason: str | None) -> None:
        if all(row.message_id != message_id for row in self.rows):
            self.rows.append(Publish(len(self.rows) + 1, channel_id, message_id, status, now, 0, reason))

    async def add(self, channel_id: str, message_id: str, now: datetime) -> None:
        await self._add(channel_id, message_id, PublishStatus.PENDING, now, None)

    async def withhold(self, channel_id: str, message_id: str, reason: str, now: datetime) -> None:
        await self._add(channel_id, message_id, PublishStatus.FAILED, now, reason)

    async def all(self) -> list[Publish]:
        return list(self.rows)

    async def due(self, now: datetime) -> list[Publish]:
        return [row for row in self.rows if row.status is PublishStatus.PENDING and row.not_before <= now]

    async def next_due(self) -> datetime | None:
        return min((row.not_before for row in self.rows if row.status is PublishStatus.PENDING), default=None)

    async def published_since(self, channel_id: str, since: datetime) -> list[datetime]:
        return sorted(at for publish_id, at in self.published_at.items()
                      if self.rows[publish_id - 1].channel_id == channel_id and at > since)

    async def postpone(self, publish_id: int, not_before: datetime, reason: str, *,
                       attempts: int | None = None) -> None:
        row = self.rows[publish_id - 1]
        self.rows[publish_id - 1] = replace(row, not_before=not_before, reason=reason,
                                            attempts=row.attempts if attempts is None else attempts)

    async def mark_published(self, publish_id: int, now: datetime) -> None:
        row = self.rows[publish_id - 1]
        self.rows[publish_id - 1] = replace(row, status=PublishStatus.PUBLISHED, reason=None, attempts=row.attempts + 1)
        self.published_at[publish_id] = now

    async def mark_failed(self, publish_id: int, reason: str) -> None:
        row = self.rows[publish_id - 1]
        self.rows[publish_id - 1] = replace(row, status=PublishStatus.FAILED, reason=reason, attempts=row.attempts + 1)


async def test_the_adapter_runs_on_ports_it_is_handed_not_on_the_sqlite_store(
        tmp_path: Path, clock: FixedClock) -> None:
    tokens, attempts, publishes = MemoryTokens(), MemoryAttempts(), MemoryPublishes()
    asked: list[tuple[str, str]] = []

    async def may_forward(platform: str, channel_id: str) -> bool:
        asked.append((platform, channel_id))
        return True

    async with FakeDiscord() as fake, \
            build_app(console_settings(tmp_path), clock=clock, console_output=io.StringIO()) as app:
        now = clock.now()
        await app.store.topics.create("climate", "Climate justice", "", Visibility.PUBLIC, Policy.OPEN, now)
        config = Settings(discord={"token": fake.token, "guild_id": fake.guild_id, "api_base_url": fake.api_base,
                                   "gateway_url": fake.gateway_url}).discord
        stores = discord_adapter.DiscordStores(people=app.store.people, action_tokens=tokens, send_attempts=attempts,
                                               publishes=publishes, may_forward=may_forward)
        async with discord_adapter.running(config, app.dispatcher, stores, app.services.translator, clock,
                                           language="en") as runner:
            join = Action("Subscribe to climate", invoke(SUBSCRIBE, topic="climate"))
            news = Message(body=("News",), actions=(join,))
            sent = await runner.delivery.send_channel(str(ANNOUNCEMENTS.id),
                                                      news.render(app.services.translator, "en"),
                                                      delivery_key="news:1")
            assert asked == [("discord", str(ANNOUNCEMENTS.id))]
            assert attempts.first == {"news:1": now}
            assert tokens.commands == {token_of("subscribe climate"): "subscribe climate"}
            await runner.publishes.run_due()  # the background publisher may have been first: the same end
            [message_id] = sent.message_ids
            assert [(p.message_id, p.status) for p in await runner.publishes.all()] == \
                [(message_id, PublishStatus.PUBLISHED)]
            [posted] = fake.messages_in(ANNOUNCEMENTS.id)
            assert posted.crossposted

            [custom_id] = posted.custom_ids()
            clicked = await fake.send_component(custom_id, user_id=BOB.id, message=posted)
            embeds = (await clicked.callback())["data"]["embeds"]
            assert "climate" in " ".join(f"{embed.get('title')} {embed.get('description')}" for embed in embeds)

        for table in ("action_tokens", "discord_send_attempts", "discord_publishes"):
            row = await app.db.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
            assert row is not None and row["n"] == 0, table
