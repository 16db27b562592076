"""The permissions ``setup`` asks for, the invite grants and the start-up check names are one set: a server set
up exactly as the invite says works, and a server without them is told which ones are missing. Real discord.py
against the fake, which refuses an overwrite granting what the bot does not hold (403, 50013), as Discord does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import discord
import pytest

from adapters.discord.client import DiscordRunner, NotInGuild
from adapters.discord.permissions import (
    CREATE_PRIVATE_THREADS,
    MANAGE_ROLES,
    REQUIRED,
    invite_url,
    required_value,
)
from adapters.discord.setup import SetupError, setup_public_channel, setup_topic_channel
from app.assembly import build_app
from app.settings import Settings
from bot.i18n import Translator
from tests.fakes.discord_server import (
    ALICE,
    ANNOUNCEMENTS,
    APPLICATION_ID,
    BOB,
    BOT,
    BOT_ROLE,
    GENERAL,
    GUILD_ID,
    FakeDiscord,
    FakeGuild,
    FakeRole,
    default_guild,
)
from tests.postgres_server import storage_settings
from tests.support import FixedClock

SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
OVERWRITE = "/channels/{channel_id}/permissions/{overwrite_id}"
# What the README's invite granted before: Send Messages, Embed Links, Attach Files, Manage Roles.
OLD_README_INVITE = (1 << 11) | (1 << 14) | (1 << 15) | (1 << 28)
HELPER_ROLE = FakeRole(1_200_000_000_000_000_104, "bot-helper", permissions=1 << 28, position=2)


def render(error: SetupError) -> str:
    return Translator.untranslated().render(error.message, "en")


@asynccontextmanager
async def started(guild: FakeGuild, tmp_path: Path, clock: FixedClock) -> AsyncIterator[tuple[FakeDiscord,
                                                                                                 DiscordRunner]]:
    async with FakeDiscord(guild=guild) as fake:
        settings = Settings(discord={"token": fake.token, "guild_id": fake.guild_id, "api_base_url": fake.api_base,
                                     "gateway_url": fake.gateway_url, "member_role": "member"},
                            storage=storage_settings(tmp_path, "bot.db"))
        async with build_app(settings, clock=clock) as app:
            [runner] = app.platform_runners
            assert isinstance(runner, DiscordRunner)
            yield fake, runner


async def test_setup_succeeds_with_exactly_the_invite_permissions(tmp_path: Path, clock: FixedClock) -> None:
    # An admin who stripped @everyone: the bot holds only what its invite granted.
    guild = default_guild(bot_permissions=required_value(), everyone_permissions=0)
    async with started(guild, tmp_path, clock) as (fake, runner):
        await setup_public_channel(runner.client, fake.guild_id, ANNOUNCEMENTS.id)
        await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)

        puts = fake.requests_to("PUT", OVERWRITE)
        assert len(puts) == 4 and all(p.status == 204 for p in puts)
        for put in puts:  # nothing asked beyond the invite
            assert (int(put.json["allow"]) | int(put.json["deny"])) & ~required_value() == 0
        for channel in (ANNOUNCEMENTS.id, GENERAL.id):
            assert fake.world.permissions_in(BOT.id, channel) & SEND_MESSAGES
            assert not fake.world.permissions_in(BOB.id, channel) & SEND_MESSAGES


async def test_the_old_readme_invite_is_refused_by_the_fake_as_by_discord(tmp_path: Path, clock: FixedClock) -> None:
    """The trap of the issue: the invite the README named lacked what the overwrite asked (Manage Messages)."""
    guild = default_guild(bot_permissions=OLD_README_INVITE, everyone_permissions=1 << 10)
    async with started(guild, tmp_path, clock) as (_, runner):
        channel = runner.client.get_channel(GENERAL.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.Forbidden) as refused:
            await channel.set_permissions(channel.guild.me, manage_messages=True)
        assert refused.value.status == 403 and refused.value.code == 50013
        assert OLD_README_INVITE & MANAGE_MESSAGES == 0 and required_value() & MANAGE_MESSAGES == 0


async def test_setup_names_exactly_the_missing_permissions_and_changes_nothing(
        tmp_path: Path, clock: FixedClock) -> None:
    lacking = required_value() & ~MANAGE_ROLES.bit & ~CREATE_PRIVATE_THREADS.bit
    guild = default_guild(bot_permissions=lacking, everyone_permissions=0)
    async with started(guild, tmp_path, clock) as (fake, runner):
        with pytest.raises(SetupError) as refused:
            await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)

        text = render(refused.value)
        assert "Manage Roles, Create Private Threads" in text
        assert "Manage Channels" not in text and "Manage Messages" not in text and "Send Messages" not in text
        assert invite_url(APPLICATION_ID) in text and f"permissions={required_value()}" in text
        assert fake.requests_to("PUT", OVERWRITE) == []  # nothing half-done
        assert fake.world.overwrites.get(GENERAL.id) is None


async def test_a_role_given_to_the_bot_after_start_counts_without_a_restart(tmp_path: Path, clock: FixedClock) -> None:
    """Without the members intent the gateway does not say the bot got a role: setup fetches the member."""
    base = default_guild(bot_permissions=required_value() & ~MANAGE_ROLES.bit, everyone_permissions=0)
    guild = FakeGuild(id=base.id, name=base.name, owner_id=base.owner_id, roles=(*base.roles, HELPER_ROLE),
                      channels=base.channels, members=base.members)
    async with started(guild, tmp_path, clock) as (fake, runner):
        await fake.set_member_roles(BOT.id, (BOT_ROLE.id, HELPER_ROLE.id))

        await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)

        assert not fake.world.permissions_in(ALICE.id, GENERAL.id) & SEND_MESSAGES


async def test_a_refusal_the_check_did_not_foresee_reports_discords_code(fake_guild_full: FakeGuild,
                                                                         tmp_path: Path, clock: FixedClock) -> None:
    async with started(fake_guild_full, tmp_path, clock) as (fake, runner):
        fake.queue_failure("PUT", OVERWRITE, status=403, code=50013, message="Missing Permissions")
        with pytest.raises(SetupError) as refused:
            await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)
        assert "error 50013: Missing Permissions" in render(refused.value)


async def test_a_channel_the_bot_cannot_see_names_view_channels(fake_guild_full: FakeGuild, tmp_path: Path,
                                                                 clock: FixedClock) -> None:
    async with started(fake_guild_full, tmp_path, clock) as (fake, runner):
        channel = runner.client.get_channel(GENERAL.id)
        assert isinstance(channel, discord.TextChannel)
        updated = asyncio.create_task(runner.client.wait_for("guild_channel_update", timeout=fake.timeout))
        await fake.set_overwrite(GENERAL.id, GUILD_ID, deny=1 << 10)  # private, and the bot was not added
        await updated
        assert not channel.permissions_for(channel.guild.me).view_channel

        with pytest.raises(SetupError) as refused:
            await setup_topic_channel(runner.client, fake.guild_id, GENERAL.id)
        assert "View Channels, Manage Roles" in render(refused.value)


@pytest.fixture
def fake_guild_full() -> FakeGuild:
    return default_guild(bot_permissions=required_value())


# --- the start-up and join checks --------------------------------------------------------------------------


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and r.name.startswith("adapters.discord")]


@asynccontextmanager
async def handled(client: discord.Client, event: str, within: float) -> AsyncIterator[None]:
    """Until discord.py has dispatched the next ``event`` and the client's own handler of it has finished.

    discord.py resolves ``wait_for`` before it schedules the client's ``on_<event>`` task, so seeing the event
    is not enough: that task (named by discord.py; listed by ``all_tasks`` until it finishes) is awaited too,
    both within ``within`` seconds.
    """
    seen = asyncio.create_task(client.wait_for(event, timeout=within))
    try:
        yield
        async with asyncio.timeout(within):
            await seen
            handlers = [task for task in asyncio.all_tasks() if task.get_name() == f"discord.py: on_{event}"]
            await asyncio.gather(*handlers)
    finally:
        seen.cancel()


async def test_start_in_a_server_without_the_permissions_logs_them_with_the_invite_url(
        tmp_path: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    guild = default_guild(bot_permissions=required_value() & ~MANAGE_ROLES.bit, everyone_permissions=0)
    async with started(guild, tmp_path, clock) as (fake, _):
        [warning] = warnings_of(caplog)
        assert "Manage Roles" in warning and "Send Messages" not in warning
        assert invite_url(APPLICATION_ID) in warning
        assert fake.token not in caplog.text


async def test_start_with_the_invite_permissions_logs_no_warning(
        tmp_path: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with started(default_guild(bot_permissions=required_value(), everyone_permissions=0), tmp_path, clock):
        assert warnings_of(caplog) == []


async def test_joining_a_server_without_the_permissions_logs_them(
        fake_guild_full: FakeGuild, tmp_path: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with started(fake_guild_full, tmp_path, clock) as (fake, runner):
        assert warnings_of(caplog) == []
        fake.world.roles[BOT_ROLE.id] = dataclasses.replace(BOT_ROLE, permissions=1 << 11)  # re-invited: Send only
        fake.world.roles[GUILD_ID] = FakeRole(GUILD_ID, "@everyone", 0)

        async with handled(runner.client, "guild_join", fake.timeout):
            await fake.join_guild()

        [warning] = warnings_of(caplog)
        assert all(p.english in warning for p in REQUIRED if p.bit != 1 << 11)
        assert f"permissions={required_value()}" in warning


async def test_a_permission_taken_from_the_bots_role_while_it_runs_is_logged(
        fake_guild_full: FakeGuild, tmp_path: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with started(fake_guild_full, tmp_path, clock) as (fake, runner):
        for role, permissions in [(GUILD_ID, 0), (BOT_ROLE.id, required_value() & ~MANAGE_ROLES.bit),
                                  (BOT_ROLE.id, required_value() & ~MANAGE_ROLES.bit | (1 << 6))]:
            async with handled(runner.client, "guild_role_update", fake.timeout):
                await fake.set_role_permissions(role, permissions)

        [warning] = warnings_of(caplog)  # once, not again for an edit that changes nothing the bot needs
        assert "Manage Roles" in warning and invite_url(APPLICATION_ID) in warning


async def test_a_bot_not_in_the_configured_server_stops_with_the_invite_url(tmp_path: Path, clock: FixedClock) -> None:
    async with FakeDiscord() as fake:
        settings = Settings(discord={"token": fake.token, "guild_id": GUILD_ID + 1, "api_base_url": fake.api_base,
                                     "gateway_url": fake.gateway_url}, storage=storage_settings(tmp_path, "bot.db"))
        with pytest.raises(NotInGuild) as stopped:
            async with build_app(settings, clock=clock):
                pass
        assert invite_url(APPLICATION_ID) in str(stopped.value) and fake.token not in str(stopped.value)
