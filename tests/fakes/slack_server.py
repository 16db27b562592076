"""A loopback fake of the Slack Web API, Socket Mode and response_url endpoints.

Adapters are tested with the real slack_sdk / slack_bolt clients pointed at this server, so the
tests exercise the SDK's own encoding, retries and acks instead of a mock's idea of them. The fake
records every request and lets a test queue replies (429s, 500s, API errors) per method, or arm faults
through ``fake.faults`` (``tests/fakes/faults.py``): a connection dropped before or after the post was
stored, a 5xx after storing, an outage, a 429 — none are armed unless a test asks.

It refuses what Slack refuses (``tests/fakes/slack_limits.py``): a message or view past Block Kit's limits
(more than 50 blocks in a message, 100 in a view, a section over 3,000 characters, ``private_metadata``
over 3,000 characters as sent …), a sixth post to one ``response_url``, and — once :meth:`FakeSlack.grant`
was given the installed scopes — every Web API method whose scope was not granted (``missing_scope`` with
``needed`` and ``provided``). A view returned in a Socket Mode ack that Slack would refuse raises
:class:`SlackRefused` in the test, since the person would see only Slack's own error.

Rate limits are off unless a test arms them: :meth:`FakeSlack.enforce_slack_limits` answers 429 with an
integer Retry-After as Slack does for a fan-out of DMs (chat.postMessage one a second per channel with short
bursts, under an optional workspace cap; conversations.open and the other tiered methods per minute), and
:meth:`FakeSlack.ratelimited` counts the 429s per method and per limit.

Several apps may hold Socket Mode connections at once (several bot processes): :meth:`FakeSlack.deliver` pushes an
envelope down the connection a test names, and :meth:`FakeSlack.retry_of` builds Slack's redelivery of one
(``retry_attempt`` one more, the envelope id kept or new), so a test can deliver one event to two processes, in a
row or at once.

Contract: everything runs on the test's event loop (no threads); every wait is bounded by the
constructor's ``timeout`` (wrap a call in ``asyncio.timeout`` for a tighter bound). Close Socket
Mode handlers before leaving ``async with FakeSlack()``, or the SDK starts reconnecting.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import math
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from time import monotonic
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp

from tests.fakes import slack_limits
from tests.fakes.faults import Fault, FaultKind, Faults

JsonDict = dict[str, Any]
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files")


@dataclass(frozen=True)
class RecordedCall:
    """One Web API request as the fake received it (query and body merged into ``params``)."""

    method: str
    params: Mapping[str, Any]
    http_method: str
    time: float  # time.monotonic() when received
    token: str | None = None


@dataclass(frozen=True)
class Reply:
    """A programmed answer. ``body=None``: ``{"ok": true}`` for 200, else a Slack-like error body."""

    status: int = 200
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ack:
    """A Socket Mode acknowledgement sent back by the client."""

    envelope_id: str
    payload: Mapping[str, Any] | None


Hook = Callable[[RecordedCall], Reply | None]


class SlackApiFailure(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": ...}`` (plus ``extra`` fields)."""

    def __init__(self, error: str, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(error)
        self.extra = dict(extra or {})


class SlackRefused(AssertionError):
    """What the app answered in an ack is something Slack would refuse: the person would see an error."""


def sign(body: str, secret: str, ts: int) -> dict[str, str]:
    """Headers Slack would send with ``body`` so an app's HTTP endpoint accepts (or rejects) it."""
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def slash_command_form(payload: Mapping[str, Any]) -> str:
    """HTTP-mode body of a slash command: Slack posts it form-encoded."""
    return urlencode({k: str(v) for k, v in payload.items()})


def interactive_form(payload: Mapping[str, Any]) -> str:
    """HTTP-mode body of an interaction: one form field ``payload`` holding JSON."""
    return urlencode({"payload": json.dumps(payload)})


def _drop(request: web.Request) -> web.Response:
    """Close the connection without answering: the client sees it drop (aiohttp's ServerDisconnectedError).
    aiohttp does not write the returned response to a closed transport."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


class FakeSlack:
    """Slack on 127.0.0.1 with a random port. Use as ``async with FakeSlack() as fake``."""

    def __init__(self, *, team_id: str = "T0FAKE", bot_user_id: str = "U0BOT", timeout: float = 5.0) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.app_id = "A0FAKE"
        self.timeout = timeout
        self.calls: list[RecordedCall] = []
        self.acks: list[Ack] = []
        self.envelopes: list[JsonDict] = []
        self.responses: list[tuple[str, JsonDict]] = []
        self.refused_responses: list[tuple[str, JsonDict, str]] = []
        """Bodies posted to a response_url that Slack would refuse: (response id, body, why)."""
        self.scopes: frozenset[str] | None = None
        """The installed bot scopes; ``None`` (the default) does not check scopes."""
        self.files: dict[str, JsonDict] = {}
        self._expired_responses: set[str] = set()
        self.ephemerals: list[JsonDict] = []
        self.views: dict[str, JsonDict] = {}
        self.users: dict[str, JsonDict] = {}
        self.channels: dict[str, JsonDict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.status_counts: defaultdict[tuple[str, int], int] = defaultdict(int)
        self._history: defaultdict[str, list[JsonDict]] = defaultdict(list)
        self._dm_by_user: dict[str, str] = {}
        self._dm_failures: dict[str, str] = {}
        self._queued: defaultdict[str, deque[Reply]] = defaultdict(deque)
        self._hooks: list[Hook] = []
        self.limits = slack_limits.RateLimits()
        """Rate limits armed per method (none by default): see :meth:`enforce_slack_limits`."""
        self._ids = itertools.count(1)
        self._ts = itertools.count(100, 100)
        self._ack_waiters: dict[tuple[str, int], asyncio.Future[Ack]] = {}
        """By envelope id and the id() of the connection it went out on."""
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Condition()
        self._consumed: defaultdict[str | None, int] = defaultdict(int)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.faults = Faults()
        """Failures armed on Web API methods (``tests/fakes/faults.py``); none by default."""

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/link", self._handle_socket)
        app.router.add_get("/link/", self._handle_socket)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        for waiter in self._ack_waiters.values():
            waiter.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Pass as ``AsyncWebClient(base_url=...)``; the trailing slash matters to slack_sdk."""
        return f"{self.base_url}/api/"

    def grant(self, scopes: Iterable[str]) -> None:
        """Install the app with these bot scopes: from now on a method needing another scope is refused."""
        self.scopes = frozenset(scopes)

    def add_user(self, user_id: str, *, name: str | None = None, real_name: str | None = None,
                 tz: str = "Europe/Copenhagen", is_restricted: bool = False,
                 is_ultra_restricted: bool = False, is_stranger: bool = False,
                 team_id: str | None = None, deleted: bool = False, is_bot: bool = False) -> JsonDict:
        """Make ``users.info`` know a user. Strangers (Slack Connect) carry another team id."""
        name = name or user_id.lower()
        user: JsonDict = {
            "id": user_id, "team_id": team_id or ("T0OTHER" if is_stranger else self.team_id),
            "name": name, "real_name": real_name or name, "deleted": deleted, "tz": tz,
            "is_bot": is_bot, "is_restricted": is_restricted, "is_ultra_restricted": is_ultra_restricted,
            "profile": {"real_name": real_name or name, "display_name": name},
        }
        if is_stranger:
            user["is_stranger"] = True
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, *, name: str | None = None, is_private: bool = False,
                    is_archived: bool = False, is_general: bool = False, **extra: Any) -> JsonDict:
        """Make ``conversations.info`` know a channel; ``extra`` overrides any field."""
        channel: JsonDict = {
            "id": channel_id, "name": name or channel_id.lower(), "is_channel": not is_private,
            "is_group": is_private, "is_im": False, "is_private": is_private, "is_archived": is_archived,
            "is_general": is_general, "is_member": True, "is_ext_shared": False, **extra,
        }
        self.channels[channel_id] = channel
        return channel

    def add_usergroup(self, group_id: str, users: list[str]) -> None:
        self.usergroups[group_id] = list(users)

    def dm_channel(self, user_id: str) -> str:
        """The DM channel id for a user: stable, like Slack's, so tests can predict it."""
        if user_id not in self._dm_by_user:
            dm = f"D{len(self._dm_by_user) + 1:08d}"
            self._dm_by_user[user_id] = dm
            self.channels[dm] = {"id": dm, "is_im": True, "is_private": True, "user": user_id,
                                 "is_archived": False, "is_channel": False}
        return self._dm_by_user[user_id]

    def queue(self, method: str, *, status: int = 200, body: Mapping[str, Any] | None = None,
              headers: Mapping[str, str] | None = None) -> None:
        """Answer the next call of ``method`` with this instead of the normal result (FIFO)."""
        self._queued[method].append(Reply(status, body, dict(headers or {})))

    def add_hook(self, hook: Hook) -> None:
        """``hook(call)`` may return a Reply to override the normal answer; first hit wins."""
        self._hooks.append(hook)

    def expire_response_url(self, response_id: str) -> None:
        """Posts to ``/response/<response_id>`` are refused from now on, as after Slack's 30 minutes."""
        self._expired_responses.add(response_id)

    def fail_dm_for(self, user_id: str, error: str) -> None:
        """conversations.open for the user and chat.postMessage to their DM answer ``error``."""
        self._dm_failures[user_id] = error

    def rate_limit(self, method: str, per_second: float, *, per_channel: bool = False) -> None:
        """Answer 429 + integer Retry-After once ``method`` exceeds ``per_second`` in a 1 s window: across the
        workspace (scope "workspace"), or per ``channel`` parameter (scope "channel"). Replaces an earlier limit
        of the same scope; limits of other scopes stay and all must admit a call."""
        scope = "channel" if per_channel else "workspace"
        self.limits.add(method, slack_limits.RateLimit(
            scope, lambda: slack_limits.SlidingWindow(per_second, 1.0), per_channel=per_channel))

    def channel_limit(self, method: str = "chat.postMessage", *,
                      per_second: float = slack_limits.CHANNEL_POSTS_PER_SECOND,
                      burst: float = slack_limits.CHANNEL_BURST) -> None:
        """Slack's chat.postMessage limit: ``per_second`` per channel (each DM is its own channel), with
        bursts of up to ``burst`` (scope "channel")."""
        self.limits.add(method, slack_limits.RateLimit(
            "channel", lambda: slack_limits.TokenBucket(per_second, burst), per_channel=True))

    def tier_limit(self, method: str, per_minute: float | None = None) -> None:
        """A Web API tier's limit: ``per_minute`` calls in any 60 s (default the floor of the method's tier in
        ``slack_limits.METHOD_TIERS``, e.g. 50 for conversations.open), across the workspace (scope "tier")."""
        count = per_minute if per_minute is not None else slack_limits.TIER_PER_MINUTE[
            slack_limits.METHOD_TIERS[method]]
        self.limits.add(method, slack_limits.RateLimit("tier", lambda: slack_limits.SlidingWindow(count, 60.0)))

    def enforce_slack_limits(self, *, workspace_per_second: float | None = None,
                             burst: float = slack_limits.CHANNEL_BURST) -> None:
        """Slack's limits as a fan-out meets them: chat.postMessage one a second per channel with short bursts,
        under a workspace cap of ``workspace_per_second`` (Slack does not publish it; ``None``: no cap), and
        every method of ``slack_limits.METHOD_TIERS`` (conversations.open, users.info, …) at its tier's floor.
        Off until called: other tests post freely."""
        self.channel_limit("chat.postMessage", burst=burst)
        if workspace_per_second is not None:
            self.rate_limit("chat.postMessage", workspace_per_second)
        for method in slack_limits.METHOD_TIERS:
            self.tier_limit(method)

    def ratelimited(self, method: str | None = None, *, scope: str | None = None) -> int:
        """How many 429s were sent for one method or all: queued or from a limiter, or with ``scope`` only
        those of that limiter ("channel", "workspace", "tier")."""
        if scope is not None:
            return sum(n for (m, s), n in self.limits.refused.items() if s == scope and method in (None, m))
        return sum(n for (m, status), n in self.status_counts.items()
                   if status == 429 and method in (None, m))

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[JsonDict]:
        """Messages currently in ``channel`` (a user id means their DM), oldest first."""
        return list(self._history.get(self._resolve_channel(channel), []))

    async def wait_for_calls(self, method: str, count: int = 1) -> list[RecordedCall]:
        """Wait until ``method`` was called ``count`` times: handlers often run after the ack."""
        async with asyncio.timeout(self.timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
        return self.calls_to(method)

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; it is re-checked after every request the fake receives."""
        async with asyncio.timeout(self.timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def next_response(self, response_id: str | None = None) -> JsonDict:
        """The next body POSTed to ``/response/<response_id>`` (any id if None) not yet returned."""
        def bodies() -> list[JsonDict]:
            return [b for rid, b in self.responses if response_id in (None, rid)]

        async with asyncio.timeout(self.timeout), self._changed:
            await self._changed.wait_for(lambda: len(bodies()) > self._consumed[response_id])
        self._consumed[response_id] += 1
        return bodies()[self._consumed[response_id] - 1]

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params: JsonDict = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        for key in _JSON_FIELDS:
            if isinstance(params.get(key), str) and params[key][:1] in ("{", "["):
                params[key] = json.loads(params[key])
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else params.pop("token", None)
        call = RecordedCall(method, params, request.method, monotonic(), token)
        self.calls.append(call)
        fault = self.faults.before(method, params)
        if fault is not None:
            reply = self._fault_reply(fault)
        else:
            reply = self._scope_refusal(call) or self._programmed_reply(call) or self._default_reply(call)
            ok = reply.status == 200 and (reply.body is None or reply.body.get("ok") is True)
            fault = self.faults.after(method, params) if ok else None
            reply = self._fault_reply(fault) if fault is not None else reply
        self.status_counts[(method, reply.status)] += 1
        async with self._changed:
            self._changed.notify_all()
        if reply.status == 0:
            return _drop(request)
        body = reply.body
        if body is None:
            error = "ratelimited" if reply.status == 429 else "fatal_error"
            body = {"ok": reply.status == 200, **({} if reply.status == 200 else {"error": error})}
        return web.json_response(dict(body), status=reply.status, headers=dict(reply.headers))

    @staticmethod
    def _fault_reply(fault: Fault) -> Reply:
        """What an armed fault answers; status 0 means no answer at all (the connection is closed)."""
        status = fault.answer_status
        if fault.kind is FaultKind.RATE_LIMITED:
            return Reply(429, {"ok": False, "error": "ratelimited"},
                         {"Retry-After": str(max(0, math.ceil(fault.retry_after)))})
        error = "service_unavailable" if status == 503 else "fatal_error"
        return Reply(status, None if status == 0 else {"ok": False, "error": error})

    def _programmed_reply(self, call: RecordedCall) -> Reply | None:
        if self._queued[call.method]:
            return self._queued[call.method].popleft()
        refused = self.limits.check(call.method, self._limit_channel(call), monotonic())
        if refused is not None:
            return Reply(429, {"ok": False, "error": "ratelimited"},
                         {"Retry-After": slack_limits.retry_after_header(refused[1])})
        for hook in self._hooks:
            if (reply := hook(call)) is not None:
                return reply
        return None

    def _limit_channel(self, call: RecordedCall) -> str:
        """The channel a per-channel limit counts a call against: a user id posts to their DM channel."""
        channel = str(call.params.get("channel") or "")
        return self._resolve_channel(channel) if channel else ""

    def _scope_refusal(self, call: RecordedCall) -> Reply | None:
        """``missing_scope`` as Slack answers it, when the installed scopes lack what the method needs."""
        if self.scopes is None or not hasattr(self, "_api_" + call.method.replace(".", "_")):
            return None
        channel_id = call.params.get("channel")
        channel = self.channels.get(self._resolve_channel(str(channel_id))) if channel_id else None
        needed = slack_limits.needed_scope(call.method, channel)
        if needed is None or set(needed.split(",")) & self.scopes:
            return None
        return Reply(body={"ok": False, "error": "missing_scope", "needed": needed,
                           "provided": ",".join(sorted(self.scopes))})

    def _default_reply(self, call: RecordedCall) -> Reply:
        handler = getattr(self, "_api_" + call.method.replace(".", "_"), None)
        if handler is None:
            return Reply(body={"ok": False, "error": "unknown_method"})
        try:
            result: JsonDict = handler(dict(call.params))
        except SlackApiFailure as failure:
            return Reply(body={"ok": False, "error": str(failure), **failure.extra})
        return Reply(body={"ok": True, **result})

    def _resolve_channel(self, channel: str) -> str:
        return self.dm_channel(channel) if channel[:1] in ("U", "W") else channel

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1700000000 + n // 1_000_000}.{n % 1_000_000:06d}"

    def _find_message(self, params: JsonDict) -> JsonDict:
        for message in self._history.get(self._resolve_channel(str(params.get("channel", ""))), []):
            if message["ts"] == params.get("ts"):
                return message
        raise SlackApiFailure("message_not_found")

    def _api_auth_test(self, params: JsonDict) -> JsonDict:
        return {"url": "https://fake.slack.com/", "team": "Fake Team", "user": "bot",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": "B0FAKE",
                "is_enterprise_install": False}

    def _api_apps_connections_open(self, params: JsonDict) -> JsonDict:
        return {"url": f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}"}

    @staticmethod
    def _check_message(params: JsonDict) -> None:
        refusal = slack_limits.message_error(params)
        if refusal is not None:
            raise SlackApiFailure(refusal["error"], {k: v for k, v in refusal.items() if k not in ("ok", "error")})

    @staticmethod
    def _check_view(view: Any) -> None:
        refusal = slack_limits.view_error(view)
        if refusal is not None:
            raise SlackApiFailure(refusal["error"], {k: v for k, v in refusal.items() if k not in ("ok", "error")})

    def _api_chat_postMessage(self, params: JsonDict) -> JsonDict:
        self._check_message(params)
        raw_channel = str(params.get("channel", ""))
        if not raw_channel:
            raise SlackApiFailure("channel_not_found")
        channel = self._resolve_channel(raw_channel)
        dm_user = self.channels.get(channel, {}).get("user")
        if dm_user in self._dm_failures:
            raise SlackApiFailure(self._dm_failures[dm_user])
        if self.channels.get(channel, {}).get("is_archived"):
            raise SlackApiFailure("is_archived")
        message: JsonDict = {"type": "message", "user": self.bot_user_id, "bot_id": "B0FAKE",
                             "text": params.get("text", ""), "ts": self._next_ts()}
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if key in params:
                message[key] = params[key]
        self._history[channel].append(message)
        return {"channel": channel, "ts": message["ts"], "message": message}

    def _api_chat_update(self, params: JsonDict) -> JsonDict:
        self._check_message(params)
        message = self._find_message(params)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"channel": self._resolve_channel(str(params["channel"])), "ts": message["ts"],
                "text": message.get("text", ""), "message": message}

    def _api_chat_delete(self, params: JsonDict) -> JsonDict:
        message = self._find_message(params)
        channel = self._resolve_channel(str(params["channel"]))
        self._history[channel].remove(message)
        return {"channel": channel, "ts": message["ts"]}

    def _api_chat_postEphemeral(self, params: JsonDict) -> JsonDict:
        self._check_message(params)
        ts = self._next_ts()
        self.ephemerals.append({**params, "message_ts": ts})
        return {"message_ts": ts}

    def _api_conversations_open(self, params: JsonDict) -> JsonDict:
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if not users:
            raise SlackApiFailure("users_list_not_supplied")
        for user in users:
            if user in self._dm_failures:
                raise SlackApiFailure(self._dm_failures[user])
        return {"channel": {"id": self.dm_channel(users[0])}}

    def _api_conversations_history(self, params: JsonDict) -> JsonDict:
        messages = self._history.get(str(params.get("channel", "")), [])
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or math.inf)
        limit = int(params.get("limit") or 100)
        with_metadata = _truthy(params.get("include_all_metadata"))
        selected = [m for m in reversed(messages) if oldest < float(m["ts"]) < latest][:limit]
        out = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in selected]
        return {"messages": out, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _api_conversations_info(self, params: JsonDict) -> JsonDict:
        channel = self.channels.get(str(params.get("channel", "")))
        if channel is None:
            raise SlackApiFailure("channel_not_found")
        return {"channel": channel}

    def _api_users_info(self, params: JsonDict) -> JsonDict:
        user = self.users.get(str(params.get("user", "")))
        if user is None:
            raise SlackApiFailure("user_not_found")
        return {"user": user}

    def _api_usergroups_users_list(self, params: JsonDict) -> JsonDict:
        users = self.usergroups.get(str(params.get("usergroup", "")))
        if users is None:
            raise SlackApiFailure("no_such_subteam")
        return {"users": list(users)}

    def _api_views_open(self, params: JsonDict) -> JsonDict:
        if not params.get("trigger_id"):
            raise SlackApiFailure("invalid_trigger_id")
        self._check_view(params.get("view"))
        view_id = f"V{next(self._ids):08d}"
        self.views[view_id] = {**params["view"], "id": view_id, "hash": uuid.uuid4().hex}
        return {"view": self.views[view_id]}

    def _api_views_update(self, params: JsonDict) -> JsonDict:
        view_id = str(params.get("view_id", ""))
        if view_id not in self.views:
            raise SlackApiFailure("not_found")
        self._check_view(params.get("view"))
        self.views[view_id] = {**params["view"], "id": view_id, "hash": uuid.uuid4().hex}
        return {"view": self.views[view_id]}

    def _api_files_getUploadURLExternal(self, params: JsonDict) -> JsonDict:
        if not params.get("filename") or not str(params.get("length") or "").isdigit():
            raise SlackApiFailure("invalid_arguments")
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = {"id": file_id, "name": str(params["filename"]), "length": int(params["length"]),
                               "data": None}
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, params: JsonDict) -> JsonDict:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise SlackApiFailure("invalid_arguments")
        completed = []
        for item in files:
            stored = self.files.get(str(item.get("id")))
            if stored is None or stored["data"] is None:
                raise SlackApiFailure("file_not_found")
            stored["title"] = item.get("title") or stored["name"]
            completed.append({k: v for k, v in stored.items() if k != "data"})
        if params.get("channel_id"):
            channel = self._resolve_channel(str(params["channel_id"]))
            if channel not in self.channels:
                raise SlackApiFailure("channel_not_found")
            self._history[channel].append({"type": "message", "user": self.bot_user_id, "ts": self._next_ts(),
                                           "text": params.get("initial_comment", ""), "files": completed})
        return {"files": completed}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return web.Response(status=404, text="not found")
        stored["data"] = await request.read()
        return web.Response(text=f"OK - {len(stored['data'])}")

    def file_data(self, channel: str) -> list[tuple[str, bytes]]:
        """(name, bytes) of every file shared in ``channel`` (a user id means their DM), oldest first."""
        return [(f["name"], bytes(self.files[f["id"]]["data"])) for m in self.messages(channel)
                for f in m.get("files", [])]

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        body = await request.json()
        accepted = sum(1 for posted, _ in self.responses if posted == rid)
        refusal = slack_limits.message_error(body)
        if rid in self._expired_responses:
            status, why = 404, "expired_url"
        elif accepted >= slack_limits.RESPONSE_URL_POSTS:
            status, why = 404, "used_url"
        elif refusal is not None:
            status, why = 400, str(refusal["error"])
        else:
            status, why = 200, ""
        if status == 200:
            self.responses.append((rid, body))
        else:
            self.refused_responses.append((rid, body, why))
        async with self._changed:
            self._changed.notify_all()
        return web.Response(status=status, text=why or "ok")

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": self.app_id}, "debug_info": {"host": "fake"}})
        self._sockets.append(ws)
        async with self._changed:
            self._changed.notify_all()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if "envelope_id" in data:
                    ack = Ack(data["envelope_id"], data.get("payload"))
                    self.acks.append(ack)
                    # The ack answers the envelope sent on this connection: one envelope id may be out on several.
                    waiter = self._ack_waiters.pop((ack.envelope_id, id(ws)), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(ack)
        finally:
            self._sockets.remove(ws)
        return ws

    @asynccontextmanager
    async def socket_mode(self, app: AsyncApp, app_token: str = "xapp-test") -> AsyncIterator[None]:
        """Connect ``app`` over Socket Mode and close it before the fake stops.

        Closing order matters: an unclosed SocketModeClient keeps reconnecting and its tasks
        swallow cancellation, so event-loop teardown hangs (the test hangs instead of failing).
        """
        handler = AsyncSocketModeHandler(app, app_token=app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        try:
            yield
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]

    async def send_envelope(self, envelope_type: str, payload: JsonDict, *,
                            accepts_response_payload: bool = False) -> JsonDict:
        """Push an envelope to the connected app; return the ack's payload ({} if it had none).

        Raises TimeoutError if no app is connected or no ack comes: Bolt sends no ack at all for
        a request no listener matched (it logs a 404).
        """
        return await self.deliver(self.envelope(envelope_type, payload,
                                                accepts_response_payload=accepts_response_payload))

    @staticmethod
    def envelope(envelope_type: str, payload: JsonDict, *, accepts_response_payload: bool = False) -> JsonDict:
        """A Socket Mode envelope around ``payload``, as Slack first delivers it (``retry_attempt`` 0)."""
        return {"envelope_id": str(uuid.uuid4()), "payload": payload, "type": envelope_type,
                "accepts_response_payload": accepts_response_payload, "retry_attempt": 0, "retry_reason": ""}

    @staticmethod
    def retry_of(envelope: JsonDict, *, same_envelope_id: bool) -> JsonDict:
        """Slack's redelivery of an envelope that was not acknowledged in time: the same payload, ``retry_attempt``
        one more, reason ``timeout``; its envelope id kept or new (Slack has been seen doing both)."""
        return {**envelope, "envelope_id": envelope["envelope_id"] if same_envelope_id else str(uuid.uuid4()),
                "retry_attempt": int(envelope["retry_attempt"]) + 1, "retry_reason": "timeout"}

    async def wait_for_connections(self, count: int) -> None:
        """Wait until ``count`` Socket Mode connections are open (several apps: several processes)."""
        async with asyncio.timeout(self.timeout), self._changed:
            await self._changed.wait_for(lambda: len(self._sockets) >= count)

    async def deliver(self, envelope: JsonDict, *, connection: int = -1) -> JsonDict:
        """Push ``envelope`` down one open connection (by the order they opened; the newest by default), as Slack
        does with each envelope when an app holds several; return the ack's payload ({} if it had none).

        Raises TimeoutError if no app is connected or no ack comes on that connection.
        """
        async with asyncio.timeout(self.timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._sockets))
            ws = self._sockets[connection]
            key = (str(envelope["envelope_id"]), id(ws))
            waiter: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
            self._ack_waiters[key] = waiter
            try:
                self.envelopes.append(envelope)
                await ws.send_json(envelope)
                ack = await waiter
            finally:
                self._ack_waiters.pop(key, None)
        payload = dict(ack.payload or {})
        if payload.get("response_action") in ("update", "push"):
            problems = slack_limits.view_problems(payload.get("view"))
            if problems:
                raise SlackRefused(f"Slack would refuse the view in this ack: {problems}")
        return payload

    def _interaction_base(self, user_id: str, kind: str) -> JsonDict:
        n = next(self._ids)
        return {"type": kind, "token": "fake-verification-token", "api_app_id": self.app_id,
                "team": {"id": self.team_id, "domain": "fake"}, "enterprise": None,
                "is_enterprise_install": False, "trigger_id": f"{n}.{n}.faketrigger",
                "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(),
                         "team_id": self.team_id}}

    def slash_command_payload(self, *, command: str, text: str = "", user_id: str = "U1",
                              channel_id: str = "C1", channel_name: str = "general") -> JsonDict:
        """A realistic slash command payload; also usable as an HTTP-mode form via slash_command_form."""
        n = next(self._ids)
        return {"token": "fake-verification-token", "team_id": self.team_id, "team_domain": "fake",
                "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id,
                "user_name": user_id.lower(), "command": command, "text": text,
                "api_app_id": self.app_id, "is_enterprise_install": "false",
                "response_url": f"{self.base_url}/response/{n}", "trigger_id": f"{n}.{n}.faketrigger"}

    def block_actions_payload(self, *, user_id: str, action_id: str, value: str = "",
                              block_id: str = "b1", channel_id: str = "C1",
                              message_ts: str = "1700000000.000100") -> JsonDict:
        payload = self._interaction_base(user_id, "block_actions")
        payload.update({
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                          "is_ephemeral": False},
            "channel": {"id": channel_id, "name": channel_id.lower()},
            "message": {"type": "message", "ts": message_ts, "text": "", "user": self.bot_user_id},
            "response_url": f"{self.base_url}/response/{next(self._ids)}",
            "state": {"values": {}},
            "actions": [{"type": "button", "action_id": action_id, "block_id": block_id, "value": value,
                         "text": {"type": "plain_text", "text": value or action_id},
                         "action_ts": self._next_ts()}],
        })
        return payload

    def view_submission_payload(self, *, user_id: str, callback_id: str,
                                values: Mapping[str, Any], private_metadata: str = "",
                                view_id: str = "V0FAKE") -> JsonDict:
        payload = self._interaction_base(user_id, "view_submission")
        payload.update({"response_urls": [], "view": {
            "id": view_id, "team_id": self.team_id, "type": "modal", "callback_id": callback_id,
            "private_metadata": private_metadata, "state": {"values": dict(values)},
            "hash": uuid.uuid4().hex, "title": {"type": "plain_text", "text": "Fake"},
            "blocks": [], "app_id": self.app_id, "bot_id": "B0FAKE"}})
        return payload

    async def send_slash_command(self, *, command: str, text: str = "", user_id: str = "U1",
                                 channel_id: str = "C1") -> JsonDict:
        """Run a slash command over Socket Mode; the response_url is in ``fake.envelopes[-1]``."""
        payload = self.slash_command_payload(command=command, text=text, user_id=user_id,
                                             channel_id=channel_id)
        return await self.send_envelope("slash_commands", payload, accepts_response_payload=True)

    async def send_block_action(self, *, user_id: str, action_id: str, value: str = "",
                                block_id: str = "b1", channel_id: str = "C1",
                                message_ts: str = "1700000000.000100") -> JsonDict:
        payload = self.block_actions_payload(user_id=user_id, action_id=action_id, value=value,
                                             block_id=block_id, channel_id=channel_id,
                                             message_ts=message_ts)
        return await self.send_envelope("interactive", payload)

    async def send_view_submission(self, *, user_id: str, callback_id: str,
                                   values: Mapping[str, Any], private_metadata: str = "") -> JsonDict:
        payload = self.view_submission_payload(user_id=user_id, callback_id=callback_id, values=values,
                                               private_metadata=private_metadata)
        return await self.send_envelope("interactive", payload, accepts_response_payload=True)

    async def send_event(self, event: JsonDict) -> JsonDict:
        """Deliver an Events API event (e.g. a DM ``message``) over Socket Mode."""
        payload = {"token": "fake-verification-token", "team_id": self.team_id, "api_app_id": self.app_id,
                   "event": event, "type": "event_callback", "event_id": f"Ev{next(self._ids):08d}",
                   "event_time": 1700000000,
                   "authorizations": [{"team_id": self.team_id, "user_id": self.bot_user_id,
                                       "is_bot": True, "is_enterprise_install": False}]}
        return await self.send_envelope("events_api", payload)
