"""The Discord side of the delivery worker (:class:`bot.ports.PlatformAdapter`): DMs, channel posts, edits,
deletes — with Discord's failures translated into transient (retry) or permanent (record, never retry).

Why permanent failures must not be retried: repeated 401/403/429 answers count towards Discord's ban of
10,000 invalid requests in 10 minutes. Why a nonce: a retry within Discord's nonce window returns the
message already posted instead of posting twice; after the window, the channel's recent messages are read
for the nonce before sending again.

Rate limits: discord.py waits out the global limit and short per-route waits itself (a global 429 also slows the
bot's budget down: :func:`adapters.discord.client.global_limit_trace`); what reaches us as
``discord.RateLimited`` is a long limit on one route — opening DMs (route ``dm-open``) or one channel
(``channel:<id>``, a post, edit, delete or history read in it). That route alone is limited: the adapter
refuses further calls to it until it lifts, without a request (see :mod:`adapters.route_limits`), and the
worker defers just that row. A 429 discord.py hands over as an ``HTTPException`` (no ``Via`` header: a
Cloudflare ban of the whole bot) stays platform-wide.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import aiohttp
import discord

from adapters.discord.guilds import GuildView, everyone_sees
from adapters.discord.identity import PLATFORM, RoleMap
from adapters.discord.interactions import ACTION_PREFIX, InteractionHandler
from adapters.discord.publish import PublishQueue
from adapters.discord.render import Part, render_parts
from adapters.discord.setup import SetupError, setup_public_channel, setup_topic_channel
from adapters.discord.tokens import token_of
from adapters.route_limits import RouteLimits
from bot.adapter_stores import SendAttemptStore
from bot.clock import Clock
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.model import SentMessage
from bot.i18n import Msg, Text, _
from bot.messages import RenderedMessage
from bot.model import Identity, IdentityRecord, Role
from bot.people.store import PeopleStore

CANNOT_DM = 50007
OPENING_DMS_TOO_FAST = 40003  # "You are opening direct messages too fast": a 400, but a limit on opening DMs
UNKNOWN_CHANNEL = 10003
UNKNOWN_USER = 10013
ROLE_TTL_SECONDS = 300.0
NONCE_WINDOW = timedelta(minutes=4)  # Discord keeps nonces "a few minutes"; stay inside that
HISTORY_LOOKBACK = 50
WITHHELD = "withheld: not the coalition's public channel, or a topic that is not public is bound to it"
OPEN_DM = "dm-open"
RATE_LIMITED: Msg = _("Discord: rate limited.")
_T = TypeVar("_T")


def nonce_for(delivery_key: str, part: int) -> str:
    """At most 25 characters (Discord's limit), the same on every retry of the same delivery part."""
    return f"{hashlib.sha256(delivery_key.encode()).hexdigest()[:21]}-{part}"


def channel_route(channel_id: str | int) -> str:
    """The route of every request in one channel (Discord limits them by the channel, its major parameter)."""
    return f"channel:{channel_id}"


async def call_discord(request: Awaitable[_T], *, route: str | None = None) -> _T:
    """Await a discord.py call; raise the core's delivery errors instead of discord.py's.

    A 429 is ``rate_limited`` (the worker pauses Discord, not everything); a long per-route one
    (``discord.RateLimited``) carries ``route``, so only that route waits. A 5xx or a broken connection is
    ``may_have_landed``: Discord may have stored the message before failing. That costs little — a retry sends
    the same nonce with ``enforce_nonce``, so within Discord's window it returns the stored message instead of
    posting again, and after it the history scan in :meth:`DiscordDelivery._send` finds it.
    """
    try:
        return await request
    except discord.RateLimited as error:  # longer than max_ratelimit_timeout: the worker waits, not us
        raise TransientDeliveryError(RATE_LIMITED, error.retry_after, rate_limited=True, route=route) from error
    except discord.Forbidden as error:
        if error.code == CANNOT_DM:
            raise PermanentDeliveryError(_("This person does not accept direct messages from the bot."),
                                         dm_closed=True) from error
        raise PermanentDeliveryError(_("The bot has no access to this Discord channel (error {code}).",
                                       code=error.code)) from error
    except discord.NotFound as error:
        raise PermanentDeliveryError(_("Discord no longer knows this user, channel or message (error {code}).",
                                       code=error.code), account_level=error.code == UNKNOWN_USER) from error
    except discord.DiscordServerError as error:
        raise TransientDeliveryError(_("Discord: server error {status}.", status=error.status),
                                     may_have_landed=True) from error
    except discord.HTTPException as error:
        if error.code == OPENING_DMS_TOO_FAST:  # a limit on the DM-open route, not a refusal of this person
            raise TransientDeliveryError(RATE_LIMITED, _retry_after(error), rate_limited=True,
                                         route=OPEN_DM) from error
        if error.status == 429:
            raise TransientDeliveryError(RATE_LIMITED, _retry_after(error),
                                         rate_limited=True) from error
        raise PermanentDeliveryError(_("Discord refused the message (error {code}).", code=error.code)) from error
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise TransientDeliveryError(_("Network error ({error}).", error=type(error).__name__),
                                     may_have_landed=True) from error


def _retry_after(error: discord.HTTPException) -> float | None:
    """``Retry-After`` of a 429 discord.py did not wait out itself (e.g. one without Discord's ``Via`` header)."""
    headers = getattr(error.response, "headers", None) or {}
    try:
        value = headers.get("Retry-After")
        return float(value) if value else None
    except (TypeError, ValueError):
        return None


def _channel_number(channel_id: str) -> int:
    if not channel_id.isdigit():
        raise SetupError(_("That is not a text channel of the coalition's server."))
    return int(channel_id)


class DiscordDelivery:
    def __init__(self, client: discord.Client, guild_id: int, people: PeopleStore, handler: InteractionHandler,
                 attempts: SendAttemptStore, publishes: PublishQueue, clock: Clock,
                 nonce_window: timedelta = NONCE_WINDOW, roles: RoleMap | None = None,
                 pace: Callable[[], Awaitable[None]] | None = None,
                 may_publish: Callable[[str], Awaitable[bool]] | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 forget_dm: Callable[[Identity, str], Awaitable[bool]] | None = None) -> None:
        self._client = client
        self._forget_dm = forget_dm
        self._may_publish = may_publish
        # Discord's global limit counts requests, not deliveries: every request this adapter makes (a message
        # part, opening a DM, an edit, a history scan, a member look-up) takes its own token, right before it
        # is sent. The worker therefore does not pace Discord itself.
        self._pace = pace
        self._roles = roles
        self._role_cache: dict[str, tuple[float, Role]] = {}
        self._guild_id = guild_id
        self._people = people
        self._handler = handler
        self._attempts = attempts
        self._publishes = publishes
        self._clock = clock
        self._nonce_window = nonce_window
        self._limits = RouteLimits(PLATFORM, RATE_LIMITED, monotonic=monotonic)
        self._guild = GuildView(client, guild_id, pace=self._request_token, fetch=self._call, monotonic=monotonic)

    @property
    def platform(self) -> str:
        return PLATFORM

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        """DM through the stored DM channel; opening one (a request of its own) happens once per person, and
        normally ahead of time (:class:`bot.delivery.direct_channels.DirectChannels`). A stored channel Discord
        no longer knows (Unknown Channel) is forgotten and the DM reopened, once."""
        identity = recipient.identity
        stored = recipient.dm_channel_id
        channel_id = stored or await self._open_and_keep(identity)
        try:
            return await self._send_dm(channel_id, message, delivery_key)
        except PermanentDeliveryError as error:
            cause = error.__cause__
            if stored is None or not (isinstance(cause, discord.NotFound) and cause.code == UNKNOWN_CHANNEL):
                raise
        if self._forget_dm is not None:
            await self._forget_dm(identity, stored)
        return await self._send_dm(await self._open_and_keep(identity), message, delivery_key)

    async def open_direct(self, identity: Identity) -> str:
        """Open the DM channel with ``identity`` (one request, under the global pace); returns its id.

        Through the HTTP client rather than ``Client.create_dm``: that one answers from discord.py's cache of
        DM channels, which would hand back a channel Discord has since forgotten, and keeps every channel in
        memory."""
        if not identity.external_id.isdigit():
            raise PermanentDeliveryError(_("Discord no longer knows this user, channel or message (error {code}).",
                                           code=UNKNOWN_USER), account_level=True)
        data = await self._call(OPEN_DM, functools.partial(self._client.http.start_private_message,
                                                           int(identity.external_id)))
        return str(data["id"])

    async def _open_and_keep(self, identity: Identity) -> str:
        channel_id = await self.open_direct(identity)
        await self._people.set_dm_channel(identity, channel_id)
        return channel_id

    async def _send_dm(self, channel_id: str, message: RenderedMessage, delivery_key: str) -> SentMessage:
        channel = self._client.get_partial_messageable(int(channel_id), type=discord.ChannelType.private)
        return await self._send(channel, channel_route(channel_id), message, delivery_key)

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        """Post in a channel. In an announcement channel every part is also queued for publishing — which
        forwards it to every server that follows the channel — only when ``may_publish`` says the channel
        carries public posts alone (the coalition's public channel); otherwise the publish is recorded as
        withheld. Decided before sending, so a failing check posts nothing. Whether it is an announcement channel
        is asked of Discord when this process has no live gateway cache."""
        route = channel_route(channel_id)
        channel = await self._guild.cached_text_channel(channel_id)
        target = channel or self._client.get_partial_messageable(int(channel_id))
        news = await self._guild.is_news(route, channel_id)
        publish = news and self._may_publish is not None and await self._may_publish(channel_id)
        sent = await self._send(target, route, message, delivery_key)
        for message_id in sent.message_ids if news else ():
            if publish:
                await self._publishes.enqueue(channel_id, message_id)
            else:
                await self._publishes.withhold(channel_id, message_id, WITHHELD)
        return sent

    async def current_role(self, external_id: str) -> Role | None:
        """The member's role in the guild now; outsider once they left it.

        Asked over REST and kept for a few minutes: without the privileged members intent the gateway never
        says when someone's roles change, so the member cache cannot be trusted for this.
        """
        if self._roles is None or not external_id.isdigit():
            return None
        cached = self._role_cache.get(external_id)
        if cached is not None and time.monotonic() - cached[0] < ROLE_TTL_SECONDS:
            return cached[1]
        guild = await self._guild.guild()
        if guild is None:
            return None
        try:
            await self._request_token()
            member = await guild.fetch_member(int(external_id))
        except discord.NotFound:
            role = Role.OUTSIDER
        except (discord.HTTPException, discord.RateLimited):
            return None
        else:
            role = self._roles.role_of(member.roles)
        self._role_cache[external_id] = (time.monotonic(), role)
        return role

    async def channel_is_public(self, channel_id: str) -> bool | None:
        """Whether anyone outside the coalition's members may read the channel (``setup topic-channel`` refuses
        such a channel for a topic that is not public); ``None`` when the bot cannot see it.

        Public: everyone in the server can view it; or it is an announcement channel, whose posts the bot
        publishes to every server that follows it; or it belongs to another server. Asked of Discord, not of
        the gateway cache: right after ``setup`` changed the overwrites the cache may not have heard yet.
        """
        if not channel_id.isdigit():
            return None
        try:
            await self._request_token()
            channel = await self._client.fetch_channel(int(channel_id))
        except (discord.HTTPException, discord.RateLimited, discord.InvalidData, aiohttp.ClientError, TimeoutError,
                OSError):
            return None  # cannot tell: the core refuses, as for a public channel
        if not isinstance(channel, discord.abc.GuildChannel):
            return None
        if channel.guild.id != self._guild_id or channel.type is discord.ChannelType.news:
            return True
        guild = await self._guild.guild()
        return None if guild is None else everyone_sees(channel, guild.default_role)

    async def prepare_public_channel(self, channel_id: str) -> Text:
        """Check it is an announcement channel and let only the bot post; raises :class:`SetupError`."""
        return (await setup_public_channel(self._client, self._guild_id, _channel_number(channel_id))).message

    async def prepare_topic_channel(self, channel_id: str) -> Text:
        return (await setup_topic_channel(self._client, self._guild_id, _channel_number(channel_id))).message

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
        """Edit each delivered part; parts that no longer exist are deleted, new ones are posted after."""
        channel = self._client.get_partial_messageable(int(sent.channel_id))
        route = channel_route(sent.channel_id)
        parts = render_parts(message)
        for message_id, part in zip(sent.message_ids, parts, strict=False):
            kwargs = await self._handler.edit_kwargs(part)
            await self._call(route, functools.partial(channel.get_partial_message(int(message_id)).edit, **kwargs))
        for message_id in sent.message_ids[len(parts):]:
            await self._delete_one(channel, message_id)
        for part in parts[len(sent.message_ids):]:
            kwargs = await self._handler.part_kwargs(part)
            await self._call(route, functools.partial(channel.send, **kwargs))

    async def delete(self, sent: SentMessage) -> None:
        channel = self._client.get_partial_messageable(int(sent.channel_id))
        for message_id in sent.message_ids:
            await self._delete_one(channel, message_id)

    async def _delete_one(self, channel: discord.PartialMessageable, message_id: str) -> None:
        try:
            await self._call(channel_route(channel.id), channel.get_partial_message(int(message_id)).delete)
        except PermanentDeliveryError as error:
            if not isinstance(error.__cause__, discord.NotFound):  # already gone is what we wanted
                raise

    async def _request_token(self) -> None:
        if self._pace is not None:
            await self._pace()

    async def _call(self, route: str, request: Callable[[], Awaitable[_T]]) -> _T:
        """One request on ``route``: refused here, with no request and no token, while the route is limited;
        otherwise it takes its token right before it is sent (so requests keep their spacing), and a long
        per-route 429 limits the route."""
        self._limits.check(route)
        await self._request_token()
        try:
            return await call_discord(request(), route=route)
        except TransientDeliveryError as error:
            self._limits.note(error)
            raise

    async def _send(self, channel: discord.abc.Messageable, route: str, message: RenderedMessage,
                    delivery_key: str) -> SentMessage:
        self._limits.check(route)  # before the attempt is recorded: a refused one was never made
        parts = render_parts(message)
        nonces = [nonce_for(delivery_key, n) for n in range(len(parts))]
        first_at = await self._attempts.first_attempt(delivery_key, self._clock.now())
        found: dict[str, str] = {}
        if self._clock.now() - first_at > self._nonce_window:
            found = await self._find_sent(channel, route, dict(zip(nonces, parts, strict=True)), first_at)
        ids: list[str] = []
        channel_id = ""
        for nonce, part in zip(nonces, parts, strict=True):
            if nonce in found:
                ids.append(found[nonce])
                continue
            kwargs: dict[str, Any] = await self._handler.part_kwargs(part)
            posted = await self._call(route, functools.partial(channel.send, nonce=nonce, **kwargs))
            ids.append(str(posted.id))
            channel_id = str(posted.channel.id)
        return SentMessage(platform=PLATFORM, channel_id=channel_id or str(getattr(channel, "id", "")),
                           message_ids=tuple(ids))

    async def _find_sent(self, channel: discord.abc.Messageable, route: str, parts: dict[str, Part],
                         since: datetime) -> dict[str, str]:
        """Parts of this delivery already in the channel (a crash after sending, before recording it),
        by nonce → message id.

        Discord does not keep nonces (history never returns them), so a part is recognised as a message of
        ours, posted since the first attempt, with the same embed title and text (a part of buttons only: the
        same buttons). In a DM only the bot posts, so two identical deliveries in that window are the only
        thing this could mistake.
        """
        wanted = {_signature(part): nonce for nonce, part in parts.items()}
        me = self._client.user.id if self._client.user else None
        found: dict[str, str] = {}

        async def scan() -> None:
            async for posted in channel.history(limit=HISTORY_LOOKBACK, after=since - timedelta(seconds=5)):
                if posted.nonce is not None and str(posted.nonce) in parts:
                    found[str(posted.nonce)] = str(posted.id)
                    continue
                if posted.author.id != me:
                    continue
                nonce = wanted.get(_posted_signature(posted))
                if nonce is not None and nonce not in found:
                    found[nonce] = str(posted.id)

        await self._call(route, scan)
        return found


def _signature(part: Part) -> tuple[str | None, ...]:
    if part.embed is not None:
        return ("embed", part.embed.title, part.embed.description)
    return ("buttons", *(ACTION_PREFIX + token_of(action.command) for action in part.actions))


def _posted_signature(posted: discord.Message) -> tuple[str | None, ...]:
    if posted.embeds:
        return ("embed", posted.embeds[0].title, posted.embeds[0].description)
    custom_ids = [getattr(child, "custom_id", None) for row in posted.components
                  for child in getattr(row, "children", ())]
    return ("buttons", *custom_ids)


__all__ = ["DiscordDelivery", "call_discord", "nonce_for"]
