"""What Slack refuses, for the fake: the bot scope each Web API method needs, and Block Kit's limits.

The fake answers like Slack when an app breaks these: ``missing_scope`` with ``needed`` and ``provided``
for a method the installed scopes do not cover; ``invalid_blocks`` / ``invalid_arguments`` with
``response_metadata.messages`` naming the JSON pointer for a message or a view past a limit;
``msg_too_long`` for a message text past 40,000 characters. The numbers are Slack's documented ones
(Block Kit reference: blocks, block elements, composition objects; views.open; response_url).

And the rate limiters the fake arms on request (``FakeSlack.enforce_slack_limits``): a token bucket per channel
for chat.postMessage, sliding windows for a workspace cap and for the per-minute tiers.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]

# The scope a bot token needs, per method; per conversation kind for the conversations.* readers.
# ``None``: no bot scope (auth.test; apps.connections.open takes the app-level token; views.* only a trigger).
KIND_SCOPES: Mapping[str, Mapping[str, str]] = {
    "conversations.info": {"public": "channels:read", "private": "groups:read", "im": "im:read",
                           "mpim": "mpim:read"},
    "conversations.history": {"public": "channels:history", "private": "groups:history", "im": "im:history",
                              "mpim": "mpim:history"},
}
METHOD_SCOPES: Mapping[str, str | None] = {
    "auth.test": None,
    "apps.connections.open": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "usergroups.users.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "views.open": None,
    "views.update": None,
    "views.push": None,
}

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
TEXT = 3000
FIELD_TEXT = 2000
FIELDS = 10
CONTEXT_ELEMENTS = 10
ACTION_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
CALLBACK_ID = 255
INPUT_LABEL = 2000
INPUT_MAX_LENGTH = 3000
RESPONSE_URL_POSTS = 5


def conversation_kind(channel: Mapping[str, Any]) -> str:
    if channel.get("is_im"):
        return "im"
    if channel.get("is_mpim"):
        return "mpim"
    return "private" if channel.get("is_private") else "public"


def needed_scope(method: str, channel: Mapping[str, Any] | None) -> str | None:
    """The scope ``method`` needs on ``channel`` (``None`` for an unknown channel: any of the kinds')."""
    kinds = KIND_SCOPES.get(method)
    if kinds is not None:
        return kinds[conversation_kind(channel)] if channel is not None else ",".join(kinds.values())
    if method not in METHOD_SCOPES:
        raise KeyError(f"the fake has no scope for {method}: add it to METHOD_SCOPES")
    return METHOD_SCOPES[method]


def wire_length(text: str) -> int:
    """Characters of ``text`` as slack_sdk puts it on the wire: JSON-encoded, non-ASCII as ``\\uXXXX``."""
    return len(json.dumps(text)) - 2


def _text_problems(obj: Any, pointer: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, Mapping) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"must be a text object [json-pointer:{pointer}]"]
    if plain_only and obj.get("type") != "plain_text":
        return [f"must be plain_text [json-pointer:{pointer}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}/text]"]
    return []


def _element_problems(element: Mapping[str, Any], pointer: str) -> list[str]:
    problems: list[str] = []
    if element.get("type") == "button":
        problems += _text_problems(element.get("text"), f"{pointer}/text", BUTTON_TEXT, plain_only=True)
        if len(str(element.get("value", ""))) > BUTTON_VALUE:
            problems.append(f"must be less than {BUTTON_VALUE + 1} characters [json-pointer:{pointer}/value]")
    if len(str(element.get("action_id", ""))) > ACTION_ID:
        problems.append(f"must be less than {ACTION_ID + 1} characters [json-pointer:{pointer}/action_id]")
    return problems


