"""A loopback fake of Discord's REST API, gateway and interaction webhooks, for testing with real discord.py.

Point discord.py at it with `fake.patch_discord()` and run a real `discord.Client`: tests then exercise
discord.py's own encoding, rate-limit handling and gateway code instead of a mock's idea of them. The fake
records every request (`requests`), message (`messages_in`, `dm_messages_to`) and interaction callback
(`interaction_responses`); lets a test queue failures per route (`queue_failure`) or arm faults (`faults`,
see `tests/fakes/faults.py`: dropped connections, 5xx after storing, outages, 429s); enforces Discord's limits
(per-route buckets announced in X-RateLimit-* headers, the global 50 req/s, nonce dedupe, the announcement
publish limit, closed DMs, missing permissions); and injects interactions over the gateway (`send_*`).

Contract: everything runs on the test's event loop (no threads of ours); every wait is bounded by the
constructor's `timeout` (wrap a call in `asyncio.timeout` for a tighter bound). Close the discord.py client
before leaving `async with FakeDiscord()`, or it starts reconnecting.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import dataclasses
import hashlib
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import yarl
from aiohttp import BodyPartReader, web

from .discord_gateway import (
    ADMINISTRATOR,
    CROSSPOSTED,
    INTENT_GUILD_MEMBERS,
    JSON,
    FakeChannel,
    FakeGateway,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    InteractionCallback,
    InteractionHandle,
    SentMessage,
    UploadedFile,
    World,
    modal_submission,
    walk_components,
)
from .discord_limits import FormError, check_autocomplete, check_message, check_modal
from .faults import Fault, FaultKind, Faults

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
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_ROLES = 1 << 28
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
# What an admin grants by following the README's invite: Discord turns an invite's permissions into the
# bot's own managed role.
INVITED_PERMISSIONS = (VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY | MANAGE_ROLES
                       | CREATE_PUBLIC_THREADS | CREATE_PRIVATE_THREADS | SEND_MESSAGES_IN_THREADS)
_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
_TRUE = ("1", "true", "True")
# Callback types each interaction type accepts: 1 PONG, 4 message, 5 deferred message, 6 deferred update,
# 7 update message, 8 autocomplete result, 9 modal.
_CALLBACK_TYPES: dict[int, set[int]] = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}

# The default world. Ids are realistic 19-digit snowflakes so 32-bit truncation bugs show up.
APPLICATION_ID = 1_200_000_000_000_000_001
BOT = FakeUser(APPLICATION_ID, "coalition-bot", "Coalition Bot", bot=True)
GUILD_ID = 1_200_000_000_000_000_100
COORDINATOR_ROLE = FakeRole(1_200_000_000_000_000_101, "coordinator", permissions=1 << 5, position=2)
MEMBER_ROLE = FakeRole(1_200_000_000_000_000_102, "member", position=1)
BOT_ROLE = FakeRole(1_200_000_000_000_000_103, "coalition-bot", permissions=INVITED_PERMISSIONS, position=3,
                    bot_id=APPLICATION_ID)
GENERAL = FakeChannel(1_200_000_000_000_000_201, "general", FakeChannel.TEXT)
ANNOUNCEMENTS = FakeChannel(1_200_000_000_000_000_202, "announcements", FakeChannel.ANNOUNCEMENT, position=1)
OWNER = FakeUser(1_200_000_000_000_000_300, "owner")
ALICE = FakeUser(1_200_000_000_000_000_301, "alice", "Alice")
BOB = FakeUser(1_200_000_000_000_000_302, "bob", "Bob")
CAROL = FakeUser(1_200_000_000_000_000_303, "carol", "Carol")


def default_guild(*, bot_permissions: int = INVITED_PERMISSIONS, everyone_permissions: int | None = None) -> FakeGuild:
    """A small Community guild: alice is a coordinator, bob a member; carol is a user outside it.

    The bot holds `bot_permissions` through its managed role (default: what the documented invite grants)
    and whatever @everyone holds (default: Discord's defaults for a new server).
    """
    everyone = () if everyone_permissions is None else (FakeRole(GUILD_ID, "@everyone", everyone_permissions),)
    return FakeGuild(
        id=GUILD_ID,
        name="Coalition",
        owner_id=OWNER.id,
        roles=(*everyone, COORDINATOR_ROLE, MEMBER_ROLE, dataclasses.replace(BOT_ROLE, permissions=bot_permissions)),
        channels=(GENERAL, ANNOUNCEMENTS),
        members=(
            FakeMember(OWNER),
            FakeMember(ALICE, roles=(COORDINATOR_ROLE.id, MEMBER_ROLE.id)),
            FakeMember(BOB, roles=(MEMBER_ROLE.id,)),
            FakeMember(BOT, roles=(BOT_ROLE.id,)),
        ),
    )


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


@dataclass(frozen=True)
class _Call:
    """A REST call as handlers see it: path parameters, query and the JSON (or payload_json) body."""

    params: dict[str, str]
    query: Mapping[str, str]
    body: Any
    files: tuple[UploadedFile, ...]

    def json(self) -> JSON:
        return self.body if isinstance(self.body, dict) else {}


_Handler = Callable[[_Call], Awaitable[web.Response]]


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
    return web.Response(status=status, body=json.dumps(data).encode(), content_type="application/json",
                        headers=headers)


def _rate_limit_parts(retry_after: float, scope: str) -> tuple[JSON, dict[str, str]]:
    """A 429 as Discord sends it. `Via` matters: without it discord.py takes the 429 for a Cloudflare ban."""
    headers = {"Via": "1.1 google", "Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Scope": scope}
    if scope == "global":
        headers["X-RateLimit-Global"] = "true"
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": scope == "global"}
    return body, headers


def _numbered(components: Sequence[JSON]) -> list[JSON]:
    """A copy with Discord's numeric component ids filled in where the sender left them out."""
    copied: list[JSON] = copy.deepcopy(list(components))
    for number, component in enumerate(walk_components(copied), start=1):
        component.setdefault("id", number)
    return copied


def _template_regex(route: str, *, named: bool = False) -> re.Pattern[str]:
    """"/channels/{channel_id}/messages" -> a regex for such paths; literal ids match themselves."""
    parts = re.split(r"(\{[^}]+\})", route)
    return re.compile("".join(
        (f"(?P<{p[1:-1]}>[^/]+)" if named else "[^/]+") if p.startswith("{") else re.escape(p) for p in parts
    ) + "$")


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
        """`route_limits` maps "POST /channels/{channel_id}/messages" to (limit, window seconds) for that
        route's bucket (per major parameter); other routes get (bucket_limit, bucket_window)."""
        self.world = World(application_id=application_id, bot=bot, guild=guild or default_guild(), users=users)
        self.token = token
        self.timeout = timeout
        self.closed_dms: set[int] = set(closed_dms)
        self.publish_limit, self.publish_window = publish_limit, publish_window
        self.nonce_window = nonce_window
        self.bucket_limit, self.bucket_window = bucket_limit, bucket_window
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
        self.rate_limited_by: collections.Counter[str] = collections.Counter()
        """429s by ``"<scope> <METHOD> <route>"`` (scope: global, user, shared), to tell the limits apart."""
        self.invalid_request_count = 0
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._publishes: collections.defaultdict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._global_window: collections.deque[float] = collections.deque()
        self._failures: list[_Failure] = []
        self.faults = Faults()
        """Failures armed on "METHOD /route/{template}" (`tests/fakes/faults.py`); none by default."""
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._table = [(m, route, _template_regex(route, named=True), h) for m, route, h in self._routes()]
        self.port = 0
        self.gateway = FakeGateway(
            self.world, token=token, gateway_url=lambda: self.gateway_url, notify=self._notify,
            zlib_stream=zlib_stream,
        )

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_api)
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

    # -- what happened -----------------------------------------------------------------------------

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def guild_id(self) -> int:
        return self.world.guild.id

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        """Requests matching a method and a route template or literal path ("/channels/{id}/messages")."""
        pattern = _template_regex(route)
        return [r for r in self.requests if r.method == method and pattern.match(r.path)]

    def messages_in(self, channel_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Messages in a channel, oldest first; ephemeral interaction replies included (`.ephemeral`)."""
        return [m for m in self.messages.values()
                if m.channel_id == channel_id and (include_deleted or not m.deleted)]

    def dm_channel_id(self, user_id: int) -> int | None:
        return self.world.dm_channels.get(user_id)

    def dm_messages_to(self, user_id: int) -> list[SentMessage]:
        channel_id = self.world.dm_channels.get(user_id)
        return [] if channel_id is None else self.messages_in(channel_id)

    def synced_commands(self, guild_id: int | None = None) -> list[JSON]:
        """Commands last PUT for a guild (None: global), as returned, ids included."""
        return list(self.commands.get(guild_id, []))

    async def wait_for(self, predicate: Callable[[], _T], *, what: str = "condition") -> _T:
        """Wait until `predicate()` is truthy; it is re-checked after every request and gateway event."""
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

    # -- steering ----------------------------------------------------------------------------------

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

        429s carry {message, retry_after, global} and `Via: 1.1 google` (without Via discord.py takes a
        429 for a Cloudflare ban); other statuses carry {message, code}.
        """
        if status == 429:
            body, headers = _rate_limit_parts(retry_after, "global" if is_global else "user")
        else:
            body, headers = {"message": message or f"{status}: fake failure", "code": code}, {}
        self._failures.append(_Failure(method.upper(), _template_regex(route), status, body, headers, times))

    async def wait_until_connected(self) -> None:
        """Until a client has IDENTIFYed and been sent READY and GUILD_CREATE."""
        await self.wait_for(lambda: self.gateway.ready_sessions, what="a gateway session")

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send any gateway dispatch (e.g. GUILD_MEMBER_UPDATE) to the connected client.

        Raises RuntimeError when no client is connected (the event is still kept for a RESUME).
        """
        if not await self.gateway.dispatch(event, data):
            raise RuntimeError("no gateway session: start the discord.py client first")

    async def set_role_permissions(self, role_id: int, permissions: int) -> None:
        """An admin edits a role (the bot's managed role included); GUILD_ROLE_UPDATE tells the client."""
        role = dataclasses.replace(self.world.roles[role_id], permissions=permissions)
        self.world.roles[role_id] = role
        await self.gateway.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(self.guild_id), "role": role.payload()})

    async def set_member_roles(self, user_id: int, roles: Sequence[int]) -> None:
        """An admin changes someone's roles. Like Discord, GUILD_MEMBER_UPDATE reaches only sessions with the
        GUILD_MEMBERS intent: a bot without it must fetch the member to learn its own new roles."""
        self.world.members[user_id] = dataclasses.replace(self.world.members[user_id], roles=tuple(roles))
        member = self.world.member_payload(user_id) | {"guild_id": str(self.guild_id)}
        await self.gateway.dispatch("GUILD_MEMBER_UPDATE", member, intent=INTENT_GUILD_MEMBERS)

    async def set_overwrite(self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0,
                            member: bool = False) -> None:
        """An admin edits a channel's permission overwrite (no checks: admins hold everything)."""
        self.world.overwrites.setdefault(channel_id, {})[target_id] = {
            "id": str(target_id), "type": int(member), "allow": str(allow), "deny": str(deny)}
        await self.gateway.dispatch("CHANNEL_UPDATE", self.world.channel_payload(channel_id))

    async def join_guild(self) -> None:
        """The bot is (re-)added to the guild: GUILD_CREATE without `unavailable`, as Discord sends on a join."""
        sessions = self.gateway.ready_sessions
        if not sessions:
            raise RuntimeError("no gateway session: start the discord.py client first")
        payload = self.world.guild_create_payload(sessions[0].intents)
        del payload["unavailable"]
        await self.dispatch("GUILD_DELETE", {"id": str(self.guild_id)})  # removed first, so this is a join
        await self.dispatch("GUILD_CREATE", payload)

    async def request_reconnect(self) -> None:
        """Send op 7; discord.py then RESUMEs (see `gateway.resumes`)."""
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
        """Dispatch a synced slash command; `name` is the full path, e.g. "topics subscribe".

        Raises ValueError where Discord's client would not let the user send it (unknown command,
        option or choice, missing required option, not available in DMs, lacking permissions).
        """
        top, *path = name.split()
        data = self.world.command_data(self._find_command(top, guild, user_id), path, options or {})
        return await self._send_interaction(2, data, user_id, self._channel_for(guild, channel_id, user_id), locale)

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
        command = self._find_command(top, guild, user_id)
        data = self.world.command_data(command, path, options, focused=focused)
        return await self._send_interaction(4, data, user_id, self._channel_for(guild, channel_id, user_id), locale)

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
        """Click a button (or pick select `values`) on a message the bot sent; guild or DM follows it."""
        source = self.messages[message if isinstance(message, int) else message.id]
        if custom_id not in source.custom_ids():
            raise ValueError(f"message {source.id} has no component {custom_id!r}: {source.custom_ids()}")
        recipient = self.world.dm_recipient(source.channel_id)
        if recipient is not None and recipient != user_id:
            raise ValueError(f"user {user_id} cannot see the DM with {recipient}")
        data: JSON = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        return await self._send_interaction(3, data, user_id, source.channel_id, locale, source)

    async def send_modal_submit(
        self, custom_id: str, values: Mapping[str, str | Sequence[str]], *, locale: str = "en-US"
    ) -> InteractionHandle:
        """Submit the modal the bot last showed with `custom_id`, as the user it was shown to, where it was."""
        shown = next((h for h in reversed(self.interactions.values())
                      if h.response_type == 9 and h.response_data.get("custom_id") == custom_id), None)
        if shown is None:
            raise ValueError(f"no modal with custom_id {custom_id!r} was shown")
        components = [modal_submission(c, values) for c in shown.response_data.get("components", [])]
        data: JSON = {"custom_id": custom_id, "components": [c for c in components if c is not None]}
        source = self.messages.get(shown.source_message_id or 0)
        return await self._send_interaction(5, data, shown.user_id, shown.channel_id, locale, source)

    def _find_command(self, name: str, guild: bool, user_id: int) -> JSON:
        for scope in [self.guild_id, None] if guild else [None]:
            command = next((c for c in self.commands.get(scope, []) if c["name"] == name and c["type"] == 1), None)
            if command is None:
                continue
            contexts = command.get("contexts")
            if not guild and (command.get("dm_permission") is False or (contexts and 1 not in contexts)):
                raise ValueError(f"command {name!r} is not available in DMs")
            required = int(command.get("default_member_permissions") or 0)
            if guild and self.world.permissions_in(user_id, None) & required != required:
                raise ValueError(f"user {user_id} cannot see {name!r} (needs permissions {required})")
            return command
        raise ValueError(f"slash command {name!r} was not synced for {'the guild' if guild else 'DMs'}")

    def _channel_for(self, guild: bool, channel_id: int | None, user_id: int) -> int:
        if channel_id is not None:
            return channel_id
        if not guild:
            return self.world.dm_channel_id(user_id)
        return next(c.id for c in self.world.channels.values() if c.type == FakeChannel.TEXT)

    async def _send_interaction(
        self, type: int, data: JSON, user_id: int, channel_id: int, locale: str, source: SentMessage | None = None
    ) -> InteractionHandle:
        await self.wait_until_connected()  # e.g. mid-RESUME
        payload = self.world.interaction_payload(
            type=type, data=data, user_id=user_id, channel_id=channel_id, locale=locale,
            message=source.payload() if source else None,
        )
        handle = InteractionHandle(self.wait_for, payload=payload, channel_id=channel_id, user_id=user_id,
                                   source_message_id=source.id if source else None)
        self.interactions[handle.id] = handle
        await self.dispatch("INTERACTION_CREATE", payload)
        return handle

    # -- HTTP plumbing -----------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, _Handler]]:
        app_commands = "/applications/{application_id}/commands"
        guild_commands = "/applications/{application_id}/guilds/{guild_id}/commands"
        message = "/channels/{channel_id}/messages/{message_id}"
        overwrite = "/channels/{channel_id}/permissions/{overwrite_id}"
        webhook_message = "/webhooks/{application_id}/{token}/messages/{message_id}"
        return [
            ("GET", "/users/@me", self._get_me),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/users/{user_id}", self._get_user),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", app_commands, self._get_commands),
            ("PUT", app_commands, self._put_commands),
            ("GET", guild_commands, self._get_commands),
            ("PUT", guild_commands, self._put_commands),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._list_messages),
            ("POST", "/channels/{channel_id}/messages", self._create_message),
            ("GET", message, self._get_message),
            ("PATCH", message, self._edit_message),
            ("DELETE", message, self._delete_message),
            ("POST", message + "/crosspost", self._crosspost),
            ("PUT", overwrite, self._put_overwrite),
            ("DELETE", overwrite, self._delete_overwrite),
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

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """A REST call: a queued failure, else auth, global and bucket limits, else the route's handler."""
        path, now = request.path[len(API_PREFIX):], time.monotonic()
        route, handler, params = self._resolve(request.method, path)
        body, files = await self._read_body(request)
        major = next((params[k] for k in ("channel_id", "guild_id", "interaction_id", "token") if k in params), "")
        bucket_name = f"{request.method} {route}"
        limit, window = self.route_limits.get(bucket_name, (self.bucket_limit, self.bucket_window))
        bucket = self._bucket((bucket_name, major), limit, window, now)
        exempt = route.startswith(("/interactions/", "/webhooks/"))  # not bound by the global limit
        fault_params = {**params, **request.query, **(body if isinstance(body, dict) else {})}
        fault = self.faults.before(bucket_name, fault_params)
        try:
            response = (
                (self._fault_response(fault) if fault is not None else None)
                or self._take_failure(request.method, path)
                or self._refusal(request, path, found=handler is not None, exempt=exempt)
                or self._check_limits(bucket, now, exempt)
            )
            if response is None:
                assert handler is not None
                response = await handler(_Call(params, request.query, body, tuple(files)))
                fault = self.faults.after(bucket_name, fault_params) if 200 <= response.status < 300 else None
                response = self._fault_response(fault) if fault is not None else response
        except _ApiError as error:
            response = _json({"message": error.message, "code": error.code}, error.status)
        reset_after = max(bucket.reset_at - now, 0.0)
        response.headers.update({
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(bucket.remaining, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(bucket_name.encode()).hexdigest()[:32],
        })
        shared = response.headers.get("X-RateLimit-Scope") == "shared"
        self.rate_limited_count += int(response.status == 429)
        if response.status == 429:
            self.rate_limited_by[f"{response.headers.get('X-RateLimit-Scope', '?')} {request.method} {route}"] += 1
        self.invalid_request_count += int(response.status in (401, 403) or (response.status == 429 and not shared))
        self.requests.append(RecordedRequest(
            method=request.method, path=path, route=route, query=dict(request.query), json=body,
            headers=dict(request.headers), status=response.status, at=now, files=tuple(files),
        ))
        self._notify()
        if fault is not None and fault.kind.drops:
            if request.transport is not None:  # no answer at all: aiohttp writes nothing to a closed transport
                request.transport.close()
        return response

    @staticmethod
    def _fault_response(fault: Fault) -> web.Response:
        """What an armed fault answers; a dropped connection is recorded with status 0 and never answered."""
        if fault.kind.drops:
            return web.Response(status=0)
        if fault.kind is FaultKind.RATE_LIMITED:
            body, headers = _rate_limit_parts(fault.retry_after, "user")
            return _json(body, 429, headers)
        status = fault.answer_status
        return _json({"message": f"{status}: fake outage", "code": 0}, status)

    def _refusal(self, request: web.Request, path: str, *, found: bool, exempt: bool) -> web.Response | None:
        if not found and any(pattern.match(path) for _, _, pattern, _ in self._table):
            raise _ApiError(405, 0, "405: Method Not Allowed")
        if not found:
            raise _ApiError(404, 0, "404: Not Found")
        if not exempt and request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        return None

    def _resolve(self, method: str, path: str) -> tuple[str, _Handler | None, dict[str, str]]:
        for route_method, route, pattern, handler in self._table:
            match = pattern.match(path)
            if match and route_method == method:
                return route, handler, match.groupdict()
        return path, None, {}

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if not request.body_exists:
            return None, []
        if not request.content_type.startswith("multipart/"):
            raw = await request.read()
            return (json.loads(raw) if raw and request.content_type == "application/json" else None), []
        payload: Any = None
        files: list[UploadedFile] = []
        async for part in await request.multipart():
            if isinstance(part, BodyPartReader):
                content = bytes(await part.read())
                if part.name == "payload_json":
                    payload = json.loads(content)
                elif part.filename is not None:
                    files.append(UploadedFile(str(part.name), part.filename, content, part.headers.get("Content-Type")))
        return payload, files

    def _bucket(self, key: tuple[str, str], limit: int, window: float, now: float) -> _Bucket:
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

    def _check_limits(self, bucket: _Bucket, now: float, exempt: bool) -> web.Response | None:
        if not exempt and self.global_limit is not None:
            while self._global_window and now - self._global_window[0] >= 1.0:
                self._global_window.popleft()
            if len(self._global_window) >= self.global_limit:
                return self._rate_limited(round(1.0 - (now - self._global_window[0]), 3), scope="global")
            self._global_window.append(now)
        if bucket.remaining <= 0:
            return self._rate_limited(round(bucket.reset_at - now, 3), scope="user")
        bucket.remaining -= 1
        return None

    @staticmethod
    def _rate_limited(retry_after: float, *, scope: str) -> web.Response:
        body, headers = _rate_limit_parts(retry_after, scope)
        return _json(body, 429, headers)

    # -- REST: users, application, commands --------------------------------------------------------

    async def _get_me(self, call: _Call) -> web.Response:
        return _json(self.world.bot.payload() | {"verified": True, "mfa_enabled": False, "locale": "en-US"})

    async def _get_user(self, call: _Call) -> web.Response:
        user_id = int(call.params["user_id"])
        if user_id not in self.world.users:
            raise _ApiError(404, 10013, "Unknown User")
        return _json(self.world.user_payload(user_id))

    async def _get_application(self, call: _Call) -> web.Response:
        world = self.world
        return _json({
            "id": str(world.application_id), "name": world.bot.username, "description": "", "icon": None,
            "bot_public": False, "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
            "owner": world.user_payload(world.guild.owner_id), "team": None, "summary": "",
            "bot": world.bot.payload(), "redirect_uris": [], "interactions_endpoint_url": None,
            "approximate_guild_count": 1, "tags": [],
        })

    def _command_scope(self, call: _Call) -> int | None:
        guild_id = call.params.get("guild_id")
        if int(call.params["application_id"]) != self.application_id or guild_id not in (None, str(self.guild_id)):
            raise _ApiError(403, 50001, "Missing Access")
        return None if guild_id is None else int(guild_id)

    async def _get_commands(self, call: _Call) -> web.Response:
        return _json(self.commands.get(self._command_scope(call), []))

    async def _put_commands(self, call: _Call) -> web.Response:
        """Bulk overwrite. Ids stay stable per (scope, type, name) across syncs, as on Discord."""
        scope = self._command_scope(call)
        if not isinstance(call.body, list):
            raise _ApiError(400, 50035, "Invalid Form Body")
        saved: list[JSON] = []
        for command in call.body:
            kind = int(command.get("type", 1))
            _validate_command(command, kind)
            if any(c["type"] == kind and c["name"] == command["name"] for c in saved):
                raise _ApiError(400, 50035, f"Invalid Form Body: duplicate command {command['name']}")
            command_id = self._command_ids.setdefault((scope, kind, command["name"]), self.world.snowflake())
            saved.append(command | {
                "id": str(command_id), "application_id": str(self.application_id), "type": kind,
                "version": str(self.world.snowflake()), "nsfw": bool(command.get("nsfw", False)),
                "default_member_permissions": command.get("default_member_permissions"),
            } | ({} if scope is None else {"guild_id": str(scope)}))
        self.commands[scope] = saved
        return _json(saved)

    # -- REST: channels and messages ---------------------------------------------------------------

    def _channel(self, call: _Call) -> int:
        channel_id = int(call.params["channel_id"])
        if not self.world.is_known_channel(channel_id):
            raise _ApiError(404, 10003, "Unknown Channel")
        return channel_id

    def _message(self, call: _Call) -> SentMessage:
        message = self.messages.get(int(call.params["message_id"]))
        if message is None or message.deleted or message.channel_id != self._channel(call):
            raise _ApiError(404, 10008, "Unknown Message")
        return message

    def _require(self, channel_id: int, permissions: int) -> None:
        """A guild channel the bot cannot see is "Missing Access" (50001); one it sees, "Missing Permissions"."""
        if channel_id not in self.world.channels:
            return
        held = self.world.permissions_in(self.world.bot.id, channel_id)
        if not held & VIEW_CHANNEL:
            raise _ApiError(403, 50001, "Missing Access")
        if held & permissions != permissions:
            raise _ApiError(403, 50013, "Missing Permissions")

    def _require_grantable(self, channel_id: int, asked: int) -> None:
        world, bot = self.world, self.world.bot.id
        overwrites = world.overwrites.get(channel_id, {})
        own = [overwrites[t] for t in (bot, *world.members[bot].roles) if t in overwrites]
        if any(int(overwrite["allow"]) & MANAGE_ROLES for overwrite in own):
            return
        held = world.permissions_in(bot, None) | world.permissions_in(bot, channel_id)
        if not held & ADMINISTRATOR and asked & ~held:
            raise _ApiError(403, 50013, "Missing Permissions")

    async def _create_dm(self, call: _Call) -> web.Response:
        recipient = int(call.json().get("recipient_id", 0))
        if recipient not in self.world.users or recipient == self.world.bot.id:
            raise _ApiError(400, 50033, "Invalid Recipient(s)")
        return _json(self.world.channel_payload(self.world.dm_channel_id(recipient)))

    async def _get_channel(self, call: _Call) -> web.Response:
        """As on Discord, a guild channel the bot cannot view is "Missing Access" (50001)."""
        channel_id = self._channel(call)
        self._require(channel_id, 0)
        return _json(self.world.channel_payload(channel_id))

    async def _list_messages(self, call: _Call) -> web.Response:
        """Newest first, ephemeral replies hidden; honours limit (max 100), before and after."""
        channel_id = self._channel(call)
        limit = min(int(call.query.get("limit", 50)), 100)
        before, after = int(call.query.get("before", 1 << 64)), int(call.query.get("after", 0))
        visible = [m for m in self.messages_in(channel_id) if not m.ephemeral and after < m.id < before]
        # Like Discord, history does not carry nonces: they are echoed on create only, never stored.
        return _json([{k: v for k, v in m.payload().items() if k != "nonce"} for m in reversed(visible)][:limit])

    async def _create_message(self, call: _Call) -> web.Response:
        """With `enforce_nonce`, a nonce seen in this channel within `nonce_window` returns that message."""
        channel_id = self._channel(call)
        if self.world.dm_recipient(channel_id) in self.closed_dms:
            raise _ApiError(403, 50007, "Cannot send messages to this user")
        self._require(channel_id, VIEW_CHANNEL | SEND_MESSAGES | (ATTACH_FILES if call.files else 0))
        body, now = call.json(), time.monotonic()
        nonce = None if body.get("nonce") is None else str(body["nonce"])
        if nonce is not None and len(nonce) > 25:
            raise _ApiError(400, 50035, "Invalid Form Body: nonce longer than 25")
        key = (channel_id, str(nonce))
        enforce = nonce is not None and bool(body.get("enforce_nonce"))
        if enforce and key in self._nonces and now - self._nonces[key][1] < self.nonce_window:
            return _json(self.messages[self._nonces[key][0]].payload())
        message = self._new_message(channel_id, body, call.files)
        if enforce:
            self._nonces[key] = (message.id, now)
        return _json(message.payload())

    def _new_message(
        self, channel_id: int, body: JSON, files: Sequence[UploadedFile], *,
        interaction: InteractionHandle | None = None, extra_flags: int = 0,
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
        """PATCH semantics: absent fields stay; only SUPPRESS_EMBEDS of `flags` may change."""
        _form_body(check_message, body | {"flags": message.flags})
        if "content" in body:
            message.content = str(body["content"] or "")
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        if "components" in body:
            message.components = _numbered(body["components"] or [])
        if body.get("flags") is not None:
            message.flags = (message.flags & ~SUPPRESS_EMBEDS) | (int(body["flags"]) & SUPPRESS_EMBEDS)
        if files or "attachments" in body:
            kept = {str(a.get("id")) for a in body.get("attachments") or []}
            message.files = tuple(f for n, f in enumerate(message.files) if str(message.id + n) in kept) + tuple(files)
        message.flags &= ~LOADING
        message.edited_at = datetime.now(UTC)
        message.edits.append(body)

    async def _get_message(self, call: _Call) -> web.Response:
        return _json(self._message(call).payload())

    async def _edit_message(self, call: _Call) -> web.Response:
        message = self._message(call)
        if int(message.author["id"]) != self.world.bot.id:
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(message, call.json(), call.files)
        return _json(message.payload())

    async def _delete_message(self, call: _Call) -> web.Response:
        self._message(call).deleted = True
        return web.Response(status=204)

    async def _crosspost(self, call: _Call) -> web.Response:
        """Publish; at most `publish_limit` per `publish_window` per channel, then a shared-scope 429."""
        message = self._message(call)
        channel = self.world.channels.get(message.channel_id)
        if channel is None or channel.type != FakeChannel.ANNOUNCEMENT:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        if message.crossposted:
            raise _ApiError(400, 40033, "This message has already been crossposted.")
        now, published = time.monotonic(), self._publishes[channel.id]
        while published and now - published[0] >= self.publish_window:
            published.popleft()
        if len(published) >= self.publish_limit:
            return self._rate_limited(round(self.publish_window - (now - published[0]), 3), scope="shared")
        published.append(now)
        message.flags |= CROSSPOSTED
        return _json(message.payload())

    async def _put_overwrite(self, call: _Call) -> web.Response:
        """Store the overwrite and push CHANNEL_UPDATE, which is how discord.py's cache learns of it.

        As on Discord: Manage Roles in the channel is needed, and only permissions the bot holds in the guild
        or the channel may be allowed or denied, unless an overwrite of its own gives it Manage Roles there.
        """
        channel_id, body, target = self._channel(call), call.json(), call.params["overwrite_id"]
        self._require(channel_id, MANAGE_ROLES)
        self._require_grantable(channel_id, int(body.get("allow") or 0) | int(body.get("deny") or 0))
        self.world.overwrites.setdefault(channel_id, {})[int(target)] = {
            "id": target, "type": int(body.get("type", 0)),
            "allow": str(body.get("allow") or 0), "deny": str(body.get("deny") or 0),
        }
        await self.gateway.dispatch("CHANNEL_UPDATE", self.world.channel_payload(channel_id))
        return web.Response(status=204)

    async def _delete_overwrite(self, call: _Call) -> web.Response:
        channel_id = self._channel(call)
        self._require(channel_id, MANAGE_ROLES)
        self.world.overwrites.get(channel_id, {}).pop(int(call.params["overwrite_id"]), None)
        await self.gateway.dispatch("CHANNEL_UPDATE", self.world.channel_payload(channel_id))
        return web.Response(status=204)

    # -- REST: guild -------------------------------------------------------------------------------

    def _check_guild(self, call: _Call) -> None:
        if int(call.params["guild_id"]) != self.guild_id:
            raise _ApiError(404, 10004, "Unknown Guild")

    async def _get_guild(self, call: _Call) -> web.Response:
        self._check_guild(call)
        return _json(self.world.guild_payload() | {"approximate_member_count": len(self.world.members)})

    async def _get_guild_channels(self, call: _Call) -> web.Response:
        self._check_guild(call)
        return _json([self.world.channel_payload(cid) for cid in self.world.channels])

    async def _get_roles(self, call: _Call) -> web.Response:
        self._check_guild(call)
        return _json([role.payload() for role in self.world.roles.values()])

    async def _get_member(self, call: _Call) -> web.Response:
        self._check_guild(call)
        user_id = int(call.params["user_id"])
        if user_id not in self.world.members:
            raise _ApiError(404, 10007, "Unknown Member")
        return _json(self.world.member_payload(user_id))

    # -- REST: interaction callbacks and follow-ups ------------------------------------------------

    async def _interaction_callback(self, call: _Call) -> web.Response:
        """Acknowledge once, within `interaction_ack_deadline`; `?with_response=1` returns the resource."""
        handle = self.interactions.get(int(call.params["interaction_id"]))
        expired = handle is None or time.monotonic() - handle.created_at > self.interaction_ack_deadline
        if handle is None or expired or handle.token != call.params["token"]:
            raise _ApiError(404, 10062, "Unknown interaction")
        if handle.callback_body is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = call.json()
        kind, data = int(body.get("type", 0)), body.get("data") or {}
        if kind not in _CALLBACK_TYPES[handle.type]:
            raise _ApiError(400, 50035, f"Invalid Form Body: callback {kind} to interaction type {handle.type}")
        if kind == 8:
            _form_body(check_autocomplete, data)
        elif kind == 9:
            _form_body(check_modal, data)
        source = self.messages.get(handle.source_message_id or 0)
        if kind in (4, 5):
            loading = LOADING if kind == 5 else 0
            handle.original = self._new_message(handle.channel_id, data, call.files, interaction=handle,
                                                extra_flags=loading)
        elif kind in (6, 7) and source is not None:
            if kind == 7:
                self._apply_edit(source, data, call.files)
            handle.original = source
        message = handle.original
        handle.callback_body = body
        self.interaction_responses.append(InteractionCallback(handle.id, handle.type, kind, data, time.monotonic()))
        if call.query.get("with_response") not in _TRUE:
            return web.Response(status=204)
        interaction: JSON = {
            "id": str(handle.id), "type": handle.type, "activity_instance_id": None,
            "response_message_id": str(message.id) if message else None,
            "response_message_loading": kind == 5, "response_message_ephemeral": bool(message and message.ephemeral),
        }
        resource: JSON = {"type": kind} | ({"message": message.payload()} if message else {})
        return _json({"interaction": interaction, "resource": resource})

    def _webhook_interaction(self, call: _Call) -> InteractionHandle:
        if int(call.params["application_id"]) != self.application_id:
            raise _ApiError(404, 10015, "Unknown Webhook")
        handle = next((h for h in self.interactions.values() if h.token == call.params["token"]), None)
        if handle is None or time.monotonic() - handle.created_at > self.interaction_token_ttl:
            raise _ApiError(401, 50027, "Invalid Webhook Token")
        if handle.callback_body is None:
            raise _ApiError(404, 10015, "Unknown Webhook")
        return handle

    def _webhook_message(self, call: _Call) -> SentMessage:
        handle, wanted = self._webhook_interaction(call), call.params["message_id"]
        candidates = [handle.original] if wanted == "@original" else [handle.original, *handle.followups]
        message = next((m for m in candidates if m and (wanted == "@original" or str(m.id) == wanted)), None)
        if message is None or message.deleted:
            raise _ApiError(404, 10008, "Unknown Message")
        return message

    async def _create_followup(self, call: _Call) -> web.Response:
        """A follow-up; the first one after a deferral fills in the deferred ("thinking") reply."""
        handle, body = self._webhook_interaction(call), call.json()
        original = handle.original
        if original is not None and original.flags & LOADING and original.edited_at is None:
            self._apply_edit(original, body, call.files)
            message = original
        else:
            message = self._new_message(handle.channel_id, body, call.files, interaction=handle)
        handle.followups.append(message)
        return _json(message.payload()) if call.query.get("wait") in _TRUE else web.Response(status=204)

    async def _get_webhook(self, call: _Call) -> web.Response:
        handle = self._webhook_interaction(call)
        return _json({
            "id": str(self.application_id), "type": 3, "name": self.world.bot.username, "avatar": None,
            "channel_id": str(handle.channel_id), "application_id": str(self.application_id),
            "token": handle.token,
        })

    async def _get_webhook_message(self, call: _Call) -> web.Response:
        return _json(self._webhook_message(call).payload())

    async def _edit_webhook_message(self, call: _Call) -> web.Response:
        message = self._webhook_message(call)
        self._apply_edit(message, call.json(), call.files)
        return _json(message.payload())

    async def _delete_webhook_message(self, call: _Call) -> web.Response:
        self._webhook_message(call).deleted = True
        return web.Response(status=204)


def _form_body(check: Callable[[JSON], None], body: JSON) -> None:
    """Discord's limits (see `discord_limits`): a broken one is 400, code 50035, and nothing is posted."""
    try:
        check(body)
    except FormError as error:
        raise _ApiError(400, 50035, f"Invalid Form Body: {error}") from None


def _validate_message(body: JSON, files: Sequence[UploadedFile], *, allow_empty: bool) -> None:
    _form_body(check_message, body)
    content = str(body.get("content") or "")
    has_body = content or body.get("embeds") or body.get("components") or files or body.get("poll")
    if not has_body and not allow_empty:
        raise _ApiError(400, 50006, "Cannot send an empty message")


def _validate_command(command: JSON, kind: int) -> None:
    """What Discord rejects with 50035: bad names, descriptions, > 25 options, required after optional."""
    name = str(command.get("name", ""))
    if kind == 1 and (not _NAME_RE.match(name) or name != name.lower()):
        raise _ApiError(400, 50035, f"Invalid Form Body: command name {name!r}")
    if kind == 1 and not 1 <= len(str(command.get("description", ""))) <= 100:
        raise _ApiError(400, 50035, f"Invalid Form Body: description of {name!r}")
    options = command.get("options") or []
    if len(options) > 25:
        raise _ApiError(400, 50035, f"Invalid Form Body: more than 25 options in {name!r}")
    choices = command.get("choices") or []
    if len(choices) > 25:
        raise _ApiError(400, 50035, f"Invalid Form Body: more than 25 choices in {name!r}")
    if choices and command.get("autocomplete"):
        raise _ApiError(400, 50035, f"Invalid Form Body: {name!r} has both choices and autocomplete")
    required = [bool(option.get("required")) for option in options]
    if required != sorted(required, reverse=True):
        raise _ApiError(400, 50035, f"Invalid Form Body: required option after optional in {name!r}")
    for option in options:
        _validate_command(option, 1)
