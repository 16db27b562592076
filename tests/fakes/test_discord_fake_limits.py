"""The fake refuses what Discord refuses: overwrites granting what the bot does not hold (403, 50013), channels
the bot cannot see (403, 50001), and anything over Discord's message, component, modal and autocomplete limits
(400, 50035). Roles and their permissions are steerable as an admin would change them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes import discord_limits
from tests.fakes.discord_gateway import FakeUser
from tests.fakes.discord_limits import FormError, check_autocomplete, check_modal
from tests.fakes.discord_server import (
    BOB,
    BOT,
    BOT_ROLE,
    GENERAL,
    GUILD_ID,
    INVITED_PERMISSIONS,
    MANAGE_ROLES,
    FakeDiscord,
    default_guild,
)
from tests.fakes.test_discord_fake import running_bot, text_channel

MANAGE_MESSAGES = 1 << 13
ADMINISTRATOR = 1 << 3
GUILD = discord.Object(GUILD_ID)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patch_discord():
            yield server


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    async with running_bot(fake) as (bot, _):
        yield bot


# --- overwrites and permissions ------------------------------------------------------------------------


@pytest.mark.parametrize("grant", ["allow", "deny"])
async def test_an_overwrite_naming_a_permission_the_bot_lacks_is_refused_50013(
        fake: FakeDiscord, client: discord.Client, grant: str) -> None:
    channel = text_channel(client, GENERAL.id)
    overwrite = discord.PermissionOverwrite(manage_messages=grant == "allow")

    with pytest.raises(discord.Forbidden) as refused:
        await channel.set_permissions(channel.guild.default_role, overwrite=overwrite)

    assert (refused.value.status, refused.value.code, refused.value.text) == (403, 50013, "Missing Permissions")
    assert GENERAL.id not in fake.world.overwrites


async def test_an_overwrite_within_what_the_bot_holds_is_accepted(fake: FakeDiscord, client: discord.Client) -> None:
    channel = text_channel(client, GENERAL.id)
    await channel.set_permissions(channel.guild.default_role, send_messages=False, create_public_threads=False)
    assert fake.world.overwrites[GENERAL.id][GUILD_ID]["deny"] == str((1 << 11) | (1 << 35))


async def test_an_own_manage_roles_overwrite_lifts_the_rule(fake: FakeDiscord, client: discord.Client) -> None:
    channel = text_channel(client, GENERAL.id)
    await fake.set_overwrite(GENERAL.id, BOT.id, allow=MANAGE_ROLES, member=True)

    await channel.set_permissions(channel.guild.default_role, manage_messages=False)

    assert fake.world.overwrites[GENERAL.id][GUILD_ID]["deny"] == str(MANAGE_MESSAGES)


async def test_an_administrator_bot_may_grant_anything() -> None:
    async with FakeDiscord(guild=default_guild(bot_permissions=ADMINISTRATOR)) as fake:
        with fake.patch_discord():
            async with running_bot(fake) as (client, _):
                channel = text_channel(client, GENERAL.id)
                await channel.set_permissions(channel.guild.default_role, manage_messages=True)
                assert fake.world.overwrites[GENERAL.id][GUILD_ID]["allow"] == str(MANAGE_MESSAGES)


async def test_a_channel_the_bot_cannot_see_is_missing_access_50001(fake: FakeDiscord,
                                                                    client: discord.Client) -> None:
    await fake.set_overwrite(GENERAL.id, GUILD_ID, deny=1 << 10)  # @everyone (and so the bot) cannot see it

    with pytest.raises(discord.Forbidden) as refused:
        await text_channel(client, GENERAL.id).send("hello")

    assert refused.value.code == 50001
    assert fake.world.permissions_in(BOT.id, GENERAL.id) == 0  # no View Channel: nothing else either


async def test_the_bot_holds_its_invite_through_a_managed_role(client: discord.Client) -> None:
    guild = client.get_guild(GUILD_ID)
    assert guild is not None and guild.me is not None
    role = guild.get_role(BOT_ROLE.id)
    assert role is not None and role.is_bot_managed() and role.permissions.value == INVITED_PERMISSIONS
    assert guild.me.guild_permissions.manage_roles and not guild.me.guild_permissions.manage_messages


async def test_a_role_edit_reaches_the_client_cache(fake: FakeDiscord, client: discord.Client) -> None:
    updated = asyncio.create_task(client.wait_for("guild_role_update", timeout=fake.timeout))
    await fake.set_role_permissions(BOT_ROLE.id, INVITED_PERMISSIONS | MANAGE_MESSAGES)
    await updated
    guild = client.get_guild(GUILD_ID)
    assert guild is not None and guild.me.guild_permissions.manage_messages


async def test_a_member_update_reaches_only_sessions_with_the_members_intent(
        fake: FakeDiscord, client: discord.Client) -> None:
    await fake.set_member_roles(BOB.id, ())

    assert not [f for f in fake.gateway.dispatched if f["t"] == "GUILD_MEMBER_UPDATE"]
    guild = client.get_guild(GUILD_ID)
    assert guild is not None
    assert (await guild.fetch_member(BOB.id)).roles == [guild.default_role]


# --- limits ----------------------------------------------------------------------------------------------


def button(n: int, **extra: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": f"B{n}", "custom_id": f"b{n}"} | extra


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


OVER_THE_LIMIT = {
    "content": {"content": "x" * 2001},
    "embeds": {"embeds": [{"description": "x"}] * 11},
    "title": {"embeds": [{"title": "x" * 257}]},
    "description": {"embeds": [{"description": "x" * 4097}]},
    "fields": {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
    "field name": {"embeds": [{"fields": [{"name": "x" * 257, "value": "v"}]}]},
    "field value": {"embeds": [{"fields": [{"name": "n", "value": "x" * 1025}]}]},
    "empty field value": {"embeds": [{"fields": [{"name": "n", "value": ""}]}]},
    "footer": {"embeds": [{"footer": {"text": "x" * 2049}}]},
    "embed total": {"embeds": [{"description": "x" * 4000, "fields": [{"name": "n", "value": "x" * 1024}] * 2}]},
    "total over embeds": {"embeds": [{"description": "x" * 3001}, {"description": "x" * 3000}]},
    "rows": {"components": [row(button(n)) for n in range(6)]},
    "buttons in a row": {"components": [row(*(button(n) for n in range(6)))]},
    "custom_id": {"components": [row(button(0, custom_id="x" * 101))]},
    "button label": {"components": [row(button(0, label="x" * 81))]},
    "duplicate custom_id": {"components": [row(button(0), button(0))]},
    "select options": {"components": [row({"type": 3, "custom_id": "s", "options": [
        {"label": f"o{n}", "value": f"o{n}"} for n in range(26)]})]},
    "select beside a button": {"components": [row({"type": 3, "custom_id": "s", "options": [
        {"label": "o", "value": "o"}]}, button(1))]},
}

AT_THE_LIMIT = {
    "content": "x" * 2000,
    "embeds": [{"title": "t" * 256, "description": "x" * 4096, "fields": [{"name": "n", "value": "x" * 1024}],
                "footer": {"text": "f" * 600}}],
    "components": [row(*(button(r * 5 + n, label="x" * 80) for n in range(5))) for r in range(5)],
}


async def post(fake: FakeDiscord, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"{fake.api_base}{path}", json=body,
                                   headers={"Authorization": f"Bot {fake.token}"}) as response:
            return response.status, await response.json()


@pytest.mark.parametrize("body", list(OVER_THE_LIMIT.values()), ids=list(OVER_THE_LIMIT))
async def test_a_message_over_a_discord_limit_is_refused_50035(fake: FakeDiscord, body: dict[str, Any]) -> None:
    status, answer = await post(fake, "POST", f"/channels/{GENERAL.id}/messages", body)

    assert (status, answer["code"]) == (400, 50035), answer
    assert fake.messages_in(GENERAL.id) == []


async def test_a_message_at_every_limit_is_accepted_and_an_edit_over_one_is_refused(fake: FakeDiscord) -> None:
    status, created = await post(fake, "POST", f"/channels/{GENERAL.id}/messages", AT_THE_LIMIT)
    assert status == 200, created

    path = f"/channels/{GENERAL.id}/messages/{created['id']}"
    status, answer = await post(fake, "PATCH", path, {"embeds": [{"description": "x" * 4097}]})

    assert (status, answer["code"]) == (400, 50035)
    [message] = fake.messages_in(GENERAL.id)
    assert message.embeds[0]["description"] == "x" * 4096  # unchanged


async def test_an_autocomplete_answer_with_26_choices_is_refused(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.1)
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)

    async def many(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"c{n}", value=f"c{n}") for n in range(26)]

    @tree.command(name="pick", description="Pick one", guild=GUILD)
    @app_commands.autocomplete(value=many)
    async def pick(interaction: discord.Interaction, value: str) -> None:
        await interaction.response.send_message(value)

    async with client:
        task = asyncio.create_task(client.start(fake.token))
        try:
            async with asyncio.timeout(fake.timeout):
                await client.wait_until_ready()
            await tree.sync(guild=GUILD)
            handle = await fake.send_autocomplete("pick", {"value": "c"}, focused="value", user_id=BOB.id)
            [refused] = await fake.wait_for(lambda: fake.requests_to("POST", "/interactions/{id}/{token}/callback"))
            assert refused.status == 400 and handle.callback_body is None
        finally:
            await client.close()
            async with asyncio.timeout(fake.timeout):
                await task


@pytest.mark.parametrize(("data", "broken"), [
    ({"title": "x" * 46, "custom_id": "m", "components": [row({"type": 4, "custom_id": "t", "label": "L"})]},
     "title"),
    ({"title": "T", "custom_id": "m", "components": [row({"type": 4, "custom_id": "t", "label": "x" * 46})]},
     "label"),
    ({"title": "T", "custom_id": "m", "components": [row({"type": 4, "custom_id": "t", "label": "L",
                                                            "max_length": 4001})]}, "max_length"),
    ({"title": "T", "custom_id": "m", "components": [row({"type": 4, "custom_id": f"t{n}", "label": "L"})
                                                      for n in range(6)]}, "components"),
])
def test_modal_limits(data: dict[str, Any], broken: str) -> None:
    with pytest.raises(FormError, match=broken):
        check_modal(data)


def test_autocomplete_limits() -> None:
    check_autocomplete({"choices": [{"name": "n" * 100, "value": "v" * 100}] * 25})
    with pytest.raises(FormError, match="choices"):
        check_autocomplete({"choices": [{"name": "n", "value": "v"}] * 26})
    with pytest.raises(FormError, match="value"):
        check_autocomplete({"choices": [{"name": "n", "value": "v" * 101}]})


# --- rate limits as a DM fan-out meets them ----------------------------------------------------------------------

async def request(fake: FakeDiscord, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake.api_base}{path}", json=body,
                                headers={"Authorization": f"Bot {fake.token}"}) as response:
            return response.status, await response.json(), dict(response.headers)


async def test_dm_opens_and_posts_share_the_global_50_per_second() -> None:
    users = [FakeUser(1_300_000_000_000_000_000 + n, f"user{n}") for n in range(26)]
    async with FakeDiscord(users=users, route_limits=discord_limits.ROUTE_LIMITS) as fake:
        assert fake.global_limit == 50
        answers = []
        for user in users[:25]:  # a first fan-out: every recipient costs a DM open and a post
            status, channel, _ = await request(fake, "/users/@me/channels", {"recipient_id": str(user.id)})
            answers.append(status)
            status, _, _ = await request(fake, f"/channels/{channel['id']}/messages", {"content": "hi"})
            answers.append(status)
        assert answers == [200] * 50
        status, body, headers = await request(fake, "/users/@me/channels", {"recipient_id": str(users[25].id)})
        assert (status, body["global"], headers["X-RateLimit-Scope"]) == (429, True, "global")
        assert headers["X-RateLimit-Global"] == "true" and headers["Via"]
        assert 0 < body["retry_after"] <= 1.0
        assert fake.rate_limited_count == 1 and fake.dm_channel_id(users[25].id) is None


async def test_message_bucket_is_five_per_five_seconds_per_channel() -> None:
    users = [FakeUser(1_300_000_000_000_000_000 + n, f"user{n}") for n in range(2)]
    async with FakeDiscord(users=users, route_limits=discord_limits.ROUTE_LIMITS, global_limit=None) as fake:
        channels = [(await request(fake, "/users/@me/channels", {"recipient_id": str(u.id)}))[1]["id"] for u in users]
        remaining = []
        for _ in range(5):
            status, _, headers = await request(fake, f"/channels/{channels[0]}/messages", {"content": "x"})
            assert (status, headers["X-RateLimit-Limit"]) == (200, "5")
            assert 4.0 < float(headers["X-RateLimit-Reset-After"]) <= 5.0
            remaining.append(int(headers["X-RateLimit-Remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        status, body, headers = await request(fake, f"/channels/{channels[0]}/messages", {"content": "x"})
        assert (status, body["global"], headers["X-RateLimit-Scope"]) == (429, False, "user")
        status, _, headers = await request(fake, f"/channels/{channels[1]}/messages", {"content": "x"})
        assert (status, headers["X-RateLimit-Remaining"]) == (200, "4")  # another DM: its own bucket
        assert len(fake.dm_messages_to(users[0].id)) == 5