def _block_problems(block: Mapping[str, Any], pointer: str, *, in_view: bool) -> list[str]:
    kind = block.get("type")
    problems: list[str] = []
    if len(str(block.get("block_id", ""))) > BLOCK_ID:
        problems.append(f"must be less than {BLOCK_ID + 1} characters [json-pointer:{pointer}/block_id]")
    if kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append(f"must provide text or fields [json-pointer:{pointer}]")
        if "text" in block:
            problems += _text_problems(block["text"], f"{pointer}/text", TEXT)
        fields = block.get("fields", [])
        if len(fields) > FIELDS:
            problems.append(f"must provide an array of no more than {FIELDS} items [json-pointer:{pointer}/fields]")
        for index, item in enumerate(fields):
            problems += _text_problems(item, f"{pointer}/fields/{index}", FIELD_TEXT)
    elif kind == "context":
        elements = block.get("elements", [])
        if not elements or len(elements) > CONTEXT_ELEMENTS:
            problems.append(f"must provide an array of 1 to {CONTEXT_ELEMENTS} items [json-pointer:{pointer}/elements]")
        for index, element in enumerate(elements):
            problems += _text_problems(element, f"{pointer}/elements/{index}", TEXT)
    elif kind == "actions":
        elements = block.get("elements", [])
        if not elements or len(elements) > ACTION_ELEMENTS:
            problems.append(f"must provide an array of 1 to {ACTION_ELEMENTS} items [json-pointer:{pointer}/elements]")
        for index, element in enumerate(elements):
            problems += _element_problems(element, f"{pointer}/elements/{index}")
    elif kind == "input" and in_view:
        problems += _text_problems(block.get("label"), f"{pointer}/label", INPUT_LABEL, plain_only=True)
        element = block.get("element") or {}
        if int(element.get("max_length") or 0) > INPUT_MAX_LENGTH:
            problems.append(f"must be no more than {INPUT_MAX_LENGTH} [json-pointer:{pointer}/element/max_length]")
    elif kind not in ("divider", "header", "image"):
        problems.append(f"unsupported type: {kind} [json-pointer:{pointer}/type]")
    return problems


def blocks_problems(blocks: Any, pointer: str, *, limit: int, in_view: bool = False) -> list[str]:
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"must provide an array of no more than {limit} items [json-pointer:{pointer}]")
    for index, block in enumerate(blocks):
        problems += _block_problems(block, f"{pointer}/{index}", in_view=in_view)
    return problems


def message_error(params: Mapping[str, Any]) -> JsonDict | None:
    """Slack's answer to a chat.postMessage / chat.update / response_url body past a limit, else ``None``."""
    text = params.get("text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT:
        return {"ok": False, "error": "msg_too_long"}
    if "blocks" in params:
        problems = blocks_problems(params["blocks"], "/blocks", limit=MESSAGE_BLOCKS)
        if problems:
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": [
                f"[ERROR] {problem}" for problem in problems]}}
    elif not text:
        return {"ok": False, "error": "no_text"}
    return None


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, Mapping):
        return ["must be an object [json-pointer:/view]"]
    problems = _text_problems(view.get("title"), "/view/title", VIEW_TITLE, plain_only=True)
    for key in ("submit", "close"):
        if key in view:
            problems += _text_problems(view[key], f"/view/{key}", VIEW_TITLE, plain_only=True)
    metadata = view.get("private_metadata")
    if isinstance(metadata, str) and wire_length(metadata) > PRIVATE_METADATA:
        problems.append(f"must be less than {PRIVATE_METADATA + 1} characters [json-pointer:/view/private_metadata]")
    if len(str(view.get("callback_id", ""))) > CALLBACK_ID:
        problems.append(f"must be less than {CALLBACK_ID + 1} characters [json-pointer:/view/callback_id]")
    problems += blocks_problems(view.get("blocks"), "/view/blocks", limit=VIEW_BLOCKS, in_view=True)
    return problems


def view_error(view: Any) -> JsonDict | None:
    """Slack's answer to views.open / views.update / views.push with a view past a limit, else ``None``."""
    problems = view_problems(view)
    if not problems:
        return None
    return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [
        f"[ERROR] {problem}" for problem in problems]}}


