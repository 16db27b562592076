"""Who is clicking: a Discord user becomes a core identity, and the guild's roles become core roles.

``member_role`` and ``coordinator_role`` may each be a role name or a role id. Everyone else in the guild,
and anyone outside it, is an outsider. An interaction from a DM carries no member and no roles, so the
member is fetched from the configured guild (REST: without the privileged members intent the cache
holds almost nobody) before any permission is decided.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

from bot.model import Identity, Role

PLATFORM = "discord"


def identity_of(user: discord.abc.Snowflake) -> Identity:
    return Identity(PLATFORM, str(user.id))


def _matches(spec: str | None, role: discord.Role) -> bool:
    if not spec:
        return False
    spec = spec.strip().lstrip("@")
    if spec.isdigit() and int(spec) == role.id:
        return True
    return role.name.casefold() == spec.casefold()


class RoleMap:
    def __init__(self, guild_id: int | None, member_role: str | None, coordinator_role: str | None) -> None:
        self.guild_id = guild_id
        self._member = member_role
        self._coordinator = coordinator_role

    def role_of(self, roles: Iterable[discord.Role]) -> Role:
        best = Role.OUTSIDER
        for role in roles:
            if _matches(self._coordinator, role):
                best = max(best, Role.COORDINATOR)
            elif _matches(self._member, role):
                best = max(best, Role.MEMBER)
        return best

    async def platform_role(self, client: discord.Client, user: discord.User | discord.Member) -> Role:
        """The caller's core role from the configured guild, fetching the member when the event has none."""
        if isinstance(user, discord.Member) and user.guild.id == self.guild_id:
            return self.role_of(user.roles)
        if self.guild_id is None:
            return Role.OUTSIDER
        guild = client.get_guild(self.guild_id)
        if guild is None:  # the server is on a shard another process holds: ask Discord
            try:
                guild = await client.fetch_guild(self.guild_id, with_counts=False)
            except (discord.NotFound, discord.Forbidden):  # the bot is not in it
                return Role.OUTSIDER
        member = guild.get_member(user.id)
        if member is None:
            try:
                member = await guild.fetch_member(user.id)
            except discord.NotFound:
                return Role.OUTSIDER
        return self.role_of(member.roles)
