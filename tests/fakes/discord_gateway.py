"""The world a fake Discord describes, the interactions it injects, and the gateway that carries them.

The world (one guild with roles, channels and members, plus loose users) is frozen data; `World` turns it
into the JSON shapes Discord sends. The gateway (READY, GUILD_CREATE, INTERACTION_CREATE) and the REST
routes in `discord_server` both build their payloads here, so the two never disagree.

Gateway facts this follows (checked against discord.py 2.7.1): the client connects with
`?v=10&encoding=json&compress=zlib-stream`; the fake answers with one shared zlib stream whose binary frames
each end in a Z_SYNC_FLUSH marker or, with `zlib_stream=False`, with plain JSON text frames: discord.py
accepts both. Without the GUILD_PRESENCES intent GUILD_CREATE lists only the bot as a member, as on Discord.

Sharding as on Discord: a session that identifies with ``shard: [id, count]`` gets the guild's events only when
``(guild_id >> 22) % count == id``, and events outside a guild (DM interactions) only on shard 0; every session on
a shard gets each of its events (two processes connected on one shard would both handle every interaction).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from aiohttp import WSCloseCode, WSMsgType, web

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 51) - 1
# @everyone in a new server: view channel, send, embed links, attach files, read history, add reactions, external
# emoji, app commands, create public and private threads, send in threads
BASIC_PERMISSIONS = ((1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 6) | (1 << 18) | (1 << 31)
                     | (1 << 35) | (1 << 36) | (1 << 38))
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_DEPENDENT = (1 << 12) | (1 << 14) | (1 << 15) | (1 << 17)  # TTS, embed links, attach files, @everyone
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
EPHEMERAL = 1 << 6
CROSSPOSTED = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
_SUBCOMMAND_TYPES = (1, 2)
_ENTITY_OPTION_TYPES = (6, 7, 8, 9)  # user, channel, role, mentionable: sent as ids plus `resolved`


class SnowflakeGenerator:
    """Time-ordered, unique ids in Discord's snowflake layout (ms since 2015 << 22 | counter)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self) -> int:
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._counter) & 0x3F_FFFF)


@dataclass(frozen=True)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    def payload(self) -> JSON:
        return {
            "id": str(self.id), "username": self.username, "discriminator": "0", "global_name": self.global_name,
            "avatar": None, "banner": None, "accent_color": None, "bot": self.bot, "system": False,
            "public_flags": 0, "flags": 0, "avatar_decoration_data": None,
        }


@dataclass(frozen=True)
class FakeRole:
    """A role; `bot_id` makes it the managed role Discord creates for a bot from its invite's permissions."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    bot_id: int | None = None

    def payload(self) -> JSON:
        payload: JSON = {
            "id": str(self.id), "name": self.name, "permissions": str(self.permissions),
            "position": self.position, "color": self.color, "hoist": False, "managed": self.bot_id is not None,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "mentionable": False, "icon": None, "unicode_emoji": None, "flags": 0,
        }
        if self.bot_id is not None:
            payload["tags"] = {"bot_id": str(self.bot_id)}
        return payload


@dataclass(frozen=True)
class FakeChannel:
    id: int
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None

    TEXT: ClassVar[int] = 0
    DM: ClassVar[int] = 1
    ANNOUNCEMENT: ClassVar[int] = 5


@dataclass(frozen=True)
class FakeMember:
    user: FakeUser
    roles: tuple[int, ...] = ()
    flags: int = 0
    nick: str | None = None
    joined_at: str = "2024-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class FakeGuild:
    """One guild. The role whose id is the guild id is @everyone; one is added if missing."""

    id: int
    name: str
    owner_id: int
    roles: tuple[FakeRole, ...] = ()
    channels: tuple[FakeChannel, ...] = ()
    members: tuple[FakeMember, ...] = ()
    features: tuple[str, ...] = ("COMMUNITY", "NEWS")
    preferred_locale: str = "en-US"


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    content: bytes
    content_type: str | None


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
        return [c["custom_id"] for c in walk_components(self.components) if "custom_id" in c]

    def payload(self) -> JSON:
        cdn = f"attachments/{self.channel_id}/{self.id}"
        payload: JSON = {
            "id": str(self.id), "channel_id": str(self.channel_id), "author": self.author,
            "content": self.content, "timestamp": self.created_at.isoformat(),
            "edited_timestamp": self.edited_at.isoformat() if self.edited_at else None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [
                {"id": str(self.id + n), "filename": f.filename, "size": len(f.content),
                 "content_type": f.content_type, "url": f"https://cdn.discordapp.com/{cdn}/{f.filename}",
                 "proxy_url": f"https://media.discordapp.net/{cdn}/{f.filename}"}
                for n, f in enumerate(self.files)
            ],
            "embeds": self.embeds, "components": self.components, "reactions": [], "pinned": False,
            "type": 20 if self.interaction else 0, "flags": self.flags,
        }
        optional = {"guild_id": self.guild_id, "nonce": self.nonce, "webhook_id": self.webhook_id,
                    "application_id": self.webhook_id}
        payload.update({k: str(v) for k, v in optional.items() if v is not None})
        if self.interaction is not None:
            payload["interaction_metadata"] = self.interaction
        return payload


def walk_components(components: Sequence[JSON]) -> Iterator[JSON]:
    """Every component, depth first: rows' children, labels' component, sections' accessory."""
    for component in components:
        yield component
        yield from walk_components(component.get("components") or [])
        for key in ("component", "accessory"):
            if isinstance(component.get(key), dict):
                yield from walk_components([component[key]])


