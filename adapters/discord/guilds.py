"""What the delivery side reads about the coalition's server and its channels, with or without a gateway.

Why not just the client's cache: only the process holding the gateway (:mod:`.gateway`) has a live cache. Every
other process sends over REST, and so does the holder between a drop and the RESUME; there the cache is empty or
stale. :class:`GuildView` answers from the cache while the client's gateway socket is open and from REST
otherwise, keeping REST answers a few minutes (one request, not one per delivery).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import aiohttp
import discord

from adapters.discord.gateway import socket_open

TTL_SECONDS = 300.0

Channel = discord.abc.GuildChannel | discord.abc.PrivateChannel | discord.Thread
Fetch = Callable[[str, Callable[[], Awaitable[Channel]]], Awaitable[Channel]]
"""How a channel is fetched: one request on a route, under the adapter's pace and its error translation."""


class GuildView:
    def __init__(self, client: discord.Client, guild_id: int, *, pace: Callable[[], Awaitable[None]],
                 fetch: Fetch, ttl: float = TTL_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._guild_id = guild_id
        self._pace = pace
        self._fetch = fetch
        self._ttl = ttl
        self._monotonic = monotonic
        self._guild: tuple[float, discord.Guild] | None = None
        self._news: dict[str, tuple[float, bool]] = {}

    async def guild(self) -> discord.Guild | None:
        """The coalition's server with its roles (no members, no channels when fetched); ``None`` when neither the
        cache nor Discord can say."""
        if socket_open(self._client):
            cached = self._client.get_guild(self._guild_id)
            if cached is not None:
                return cached
        now = self._monotonic()
        if self._guild is not None and now - self._guild[0] < self._ttl:
            return self._guild[1]
        try:
            await self._pace()
            fetched = await self._client.fetch_guild(self._guild_id, with_counts=False)
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, TimeoutError, OSError):
            return None
        self._guild = (now, fetched)
        return fetched

    async def cached_text_channel(self, channel_id: str) -> discord.TextChannel | None:
        """The gateway's copy of a text channel, while the gateway is live."""
        channel = self._client.get_channel(int(channel_id)) if socket_open(self._client) else None
        return channel if isinstance(channel, discord.TextChannel) else None

    async def is_news(self, route: str, channel_id: str) -> bool:
        """Whether ``channel_id`` is an announcement channel (its posts are published to following servers).

        Without a live cache the channel is fetched on ``route``; a failure raises the fetch's delivery error,
        so nothing is posted rather than posted and left unpublished."""
        cached = await self.cached_text_channel(channel_id)
        if cached is not None:
            return cached.is_news()
        now = self._monotonic()
        known = self._news.get(channel_id)
        if known is not None and now - known[0] < self._ttl:
            return known[1]
        channel = await self._fetch(route, lambda: self._client.fetch_channel(int(channel_id)))
        news = isinstance(channel, discord.TextChannel) and channel.is_news()
        self._news[channel_id] = (now, news)
        return news


def everyone_sees(channel: discord.abc.GuildChannel, everyone: discord.Role) -> bool:
    """Whether ``@everyone`` may view ``channel``: its server-wide permissions, then the channel's ``@everyone``
    overwrite (Discord's rule; no other overwrite applies to it). Computed here rather than by
    ``channel.permissions_for``, which needs the channel's server cached with its roles."""
    base = everyone.permissions.value
    if base & discord.Permissions(administrator=True).value:
        return True
    allow, deny = channel.overwrites_for(everyone).pair()
    return discord.Permissions((base & ~deny.value) | allow.value).view_channel
