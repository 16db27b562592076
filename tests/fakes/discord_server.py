"""A loopback fake of Discord's REST API, gateway and interaction webhooks, for testing with real discord.py.

Point discord.py at it with `fake.patch_discord()` and run a real `discord.Client` against it: the tests then
exercise discord.py's own encoding, rate-limit handling and gateway code instead of a mock's idea of them.
The fake records every request (`fake.requests`), every message (`fake.messages_in`, `fake.dm_messages_to`)
and interaction callback (`fake.interaction_responses`), lets a test queue failures per route
(`fake.queue_failure`), enforces Discord's limits (per-route buckets with X-RateLimit-* headers, the global
50 req/s, nonce dedupe, the announcement publish limit, closed DMs) and injects interactions over the gateway.

Contract: everything runs on the test's event loop (no threads of ours); every wait is bounded by the
constructor's `timeout` (wrap a call in `asyncio.timeout` for a tighter bound). Close the discord.py client
before leaving `async with FakeDiscord()`, or it starts reconnecting.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import hashlib
import json
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import yarl
from aiohttp import BodyPartReader, web

from .discord_gateway import (
    JSON,
    FakeChannel,
    FakeGateway,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    World,
)

__all__ = [
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "InteractionCallback",
    "InteractionHandle",
    "RecordedRequest",
    "SentMessage",
    "UploadedFile",
    "default_guild",
]

_T = TypeVar("_T")

API_PREFIX = "/api/v10"
EPHEMERAL = 1 << 6
LOADING = 1 << 7
CROSSPOSTED = 1 << 0
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_ROLES = 1 << 28
_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")

# The default world: ids are realistic 19-digit snowflakes so 32-bit truncation bugs show up.
APPLICATION_ID = 1_200_000_000_000_000_001
BOT = FakeUser(APPLICATION_ID, "coalition-bot", "Coalition Bot", bot=True)
GUILD_ID = 1_200_000_000_000_000_100
COORDINATOR_ROLE = FakeRole(1_200_000_000_000_000_101, "coordinator", permissions=1 << 5, position=2)
MEMBER_ROLE = FakeRole(1_200_000_000_000_000_102, "member", position=1)
BOT_ROLE = FakeRole(1_200_000_000_000_000_103, "coalition-bot", permissions=(1 << 28) | (1 << 13), position=3)
GENERAL = FakeChannel(1_200_000_000_000_000_201, "general", FakeChannel.TEXT)
ANNOUNCEMENTS = FakeChannel(1_200_000_000_000_000_202, "announcements", FakeChannel.ANNOUNCEMENT, position=1)
OWNER = FakeUser(1_200_000_000_000_000_300, "owner")
ALICE = FakeUser(1_200_000_000_000_000_301, "alice", "Alice")
BOB = FakeUser(1_200_000_000_000_000_302, "bob", "Bob")
CAROL = FakeUser(1_200_000_000_000_000_303, "carol", "Carol")


def default_guild() -> FakeGuild:
    """A small Community guild: alice is a coordinator, bob a member, carol is not in it."""
    return FakeGuild(
        id=GUILD_ID,
        name="Coalition",
        owner_id=OWNER.id,
        roles=(COORDINATOR_ROLE, MEMBER_ROLE, BOT_ROLE),
        channels=(GENERAL, ANNOUNCEMENTS),
        members=(
            FakeMember(OWNER),
            FakeMember(ALICE, roles=(COORDINATOR_ROLE.id, MEMBER_ROLE.id)),
            FakeMember(BOB, roles=(MEMBER_ROLE.id,)),
            FakeMember(BOT, roles=(BOT_ROLE.id,)),
        ),
    )


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    content: bytes
    content_type: str | None


@dataclass(frozen=True)
class RecordedRequest:
    """One REST request. `route` is the template, e.g. "/channels/{channel_id}/messages"."""

    method: str
    path: str
    route: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    status: int
    at: float
    files: tuple[UploadedFile, ...] = ()


@dataclass
class SentMessage:
    """A message as the fake stores it; `payload()` is what Discord would return for it."""

    id: int
    channel_id: int
    guild_id: int | None
    author: JSON
    content: str
    embeds: list[JSON]
    components: list[JSON]
    flags: int
    created_at: datetime
    nonce: str | None = None
    enforce_nonce: bool = False
    allowed_mentions: JSON | None = None
    files: tuple[UploadedFile, ...] = ()
    webhook_id: int | None = None
    interaction: JSON | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    edits: list[JSON] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def crossposted(self) -> bool:
        return bool(self.flags & CROSSPOSTED)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in _walk(self.components) if "custom_id" in c]

    def payload(self) -> JSON:
        payload: JSON = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author,
            "content": self.content,
            "timestamp": self.created_at.isoformat(),
            "edited_timestamp": self.edited_at.isoformat() if self.edited_at else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [
                {
                    "id": str(self.id + index),
                    "filename": f.filename,
                    "size": len(f.content),
                    "url": f"https://cdn.discordapp.com/attachments/{self.channel_id}/{self.id}/{f.filename}",
                    "proxy_url": f"https://media.discordapp.net/attachments/{self.channel_id}/{self.id}/{f.filename}",
                    "content_type": f.content_type,
                }
                for index, f in enumerate(self.files)
            ],
            "embeds": self.embeds,
            "components": self.components,
            "reactions": [],
            "pinned": False,
            "type": 20 if self.interaction else 0,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            payload["guild_id"] = str(self.guild_id)
        if self.nonce is not None:
            payload["nonce"] = self.nonce
        if self.webhook_id is not None:
            payload["webhook_id"] = str(self.webhook_id)
            payload["application_id"] = str(self.webhook_id)
        if self.interaction is not None:
            payload["interaction_metadata"] = self.interaction
        return payload


@dataclass(frozen=True)
class InteractionCallback:
    interaction_id: int
    interaction_type: int
    type: int
    data: JSON
    at: float


class InteractionHandle:
    """An interaction the fake dispatched; await what the bot answered (bounded by the fake's timeout)."""

    def __init__(
        self,
        wait_for: Callable[[Callable[[], Any]], Awaitable[Any]],
        *,
        payload: JSON,
        channel_id: int,
        user_id: int,
        source_message_id: int | None,
    ) -> None:
        self._wait_for = wait_for
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.channel_id = channel_id
        self.user_id = user_id
        self.source_message_id = source_message_id
        self.created_at = time.monotonic()
        self.callback_body: JSON | None = None
        self.original: SentMessage | None = None
        self.followups: list[SentMessage] = []

    @property
    def response_type(self) -> int | None:
        return None if self.callback_body is None else int(self.callback_body["type"])

    @property
    def response_data(self) -> JSON:
        return {} if self.callback_body is None else dict(self.callback_body.get("data") or {})

    async def callback(self) -> JSON:
        """The callback body the bot posted: {"type": ..., "data": {...}}."""
        body: JSON = await self._wait_for(lambda: self.callback_body)
        return body

    async def followup(self, index: int = 0) -> SentMessage:
        """The `index`-th follow-up message (after a deferral, the first one fills in the deferred reply)."""
        await self._wait_for(lambda: len(self.followups) > index)
        return self.followups[index]

    async def original_response(self, *, edited: bool = False) -> SentMessage:
        """The original response message; with `edited`, once it has been edited (e.g. after a defer)."""
        def ready() -> SentMessage | None:
            if self.original is None or (edited and self.original.edited_at is None):
                return None
            return self.original

        message: SentMessage = await self._wait_for(ready)
        return message


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: JSON
    headers: dict[str, str]
    times: int


@dataclass
class _Bucket:
    remaining: int
    reset_at: float


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(data: object, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """Content-Type exactly application/json: discord.py only parses JSON without a charset suffix."""
    return web.Response(
        status=status, body=json.dumps(data).encode(), content_type="application/json", headers=headers
    )


def _walk(components: Sequence[JSON]) -> Iterator[JSON]:
    for component in components:
        yield component
        yield from _walk(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from _walk([component["component"]])
        if isinstance(component.get("accessory"), dict):
            yield from _walk([component["accessory"]])


def _numbered(components: Sequence[JSON]) -> list[JSON]:
    """A copy with Discord's numeric component ids filled in where the sender left them out."""
    copied: list[JSON] = copy.deepcopy(list(components))
    for number, component in enumerate(_walk(copied), start=1):
        component.setdefault("id", number)
    return copied


def _template_regex(route: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", route)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


class FakeDiscord:
    """Discord on 127.0.0.1 with a random port. Use as `async with FakeDiscord() as fake`."""

    def __init__(
        self,
        *,
        application_id: int = APPLICATION_ID,
        bot: FakeUser = BOT,
        guild: FakeGuild | None = None,
        users: Sequence[FakeUser] = (CAROL,),
        token: str = "fake-bot-token",
        closed_dms: Sequence[int] = (),
        publish_limit: int = 10,
        publish_window: float = 3600.0,
        nonce_window: float = 300.0,
        bucket_limit: int = 50,
        bucket_window: float = 1.0,
        route_limits: Mapping[str, tuple[int, float]] | None = None,
        global_limit: int | None = 50,
        zlib_stream: bool = True,
        interaction_ack_deadline: float = 3.0,
        interaction_token_ttl: float = 900.0,
        timeout: float = 5.0,
    ) -> None:
        self.world = World(application_id=application_id, bot=bot, guild=guild or default_guild(), users=users)
        self.token = token
        self.timeout = timeout
        self.closed_dms: set[int] = set(closed_dms)
        self.publish_limit = publish_limit
        self.publish_window = publish_window
        self.nonce_window = nonce_window
        self.bucket_limit = bucket_limit
        self.bucket_window = bucket_window
        self.route_limits: dict[str, tuple[int, float]] = dict(route_limits or {})
        self.global_limit = global_limit
        self.interaction_ack_deadline = interaction_ack_deadline
        self.interaction_token_ttl = interaction_token_ttl
        self.requests: list[RecordedRequest] = []
        self.messages: dict[int, SentMessage] = {}
        self.interactions: dict[int, InteractionHandle] = {}
        self.interaction_responses: list[InteractionCallback] = []
        self.commands: dict[int | None, list[JSON]] = {}
        self.rate_limited_count = 0
        self.invalid_request_count = 0
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._publishes: collections.defaultdict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._global_window: collections.deque[float] = collections.deque()
        self._failures: list[_Failure] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.gateway = FakeGateway(
            self.world,
            token=token,
            gateway_url=lambda: self.gateway_url,
            notify=self._notify,
            zlib_stream=zlib_stream,
        )

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self.gateway.handle)
        for method, route, handler in self._routes():
            app.router.add_route(method, API_PREFIX + route, handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py's REST base and default gateway at this fake; restore them afterwards."""
        import discord.gateway
        import discord.http

        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # -- queries and waits -------------------------------------------------------------------------

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def guild_id(self) -> int:
        return self.world.guild.id

    def channel_named(self, name: str) -> FakeChannel:
        return next(c for c in self.world.channels.values() if c.name == name)

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        """Requests matching a method and a route template or literal path ("/channels/{id}/messages")."""
        pattern = _template_regex(route)
        return [r for r in self.requests if r.method == method and pattern.match(r.path)]

    def messages_in(self, channel_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Messages in a channel, oldest first (ephemeral interaction replies included, flagged)."""
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and (include_deleted or not m.deleted)
        ]

    def dm_channel_id(self, user_id: int) -> int | None:
        return self.world.dm_channels.get(user_id)

    def dm_messages_to(self, user_id: int) -> list[SentMessage]:
        channel_id = self.world.dm_channels.get(user_id)
        return [] if channel_id is None else self.messages_in(channel_id)

    def synced_commands(self, guild_id: int | None = None) -> list[JSON]:
        """Commands last PUT for a guild (or global commands with None), as returned with their ids."""
        return list(self.commands.get(guild_id, []))

    def queue_failure(
        self,
        method: str,
        route: str,
        *,
        status: int = 429,
        retry_after: float = 0.05,
        is_global: bool = False,
        code: int = 0,
        message: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with an error instead of handling them.

        429s carry {message, retry_after, global} and `Via: 1.1 google` (without Via discord.py treats a
        429 as a Cloudflare ban). Other statuses carry {message, code}.
        """
        headers: dict[str, str] = {}
        if status == 429:
            body: JSON = {"message": message or "You are being rate limited.", "retry_after": retry_after,
                          "global": is_global}
            headers = {"Via": "1.1 google", "Retry-After": str(math.ceil(retry_after)),
                       "X-RateLimit-Scope": "global" if is_global else "user"}
            if is_global:
                headers["X-RateLimit-Global"] = "true"
        else:
            body = {"message": message or f"{status}: fake failure", "code": code}
        self._failures.append(_Failure(method.upper(), _template_regex(route), status, body, headers, times))

    async def wait_for(self, predicate: Callable[[], _T], *, what: str = "condition") -> _T:
        """Wait until `predicate()` is truthy (re-checked after every request and gateway event)."""
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    changed = self._changed
                    result = predicate()
                    if result:
                        return result
                    await changed.wait()
        except TimeoutError:
            raise TimeoutError(f"FakeDiscord: {what} not met within {self.timeout}s") from None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- gateway -----------------------------------------------------------------------------------

    async def wait_until_connected(self) -> None:
        """Until a client has IDENTIFYed and received READY and GUILD_CREATE."""
        await self.wait_for(lambda: self.gateway.ready_sessions, what="a gateway session")

    async def dispatch(self, event: str, data: JSON) -> None:
        if not await self.gateway.dispatch(event, data):
            raise RuntimeError("no gateway session: start the discord.py client first")

    async def request_reconnect(self) -> None:
        await self.gateway.request_reconnect()

    # -- interactions ------------------------------------------------------------------------------

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, object] | None = None,
        *,
        user_id: int,
        guild: bool = True,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Dispatch a slash command; `name` is the full path, e.g. "announce send" or "admin topics add"."""
        top, *path = name.split()
        command = self._find_command(top, guild=guild, user_id=user_id)
        data = self.world.command_data(command, path, options or {})
        channel = self._default_channel(guild, channel_id, user_id)
        return await self._send_interaction(2, data, user_id, channel, locale=locale)

    async def send_autocomplete(
        self,
        name: str,
        options: Mapping[str, object],
        *,
        focused: str,
        user_id: int,
        guild: bool = True,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Dispatch an autocomplete (type 4) for option `focused`, whose partial text is options[focused]."""
        top, *path = name.split()
        command = self._find_command(top, guild=guild, user_id=user_id)
        data = self.world.command_data(command, path, options, focused=focused)
        channel = self._default_channel(guild, channel_id, user_id)
        return await self._send_interaction(4, data, user_id, channel, locale=locale)

    async def send_component(
        self,
        custom_id: str,
        *,
        user_id: int,
        message: SentMessage | int,
        component_type: int = 2,
        values: Sequence[str] | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Click a button (or pick select `values`) on a message the bot sent; guild or DM follows the message."""
        source = self.messages[message if isinstance(message, int) else message.id]
        if custom_id not in source.custom_ids():
            raise ValueError(f"message {source.id} has no component {custom_id!r}: {source.custom_ids()}")
        recipient = self.world.dm_recipient(source.channel_id)
        if recipient is not None and recipient != user_id:
            raise ValueError(f"user {user_id} cannot see the DM with {recipient}")
        data: JSON = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        return await self._send_interaction(3, data, user_id, source.channel_id, source=source, locale=locale)

    async def send_modal_submit(
        self, custom_id: str, values: Mapping[str, str | Sequence[str]], *, locale: str = "en-US"
    ) -> InteractionHandle:
        """Submit the modal the bot last showed with `custom_id`, as the user it was shown to."""
        shown = next(
            (h for h in reversed(self.interactions.values())
             if h.response_type == 9 and h.response_data.get("custom_id") == custom_id),
            None,
        )
        if shown is None:
            raise ValueError(f"no modal with custom_id {custom_id!r} was shown")
        components = [self._submitted(c, values) for c in shown.response_data.get("components", [])]
        data: JSON = {"custom_id": custom_id, "components": [c for c in components if c is not None]}
        source = self.messages.get(shown.source_message_id) if shown.source_message_id else None
        return await self._send_interaction(
            5, data, shown.user_id, shown.channel_id, source=source, locale=locale
        )

    def _submitted(self, component: JSON, values: Mapping[str, str | Sequence[str]]) -> JSON | None:
        kind = component["type"]
        if kind == 1:
            children = [self._submitted(c, values) for c in component.get("components", [])]
            return {"type": 1, "id": component.get("id"), "components": [c for c in children if c]}
        if kind == 18:
            inner = self._submitted(component["component"], values)
            return {"type": 18, "id": component.get("id"), "component": inner} if inner else None
        custom_id = component.get("custom_id")
        if custom_id is None:
            return None
        value = values.get(custom_id)
        if value is None and component.get("required", True) and kind == 4:
            raise ValueError(f"required modal field {custom_id!r} has no value")
        submitted: JSON = {"type": kind, "id": component.get("id"), "custom_id": custom_id}
        if kind == 4:
            submitted["value"] = value if isinstance(value, str) else ""
        else:
            submitted["values"] = [value] if isinstance(value, str) else list(value or [])
        return submitted

    def _find_command(self, name: str, *, guild: bool, user_id: int) -> JSON:
        scopes: list[int | None] = [self.guild_id, None] if guild else [None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    self._check_command_visible(command, guild=guild, user_id=user_id)
                    return command
        raise ValueError(f"slash command {name!r} was not synced for {'the guild' if guild else 'DMs'}")

    def _check_command_visible(self, command: JSON, *, guild: bool, user_id: int) -> None:
        contexts = command.get("contexts")
        if not guild and (command.get("dm_permission") is False or (contexts and 1 not in contexts)):
            raise ValueError(f"command {command['name']!r} is not available in DMs")
        required = command.get("default_member_permissions")
        if guild and required is not None:
            perms = self.world.permissions_in(user_id, None)
            if perms & int(required) != int(required):
                raise ValueError(f"user {user_id} cannot see {command['name']!r} (needs {required})")

    def _default_channel(self, guild: bool, channel_id: int | None, user_id: int) -> int:
        if channel_id is not None:
            return channel_id
        if not guild:
            return self.world.dm_channel_id(user_id)
        return next(c.id for c in self.world.channels.values() if c.type == FakeChannel.TEXT)

    async def _send_interaction(
        self,
        type: int,
        data: JSON,
        user_id: int,
        channel_id: int,
        *,
        source: SentMessage | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        payload = self.world.interaction_payload(
            interaction_id=self.world.snowflake(),
            token="aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            type=type,
            data=data,
            user_id=user_id,
            channel_id=channel_id,
            locale=locale,
            message=source.payload() if source else None,
        )
        handle = InteractionHandle(
            self.wait_for, payload=payload, channel_id=channel_id, user_id=user_id,
            source_message_id=source.id if source else None,
        )
        self.interactions[handle.id] = handle
        await self.dispatch("INTERACTION_CREATE", payload)
        return handle

    # -- HTTP plumbing -----------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]]:
        app_cmds = "/applications/{application_id}/commands"
        guild_cmds = "/applications/{application_id}/guilds/{guild_id}/commands"
        message = "/channels/{channel_id}/messages/{message_id}"
        webhook_message = "/webhooks/{application_id}/{token}/messages/{message_id}"
        return [
            ("GET", "/users/@me", self._get_me),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/users/{user_id}", self._get_user),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", app_cmds, self._get_commands),
            ("PUT", app_cmds, self._put_commands),
            ("GET", guild_cmds, self._get_commands),
            ("PUT", guild_cmds, self._put_commands),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._list_messages),
            ("POST", "/channels/{channel_id}/messages", self._create_message),
            ("GET", message, self._get_message),
            ("PATCH", message, self._edit_message),
            ("DELETE", message, self._delete_message),
            ("POST", message + "/crosspost", self._crosspost),
            ("PUT", "/channels/{channel_id}/permissions/{overwrite_id}", self._put_overwrite),
            ("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", self._delete_overwrite),
            ("GET", "/guilds/{guild_id}", self._get_guild),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self._get_roles),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback),
            ("POST", "/webhooks/{application_id}/{token}", self._create_followup),
            ("GET", "/webhooks/{application_id}/{token}", self._get_webhook),
            ("GET", webhook_message, self._get_webhook_message),
            ("PATCH", webhook_message, self._edit_webhook_message),
            ("DELETE", webhook_message, self._delete_webhook_message),
        ]

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        path = request.path[len(API_PREFIX):]
        resource = request.match_info.route.resource
        route = resource.canonical[len(API_PREFIX):] if resource is not None else path
        body, files = await self._read_body(request)
        request["body"], request["files"] = body, files
        exempt = route.startswith(("/interactions/", "/webhooks/"))
        bucket_key = (f"{request.method} {route}", self._major(request, route))
        limit, window = self.route_limits.get(bucket_key[0], (self.bucket_limit, self.bucket_window))
        bucket, now = self._bucket(bucket_key, limit, window), time.monotonic()
        response: web.StreamResponse
        try:
            early = self._take_failure(request.method, path)
            early = early if early is not None else self._check_auth(request, exempt)
            early = early if early is not None else self._check_limits(bucket, now, exempt)
            response = early if early is not None else await handler(request)
        except _ApiError as error:
            response = _json({"message": error.message, "code": error.code}, error.status)
        except web.HTTPException as error:
            response = _json({"message": f"{error.status}: {error.reason}", "code": 0}, error.status)
        reset_after = max(bucket.reset_at - now, 0.0)
        response.headers.update({
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(bucket.remaining, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(bucket_key[0].encode()).hexdigest()[:32],
        })
        if response.status == 429:
            self.rate_limited_count += 1
        if response.status in (401, 403) or (
            response.status == 429 and response.headers.get("X-RateLimit-Scope") != "shared"
        ):
            self.invalid_request_count += 1
        self.requests.append(RecordedRequest(
            method=request.method, path=path, route=route, query=dict(request.query), json=body,
            headers=dict(request.headers), status=response.status, at=now, files=tuple(files),
        ))
        self._notify()
        return response

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if not request.body_exists:
            return None, []
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files: list[UploadedFile] = []
            async for part in await request.multipart():
                if not isinstance(part, BodyPartReader):
                    continue
                content = bytes(await part.read())
                if part.name == "payload_json":
                    payload = json.loads(content)
                elif part.filename is not None:
                    files.append(UploadedFile(str(part.name), part.filename, content,
                                              part.headers.get("Content-Type")))
            return payload, files
        raw = await request.read()
        if request.content_type == "application/json":
            return (json.loads(raw) if raw else None), []
        return raw.decode() or None, []

    @staticmethod
    def _major(request: web.Request, route: str) -> str:
        info = request.match_info
        for key in ("channel_id", "guild_id", "interaction_id"):
            if "{" + key + "}" in route:
                return info[key]
        return info.get("token", "")

    def _bucket(self, key: tuple[str, str], limit: int, window: float) -> _Bucket:
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None or now >= bucket.reset_at:
            bucket = self._buckets[key] = _Bucket(remaining=limit, reset_at=now + window)
        return bucket

    def _take_failure(self, method: str, path: str) -> web.Response | None:
        for failure in self._failures:
            if failure.method == method and failure.pattern.match(path):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return _json(failure.body, failure.status, failure.headers)
        return None

    def _check_auth(self, request: web.Request, exempt: bool) -> web.Response | None:
        if exempt or request.headers.get("Authorization") == f"Bot {self.token}":
            return None
        return _json({"message": "401: Unauthorized", "code": 0}, 401)

    def _check_limits(self, bucket: _Bucket, now: float, exempt: bool) -> web.Response | None:
        if not exempt and self.global_limit is not None:
            while self._global_window and now - self._global_window[0] >= 1.0:
                self._global_window.popleft()
            if len(self._global_window) >= self.global_limit:
                retry = round(1.0 - (now - self._global_window[0]), 3)
                return self._rate_limited(retry, scope="global")
            self._global_window.append(now)
        if bucket.remaining <= 0:
            return self._rate_limited(round(bucket.reset_at - now, 3), scope="user")
        bucket.remaining -= 1
        return None

    @staticmethod
    def _rate_limited(retry_after: float, *, scope: str) -> web.Response:
        headers = {"Via": "1.1 google", "Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Scope": scope}
        if scope == "global":
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": scope == "global"}
        return _json(body, 429, headers)

    # -- REST: users, application, commands --------------------------------------------------------

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json(self.world.bot.payload() | {"verified": True, "mfa_enabled": False, "locale": "en-US"})

    async def _get_user(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user_id"])
        if user_id not in self.world.users:
            raise _ApiError(404, 10013, "Unknown User")
        return _json(self.world.user_payload(user_id))

    async def _get_application(self, request: web.Request) -> web.Response:
        world = self.world
        return _json({
            "id": str(world.application_id), "name": world.bot.username, "description": "", "icon": None,
            "bot_public": False, "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
            "owner": world.user_payload(world.guild.owner_id), "team": None, "summary": "",
            "bot": world.bot.payload(), "redirect_uris": [], "interactions_endpoint_url": None,
            "approximate_guild_count": 1, "tags": [],
        })

    def _command_scope(self, request: web.Request) -> int | None:
        if int(request.match_info["application_id"]) != self.application_id:
            raise _ApiError(403, 50001, "Missing Access")
        guild_id = request.match_info.get("guild_id")
        if guild_id is not None and int(guild_id) != self.guild_id:
            raise _ApiError(403, 50001, "Missing Access")
        return int(guild_id) if guild_id is not None else None

    async def _get_commands(self, request: web.Request) -> web.Response:
        return _json(self.commands.get(self._command_scope(request), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        body = request["body"]
        if not isinstance(body, list):
            raise _ApiError(400, 50035, "Invalid Form Body")
        seen: set[tuple[int, str]] = set()
        saved: list[JSON] = []
        for command in body:
            kind = int(command.get("type", 1))
            _validate_command(command, kind)
            if (kind, command["name"]) in seen:
                raise _ApiError(400, 50035, f"Invalid Form Body: duplicate command {command['name']}")
            seen.add((kind, command["name"]))
            key = (scope, kind, command["name"])
            command_id = self._command_ids.setdefault(key, self.world.snowflake())
            saved.append(command | {
                "id": str(command_id), "application_id": str(self.application_id), "type": kind,
                "version": str(self.world.snowflake()), "nsfw": bool(command.get("nsfw", False)),
                "default_member_permissions": command.get("default_member_permissions"),
            } | ({"guild_id": str(scope)} if scope is not None else {}))
        self.commands[scope] = saved
        return _json(saved)

    # -- REST: channels and messages ---------------------------------------------------------------

    def _channel(self, request: web.Request) -> int:
        channel_id = int(request.match_info["channel_id"])
        if not self.world.is_known_channel(channel_id):
            raise _ApiError(404, 10003, "Unknown Channel")
        return channel_id

    def _message(self, channel_id: int, message_id: int) -> SentMessage:
        message = self.messages.get(message_id)
        if message is None or message.deleted or message.channel_id != channel_id:
            raise _ApiError(404, 10008, "Unknown Message")
        return message

    def _require(self, channel_id: int, permissions: int) -> None:
        if channel_id in self.world.channels:
            if self.world.permissions_in(self.world.bot.id, channel_id) & permissions != permissions:
                raise _ApiError(403, 50013, "Missing Permissions")

    async def _create_dm(self, request: web.Request) -> web.Response:
        recipient = int((request["body"] or {}).get("recipient_id", 0))
        if recipient not in self.world.users or recipient == self.world.bot.id:
            raise _ApiError(400, 50033, "Invalid Recipient(s)")
        return _json(self.world.channel_payload(self.world.dm_channel_id(recipient)))

    async def _get_channel(self, request: web.Request) -> web.Response:
        return _json(self.world.channel_payload(self._channel(request)))

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        limit = min(int(request.query.get("limit", 50)), 100)
        before = int(request.query.get("before", 1 << 64))
        after = int(request.query.get("after", 0))
        visible = [m for m in self.messages_in(channel_id) if not m.ephemeral and after < m.id < before]
        return _json([m.payload() for m in reversed(visible)][:limit])

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        if self.world.dm_recipient(channel_id) in self.closed_dms:
            raise _ApiError(403, 50007, "Cannot send messages to this user")
        self._require(channel_id, VIEW_CHANNEL | SEND_MESSAGES)
        body: JSON = request["body"] or {}
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > 25:
            raise _ApiError(400, 50035, "Invalid Form Body: nonce longer than 25")
        key = (channel_id, str(nonce))
        now = time.monotonic()
        if nonce is not None and body.get("enforce_nonce") and key in self._nonces:
            message_id, at = self._nonces[key]
            if now - at < self.nonce_window:
                return _json(self.messages[message_id].payload())
        message = self._new_message(channel_id, body, request["files"])
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[key] = (message.id, now)
        return _json(message.payload())

    def _new_message(
        self,
        channel_id: int,
        body: JSON,
        files: Sequence[UploadedFile],
        *,
        interaction: InteractionHandle | None = None,
        extra_flags: int = 0,
    ) -> SentMessage:
        _validate_message(body, files, allow_empty=bool(extra_flags & LOADING))
        message = SentMessage(
            id=self.world.snowflake(),
            channel_id=channel_id,
            guild_id=self.guild_id if channel_id in self.world.channels else None,
            author=self.world.bot.payload(),
            content=str(body.get("content") or ""),
            embeds=list(body.get("embeds") or []),
            components=_numbered(body.get("components") or []),
            flags=int(body.get("flags") or 0) | extra_flags,
            created_at=datetime.now(UTC),
            nonce=None if body.get("nonce") is None else str(body["nonce"]),
            enforce_nonce=bool(body.get("enforce_nonce")),
            allowed_mentions=body.get("allowed_mentions"),
            files=tuple(files),
            webhook_id=self.application_id if interaction else None,
            interaction=self._interaction_metadata(interaction) if interaction else None,
        )
        self.messages[message.id] = message
        return message

    def _interaction_metadata(self, handle: InteractionHandle) -> JSON:
        metadata: JSON = {
            "id": str(handle.id), "type": handle.type, "user": self.world.user_payload(handle.user_id),
            "authorizing_integration_owners": handle.payload["authorizing_integration_owners"],
        }
        if handle.source_message_id is not None:
            metadata["interacted_message_id"] = str(handle.source_message_id)
        return metadata

    @staticmethod
    def _apply_edit(message: SentMessage, body: JSON, files: Sequence[UploadedFile]) -> None:
        if "content" in body:
            message.content = str(body["content"] or "")
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        if "components" in body:
            message.components = _numbered(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            message.flags = (message.flags & ~4) | (int(body["flags"]) & 4)
        if files or "attachments" in body:
            kept = {str(a.get("id")) for a in body.get("attachments") or []}
            old = [f for i, f in enumerate(message.files) if str(message.id + i) in kept]
            message.files = tuple(old) + tuple(files)
        message.flags &= ~LOADING
        message.edited_at = datetime.now(UTC)
        message.edits.append(body)

    async def _get_message(self, request: web.Request) -> web.Response:
        message = self._message(self._channel(request), int(request.match_info["message_id"]))
        return _json(message.payload())

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self._message(self._channel(request), int(request.match_info["message_id"]))
        if int(message.author["id"]) != self.world.bot.id:
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(message, request["body"] or {}, request["files"])
        return _json(message.payload())

    async def _delete_message(self, request: web.Request) -> web.Response:
        self._message(self._channel(request), int(request.match_info["message_id"])).deleted = True
        return web.Response(status=204)

    async def _crosspost(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        message = self._message(channel_id, int(request.match_info["message_id"]))
        channel = self.world.channels.get(channel_id)
        if channel is None or channel.type != FakeChannel.ANNOUNCEMENT:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        if message.crossposted:
            raise _ApiError(400, 40033, "This message has already been crossposted.")
        now = time.monotonic()
        published = self._publishes[channel_id]
        while published and now - published[0] >= self.publish_window:
            published.popleft()
        if len(published) >= self.publish_limit:
            return self._rate_limited(round(self.publish_window - (now - published[0]), 3), scope="shared")
        published.append(now)
        message.flags |= CROSSPOSTED
        return _json(message.payload())

    async def _put_overwrite(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        self._require(channel_id, MANAGE_ROLES)
        body: JSON = request["body"] or {}
        overwrite_id = request.match_info["overwrite_id"]
        self.world.overwrites.setdefault(channel_id, {})[int(overwrite_id)] = {
            "id": overwrite_id, "type": int(body.get("type", 0)),
            "allow": str(body.get("allow") or 0), "deny": str(body.get("deny") or 0),
        }
        await self.gateway.dispatch("CHANNEL_UPDATE", self.world.channel_payload(channel_id))
        return web.Response(status=204)

    async def _delete_overwrite(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        self._require(channel_id, MANAGE_ROLES)
        self.world.overwrites.get(channel_id, {}).pop(int(request.match_info["overwrite_id"]), None)
        await self.gateway.dispatch("CHANNEL_UPDATE", self.world.channel_payload(channel_id))
        return web.Response(status=204)

    # -- REST: guild -------------------------------------------------------------------------------

    def _check_guild(self, request: web.Request) -> None:
        if int(request.match_info["guild_id"]) != self.guild_id:
            raise _ApiError(404, 10004, "Unknown Guild")

    async def _get_guild(self, request: web.Request) -> web.Response:
        self._check_guild(request)
        return _json(self.world.guild_payload() | {"approximate_member_count": len(self.world.members)})

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        self._check_guild(request)
        return _json([self.world.channel_payload(cid) for cid in self.world.channels])

    async def _get_roles(self, request: web.Request) -> web.Response:
        self._check_guild(request)
        return _json([role.payload() for role in self.world.roles.values()])

    async def _get_member(self, request: web.Request) -> web.Response:
        self._check_guild(request)
        user_id = int(request.match_info["user_id"])
        if user_id not in self.world.members:
            raise _ApiError(404, 10007, "Unknown Member")
        return _json(self.world.member_payload(user_id))

    # -- REST: interaction callbacks and follow-ups ------------------------------------------------

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        handle = self.interactions.get(int(request.match_info["interaction_id"]))
        if handle is None or handle.token != request.match_info["token"]:
            raise _ApiError(404, 10062, "Unknown interaction")
        if handle.callback_body is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - handle.created_at > self.interaction_ack_deadline:
            raise _ApiError(404, 10062, "Unknown interaction")
        body: JSON = request["body"] or {}
        kind = int(body.get("type", 0))
        if kind not in _CALLBACK_TYPES[handle.type]:
            raise _ApiError(400, 50035, f"Invalid Form Body: callback type {kind} for interaction {handle.type}")
        data: JSON = body.get("data") or {}
        source = self.messages.get(handle.source_message_id) if handle.source_message_id else None
        message: SentMessage | None = None
        if kind in (4, 5):
            loading = LOADING if kind == 5 else 0
            message = self._new_message(handle.channel_id, data, request["files"], interaction=handle,
                                        extra_flags=loading)
            handle.original = message
        elif kind == 7 and source is not None:
            self._apply_edit(source, data, request["files"])
            message = handle.original = source
        elif kind == 6 and source is not None:
            message = handle.original = source
        handle.callback_body = body
        self.interaction_responses.append(
            InteractionCallback(handle.id, handle.type, kind, data, time.monotonic())
        )
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        interaction: JSON = {
            "id": str(handle.id), "type": handle.type, "activity_instance_id": None,
            "response_message_id": str(message.id) if message else None,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message and message.ephemeral),
        }
        resource: JSON = {"type": kind}
        if message is not None:
            resource["message"] = message.payload()
        return _json({"interaction": interaction, "resource": resource})

    def _webhook_interaction(self, request: web.Request) -> InteractionHandle:
        if int(request.match_info["application_id"]) != self.application_id:
            raise _ApiError(404, 10015, "Unknown Webhook")
        token = request.match_info["token"]
        handle = next((h for h in self.interactions.values() if h.token == token), None)
        if handle is None or time.monotonic() - handle.created_at > self.interaction_token_ttl:
            raise _ApiError(401, 50027, "Invalid Webhook Token")
        if handle.callback_body is None:
            raise _ApiError(404, 10015, "Unknown Webhook")
        return handle

    def _webhook_message(self, request: web.Request) -> tuple[InteractionHandle, SentMessage]:
        handle = self._webhook_interaction(request)
        wanted = request.match_info["message_id"]
        if wanted == "@original":
            message = handle.original
        else:
            message = next((m for m in [handle.original, *handle.followups] if m and str(m.id) == wanted), None)
        if message is None or message.deleted:
            raise _ApiError(404, 10008, "Unknown Message")
        return handle, message

    async def _create_followup(self, request: web.Request) -> web.Response:
        handle = self._webhook_interaction(request)
        body: JSON = request["body"] or {}
        original = handle.original
        if original is not None and original.flags & LOADING and original.edited_at is None:
            self._apply_edit(original, body, request["files"])
            message = original
        else:
            message = self._new_message(handle.channel_id, body, request["files"], interaction=handle)
        handle.followups.append(message)
        if request.query.get("wait") not in ("1", "true", "True"):
            return web.Response(status=204)
        return _json(message.payload())

    async def _get_webhook(self, request: web.Request) -> web.Response:
        handle = self._webhook_interaction(request)
        return _json({
            "id": str(self.application_id), "type": 3, "name": self.world.bot.username, "avatar": None,
            "channel_id": str(handle.channel_id), "application_id": str(self.application_id),
            "token": handle.token,
        })

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        return _json(self._webhook_message(request)[1].payload())

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        _, message = self._webhook_message(request)
        self._apply_edit(message, request["body"] or {}, request["files"])
        return _json(message.payload())

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        self._webhook_message(request)[1].deleted = True
        return web.Response(status=204)


# Callback types each interaction type accepts: 1 PONG, 4 message, 5 deferred message, 6 deferred update,
# 7 update message, 8 autocomplete result, 9 modal.
_CALLBACK_TYPES: dict[int, set[int]] = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


def _validate_message(body: JSON, files: Sequence[UploadedFile], *, allow_empty: bool) -> None:
    content = str(body.get("content") or "")
    if len(content) > 2000:
        raise _ApiError(400, 50035, "Invalid Form Body: content must be 2000 or fewer in length")
    if len(body.get("embeds") or []) > 10:
        raise _ApiError(400, 50035, "Invalid Form Body: at most 10 embeds")
    has_body = content or body.get("embeds") or body.get("components") or files or body.get("poll")
    if not has_body and not allow_empty:
        raise _ApiError(400, 50006, "Cannot send an empty message")


def _validate_command(command: JSON, kind: int) -> None:
    name = str(command.get("name", ""))
    if kind == 1 and (not _NAME_RE.match(name) or name != name.lower()):
        raise _ApiError(400, 50035, f"Invalid Form Body: command name {name!r}")
    if kind == 1 and not 1 <= len(str(command.get("description", ""))) <= 100:
        raise _ApiError(400, 50035, f"Invalid Form Body: description of {name!r}")
    options = command.get("options") or []
    if len(options) > 25:
        raise _ApiError(400, 50035, f"Invalid Form Body: more than 25 options in {name!r}")
    seen_optional = False
    for option in options:
        if option.get("required") and seen_optional:
            raise _ApiError(400, 50035, f"Invalid Form Body: required option after optional in {name!r}")
        seen_optional = seen_optional or not option.get("required")
        _validate_command(option, 1)