class World:
    """The fake's state of the world: frozen config plus what REST calls change (overwrites, DMs)."""

    def __init__(
        self, *, application_id: int, bot: FakeUser, guild: FakeGuild, users: Sequence[FakeUser] = ()
    ) -> None:
        self.application_id = application_id
        self.bot = bot
        self.guild = guild
        self.snowflake = SnowflakeGenerator()
        self.roles: dict[int, FakeRole] = {role.id: role for role in guild.roles}
        self.roles.setdefault(guild.id, FakeRole(guild.id, "@everyone", BASIC_PERMISSIONS))
        self.channels: dict[int, FakeChannel] = {channel.id: channel for channel in guild.channels}
        self.members: dict[int, FakeMember] = {member.user.id: member for member in guild.members}
        self.members.setdefault(bot.id, FakeMember(bot))
        self.users: dict[int, FakeUser] = {user.id: user for user in users}
        self.users.update({member.user.id: member.user for member in self.members.values()})
        self.overwrites: dict[int, dict[int, JSON]] = {}
        self.dm_channels: dict[int, int] = {}

    def dm_channel_id(self, user_id: int) -> int:
        """The DM channel with `user_id`, created on first use and stable afterwards (as on Discord)."""
        if user_id not in self.dm_channels:
            self.dm_channels[user_id] = self.snowflake()
        return self.dm_channels[user_id]

    def dm_recipient(self, channel_id: int) -> int | None:
        return next((uid for uid, cid in self.dm_channels.items() if cid == channel_id), None)

    def is_known_channel(self, channel_id: int) -> bool:
        return channel_id in self.channels or self.dm_recipient(channel_id) is not None

    def permissions_in(self, user_id: int, channel_id: int | None) -> int:
        """Permissions from roles, then @everyone, role and member overwrites (Discord's order), then Discord's
        implicit rules in a channel: without View Channel nothing else; without Send Messages no embeds,
        files, TTS or @everyone mentions."""
        member = self.members.get(user_id)
        if member is None:
            return 0
        if user_id == self.guild.owner_id:
            return ALL_PERMISSIONS
        perms = self.roles[self.guild.id].permissions
        for role_id in member.roles:
            perms |= self.roles[role_id].permissions if role_id in self.roles else 0
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        overwrites = self.overwrites.get(channel_id, {}) if channel_id is not None else {}
        for layer in ([self.guild.id], member.roles, [user_id]):
            allow = deny = 0
            for overwrite in (overwrites[target] for target in layer if target in overwrites):
                allow, deny = allow | int(overwrite["allow"]), deny | int(overwrite["deny"])
            perms = (perms & ~deny) | allow
        if channel_id is not None and not perms & VIEW_CHANNEL:
            return 0
        if channel_id is not None and not perms & SEND_MESSAGES:
            perms &= ~SEND_DEPENDENT
        return perms

    def user_payload(self, user_id: int) -> JSON:
        return self.users[user_id].payload()

    def member_payload(self, user_id: int, *, permissions_in: int | None = None) -> JSON:
        member = self.members[user_id]
        payload: JSON = {
            "user": member.user.payload(), "nick": member.nick, "avatar": None, "banner": None,
            "roles": [str(role_id) for role_id in member.roles], "joined_at": member.joined_at,
            "premium_since": None, "deaf": False, "mute": False, "pending": False, "flags": member.flags,
            "communication_disabled_until": None, "avatar_decoration_data": None,
        }
        if permissions_in is not None:
            payload["permissions"] = str(self.permissions_in(user_id, permissions_in))
        return payload

    def channel_payload(self, channel_id: int) -> JSON:
        recipient = self.dm_recipient(channel_id)
        if recipient is not None:
            return {"id": str(channel_id), "type": FakeChannel.DM, "last_message_id": None, "flags": 0,
                    "recipients": [self.user_payload(recipient)]}
        channel = self.channels[channel_id]
        return {
            "id": str(channel.id), "type": channel.type, "guild_id": str(self.guild.id), "name": channel.name,
            "position": channel.position, "topic": channel.topic, "nsfw": False, "parent_id": None,
            "permission_overwrites": list(self.overwrites.get(channel.id, {}).values()),
            "last_message_id": None, "rate_limit_per_user": 0, "flags": 0,
        }

    def guild_payload(self) -> JSON:
        guild = self.guild
        return {
            "id": str(guild.id), "name": guild.name, "icon": None, "splash": None, "discovery_splash": None,
            "banner": None, "description": None, "owner_id": str(guild.owner_id),
            "roles": [role.payload() for role in self.roles.values()], "emojis": [], "stickers": [],
            "features": list(guild.features), "verification_level": 1, "default_message_notifications": 1,
            "explicit_content_filter": 2, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
            "premium_subscription_count": 0, "premium_progress_bar_enabled": False,
            "preferred_locale": guild.preferred_locale, "system_channel_id": None, "system_channel_flags": 0,
            "rules_channel_id": None, "public_updates_channel_id": None, "afk_channel_id": None,
            "afk_timeout": 300, "vanity_url_code": None, "application_id": None,
        }

    def guild_create_payload(self, intents: int) -> JSON:
        member_ids = list(self.members) if intents & INTENT_GUILD_PRESENCES else [self.bot.id]
        return self.guild_payload() | {
            "unavailable": False, "large": False, "lazy": True, "member_count": len(self.members),
            "joined_at": self.members[self.bot.id].joined_at,
            "members": [self.member_payload(uid) for uid in member_ids],
            "channels": [self.channel_payload(cid) for cid in self.channels],
            "threads": [], "presences": [], "voice_states": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [],
        }

    def ready_payload(self, session_id: str, resume_gateway_url: str) -> JSON:
        return {
            "v": 10, "user": self.bot.payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(self.guild.id), "unavailable": True}],
            "session_id": session_id, "session_type": "normal", "resume_gateway_url": resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [], "relationships": [], "presences": [], "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["europe"], "user_settings": {}, "_trace": ["fake-discord"],
        }

    def interaction_payload(
        self, *, type: int, data: JSON, user_id: int, channel_id: int, locale: str, message: JSON | None
    ) -> JSON:
        """An INTERACTION_CREATE body; guild channels carry `member`, DM channels carry `user`."""
        payload: JSON = {
            "id": str(self.snowflake()), "application_id": str(self.application_id), "type": type,
            "data": data, "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48), "version": 1,
            "locale": locale, "entitlements": [], "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel": self.channel_payload(channel_id), "channel_id": str(channel_id),
        }
        if message is not None:
            payload["message"] = message
        if channel_id not in self.channels:
            return payload | {"user": self.user_payload(user_id), "app_permissions": str(BASIC_PERMISSIONS),
                              "context": 1, "authorizing_integration_owners": {"0": "0"}}
        if user_id not in self.members:
            raise ValueError(f"user {user_id} is not a member of the guild")
        guild_id, locale = str(self.guild.id), self.guild.preferred_locale
        return payload | {
            "guild_id": guild_id, "guild_locale": locale,
            "guild": {"id": guild_id, "locale": locale, "features": list(self.guild.features)},
            "member": self.member_payload(user_id, permissions_in=channel_id),
            "app_permissions": str(self.permissions_in(self.bot.id, channel_id)),
            "context": 0, "authorizing_integration_owners": {"0": guild_id},
        }

    def command_data(
        self, command: JSON, path: Sequence[str], options: Mapping[str, object], *, focused: str | None = None
    ) -> JSON:
        """`data` of a slash command interaction, typed from the synced command definition.

        Raises ValueError for an unknown subcommand or option, a missing required option (unless
        autocompleting) or a value outside the option's choices: Discord's client would not send those.
        """
        data: JSON = {"id": command["id"], "name": command["name"], "type": command.get("type", 1)}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        definitions: list[JSON] = command.get("options") or []
        resolved: dict[str, dict[str, JSON]] = {}
        data["options"] = container = []
        for name in path:
            sub = _find_option(definitions, name, _SUBCOMMAND_TYPES)
            node: JSON = {"name": name, "type": sub["type"], "options": []}
            container.append(node)
            container, definitions = node["options"], sub.get("options") or []
        for name in options:
            _find_option(definitions, name, None)
        for definition in definitions:
            name = definition["name"]
            if name in options:
                container.append(self._option(definition, options[name], focused == name, resolved))
            elif definition.get("required") and focused is None:
                raise ValueError(f"missing required option {name!r}")
        if resolved:
            data["resolved"] = resolved
        return data

    def _option(self, definition: JSON, value: object, focused: bool, resolved: dict[str, dict[str, JSON]]) -> JSON:
        option: JSON = {"name": definition["name"], "type": definition["type"], "value": value}
        if focused:
            return option | {"value": str(value), "focused": True}
        choices = definition.get("choices")
        if choices and value not in [choice["value"] for choice in choices]:
            raise ValueError(f"{value!r} is not a choice of option {definition['name']!r}")
        if definition["type"] in _ENTITY_OPTION_TYPES:
            option["value"] = str(value)
            self._resolve(definition["type"], int(str(value)), resolved)
        return option

    def _resolve(self, kind: int, target: int, resolved: dict[str, dict[str, JSON]]) -> None:
        if kind in (6, 9) and target in self.users:
            resolved.setdefault("users", {})[str(target)] = self.user_payload(target)
            if target in self.members:
                member = self.member_payload(target, permissions_in=None)
                del member["user"]
                resolved.setdefault("members", {})[str(target)] = member
        elif kind in (8, 9) and target in self.roles:
            resolved.setdefault("roles", {})[str(target)] = self.roles[target].payload()
        elif kind == 7 and target in self.channels:
            channel = self.channel_payload(target) | {"permissions": str(self.permissions_in(self.bot.id, target))}
            resolved.setdefault("channels", {})[str(target)] = channel
        else:
            raise ValueError(f"option value {target} is not a known user, role or channel")