# --- Rate limits ----------------------------------------------------------------------------------------------
# Slack's rate-limits page: chat.postMessage allows "generally one message per second per channel" with short
# bursts, "while also maintaining a workspace-wide limit" it does not publish; other Web API methods are limited
# per minute by tier, per method, per workspace. Refused calls answer 429 with an integer ``Retry-After``.

CHANNEL_POSTS_PER_SECOND = 1.0
CHANNEL_BURST = 3
"""Tokens a channel may spend at once ("short bursts allowed"; Slack gives no number)."""
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
"""The floor of each tier ("Tier 3: 50+ per minute"): a fake at the floor is the strictest real workspace."""
METHOD_TIERS: Mapping[str, int] = {
    "conversations.open": 3,
    "conversations.info": 3,
    "conversations.history": 3,
    "users.info": 4,
    "usergroups.users.list": 2,
    "chat.update": 3,
    "chat.delete": 3,
}


def retry_after_header(wait: float) -> str:
    """Slack's Retry-After: whole seconds, at least 1 (a 429 never says "retry now")."""
    return str(max(1, math.ceil(wait)))


class SlidingWindow:
    """At most ``count`` admitted calls within any ``seconds``-long window (a tier's per-minute limit)."""

    def __init__(self, count: float, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self._admitted: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until a call would be admitted; 0 when it would be admitted now."""
        while self._admitted and now - self._admitted[0] >= self.seconds:
            self._admitted.popleft()
        if len(self._admitted) < self.count:
            return 0.0
        return self.seconds - (now - self._admitted[0])

    def take(self, now: float) -> None:
        self._admitted.append(now)


class TokenBucket:
    """``rate`` tokens a second up to ``burst``: one message a second per channel with short bursts allowed."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = burst, -math.inf

    def _refill(self, now: float) -> None:
        elapsed = now - self._at if self._at != -math.inf else math.inf
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._at = now

    def wait(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1.0


Limiter = SlidingWindow | TokenBucket


@dataclass(frozen=True)
class RateLimit:
    """One limit on one method: ``scope`` names it in the fake's counts ("channel", "workspace", "tier", …);
    ``per_channel`` keeps a separate limiter per ``channel`` parameter."""

    scope: str
    make: Callable[[], Limiter]
    per_channel: bool = False


class RateLimits:
    """Every limit armed on every method; a call is admitted only if all of its method's limits admit it, and
    only an admitted call is counted against them (a refused one spends nothing, as on Slack)."""

    def __init__(self) -> None:
        self._limits: defaultdict[str, list[RateLimit]] = defaultdict(list)
        self._limiters: dict[tuple[str, str, str], Limiter] = {}
        self.refused: Counter[tuple[str, str]] = Counter()
        """429s answered, by (method, scope)."""

    def add(self, method: str, limit: RateLimit) -> None:
        self._limits[method] = [*(old for old in self._limits[method] if old.scope != limit.scope), limit]
        for key in [key for key in self._limiters if key[:2] == (method, limit.scope)]:
            del self._limiters[key]

    def clear(self, method: str | None = None) -> None:
        for name in [method] if method is not None else list(self._limits):
            self._limits.pop(name, None)
            for key in [key for key in self._limiters if key[0] == name]:
                del self._limiters[key]

    def check(self, method: str, channel: str, now: float) -> tuple[str, float] | None:
        """``(scope, seconds to wait)`` of the first limit that refuses the call, else ``None`` (and the call
        is counted against every limit of the method)."""
        limiters = []
        for limit in self._limits.get(method, ()):
            key = (method, limit.scope, channel if limit.per_channel else "")
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = limit.make()
            wait = limiter.wait(now)
            if wait > 0:
                self.refused[(method, limit.scope)] += 1
                return limit.scope, wait
            limiters.append(limiter)
        for limiter in limiters:
            limiter.take(now)
        return None