def _find_option(definitions: list[JSON], name: str, kinds: tuple[int, ...] | None) -> JSON:
    for definition in definitions:
        if definition["name"] == name and (kinds is None or definition["type"] in kinds):
            return definition
    raise ValueError(f"no option or subcommand {name!r} in {[d['name'] for d in definitions]}")


def modal_submission(component: JSON, values: Mapping[str, str | Sequence[str]]) -> JSON | None:
    """What Discord's client submits for one component of a shown modal, given the user's `values`."""
    kind = component["type"]
    if kind == 1:
        children = [modal_submission(c, values) for c in component.get("components", [])]
        return {"type": 1, "id": component.get("id"), "components": [c for c in children if c]}
    if kind == 18:
        inner = modal_submission(component["component"], values)
        return {"type": 18, "id": component.get("id"), "component": inner} if inner else None
    custom_id = component.get("custom_id")
    if custom_id is None:
        return None
    value = values.get(custom_id)
    if kind == 4 and value is None and component.get("required", True):
        raise ValueError(f"required modal field {custom_id!r} has no value")
    submitted: JSON = {"type": kind, "id": component.get("id"), "custom_id": custom_id}
    if kind == 4:
        return submitted | {"value": value if isinstance(value, str) else ""}
    return submitted | {"values": [value] if isinstance(value, str) else list(value or [])}


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
        """The `index`-th follow-up (after a deferral the first one fills in the deferred reply)."""
        await self._wait_for(lambda: len(self.followups) > index)
        return self.followups[index]

    async def original_response(self, *, edited: bool = False) -> SentMessage:
        """The original response message; with `edited`, once it has been edited (e.g. after a defer)."""

        def ready() -> SentMessage | None:
            done = self.original is not None and (not edited or self.original.edited_at is not None)
            return self.original if done else None

        message: SentMessage = await self._wait_for(ready)
        return message


class _Connection:
    """One websocket. Sends are serialised so the shared zlib stream stays in frame order."""

    def __init__(self, ws: web.WebSocketResponse, *, compress: bool) -> None:
        self.ws = ws
        self.session: GatewaySession | None = None
        self._zlib = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            if self.ws.closed:
                return
            if self._zlib is None:
                await self.ws.send_str(text)
            else:
                await self.ws.send_bytes(self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH))


@dataclass
class GatewaySession:
    """What RESUME picks up: the sequence and the last dispatches for replay."""

    id: str
    intents: int
    identify: JSON
    seq: int = 0
    backlog: list[JSON] = field(default_factory=list)
    connection: _Connection | None = None
    shard: tuple[int, int] | None = None

    BACKLOG: ClassVar[int] = 1000

    def carries(self, guild_id: int | None) -> bool:
        """Whether Discord sends this session the events of ``guild_id`` (``None``: outside any guild)."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else (guild_id >> 22) % count)


class FakeGateway:
    """The gateway endpoint: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME, dispatch."""

    def __init__(
        self,
        world: World,
        *,
        token: str,
        gateway_url: Callable[[], str],
        notify: Callable[[], None],
        zlib_stream: bool = True,
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        self._world = world
        self._token = token
        self._gateway_url = gateway_url
        self._notify = notify
        self._zlib_stream = zlib_stream
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._connections: set[_Connection] = set()
        self.sessions: dict[str, GatewaySession] = {}
        self.connect_queries: list[dict[str, str]] = []
        self.identifies: list[JSON] = []
        self.resumes: list[JSON] = []
        self.received: list[JSON] = []
        self.dispatched: list[JSON] = []
        self.heartbeats = 0

    @property
    def ready_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.connection is not None]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        query = dict(request.query)
        self.connect_queries.append(query)
        if query.get("v") != "10" or query.get("encoding", "json") != "json":
            await ws.close(code=4012, message=b"Invalid API version or encoding")
            return ws
        conn = _Connection(ws, compress=self._zlib_stream and query.get("compress") == "zlib-stream")
        self._connections.add(conn)
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self._heartbeat_interval_ms}, "s": None, "t": None})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_payload(conn, json.loads(msg.data))
                else:
                    await ws.close(code=4002, message=b"Error while decoding payload")
        finally:
            self._connections.discard(conn)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            self._notify()
        return ws

    async def _on_payload(self, conn: _Connection, payload: JSON) -> None:
        self.received.append(payload)
        op, raw = payload.get("op"), payload.get("d")
        data: JSON = raw if isinstance(raw, dict) else {}
        if op == 1:
            self.heartbeats += 1
            await conn.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(conn, data)
        elif op == 6:
            await self._resume(conn, data)
        elif op == 8:
            await self._request_members(conn, data)
        elif op not in (3, 4):
            await conn.ws.close(code=4001, message=b"Unknown opcode")
        self._notify()

    async def _identify(self, conn: _Connection, data: JSON) -> None:
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated")
        elif data.get("token") != self._token:
            await conn.ws.close(code=4004, message=b"Authentication failed")
        elif "intents" not in data:
            await conn.ws.close(code=4013, message=b"Invalid intent(s)")
        elif not _valid_shard(data.get("shard")):
            await conn.ws.close(code=4010, message=b"Invalid shard")
        else:
            shard = data.get("shard")
            self.identifies.append(data)
            for stale in [sid for sid, s in self.sessions.items() if s.connection is None]:
                del self.sessions[stale]
            session = GatewaySession(id=secrets.token_hex(16), intents=int(data["intents"]), identify=data,
                                     shard=(shard[0], shard[1]) if shard else None)
            self.sessions[session.id] = session
            conn.session, session.connection = session, conn
            ready = self._world.ready_payload(session.id, self._gateway_url())
            has_guild = session.carries(self._world.guild.id)
            if not has_guild:
                ready["guilds"] = []
            await self._send_dispatch(session, "READY", ready)
            if has_guild:
                await self._send_dispatch(session, "GUILD_CREATE",
                                          self._world.guild_create_payload(session.intents))

    async def _resume(self, conn: _Connection, data: JSON) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self._token:
            await conn.send({"op": 9, "d": False, "s": None, "t": None})
            return
        self.resumes.append(data)
        if session.connection is not None and session.connection is not conn:
            await session.connection.ws.close(code=WSCloseCode.GOING_AWAY)
        conn.session, session.connection = session, conn
        for frame in [f for f in session.backlog if f["s"] > int(data.get("seq") or 0)]:
            await conn.send(frame)
        await self._send_dispatch(session, "RESUMED", {"_trace": ["fake-discord"]})

    async def _request_members(self, conn: _Connection, data: JSON) -> None:
        session = conn.session
        if session is None:
            await conn.ws.close(code=4003, message=b"Not authenticated")
            return
        wanted = {int(uid) for uid in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        if not wanted and not session.intents & INTENT_GUILD_MEMBERS:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s)")
            return
        members = self._world.members
        ids = [u for u in wanted if u in members] if wanted else [
            uid for uid, m in members.items() if m.user.username.lower().startswith(query)
        ]
        chunk: JSON = {
            "guild_id": str(self._world.guild.id), "members": [self._world.member_payload(uid) for uid in ids],
            "chunk_index": 0, "chunk_count": 1, "not_found": [str(uid) for uid in wanted - set(ids)],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send_dispatch(self, session: GatewaySession, event: str, data: JSON) -> None:
        session.seq += 1
        frame: JSON = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.backlog.append(frame)
        del session.backlog[: -GatewaySession.BACKLOG]
        self.dispatched.append(frame)
        if session.connection is not None:
            await session.connection.send(frame)

    async def dispatch(self, event: str, data: JSON, *, intent: int = 0) -> int:
        """Send a dispatch to every session (kept for RESUME if its socket is down) that asked for `intent`, on
        the shard that carries the event's guild (shard 0 outside a guild).

        Returns how many of those sessions have a live socket right now.
        """
        guild_id = _guild_of(event, data)
        live = len([s for s in self.ready_sessions if s.carries(guild_id)])
        for session in list(self.sessions.values()):
            if session.intents & intent == intent and session.carries(guild_id):
                await self._send_dispatch(session, event, data)
        self._notify()
        return live

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py closes the socket and RESUMEs at resume_gateway_url."""
        for conn in list(self._connections):
            await conn.send({"op": 7, "d": None, "s": None, "t": None})

    async def close(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake shutting down")


def _valid_shard(value: object) -> bool:
    """IDENTIFY's ``shard``, absent or ``[id, count]`` with ``0 <= id < count`` (else Discord closes 4010)."""
    return value is None or (isinstance(value, list) and len(value) == 2
                             and all(isinstance(n, int) for n in value) and 0 <= value[0] < value[1])


def _guild_of(event: str, data: JSON) -> int | None:
    """The guild a dispatch belongs to (its shard carries it); ``None`` for one outside any guild."""
    raw = data.get("guild_id") or (data.get("id") if event.startswith("GUILD_") else None)
    return int(raw) if raw is not None else None
