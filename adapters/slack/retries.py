"""Which Web API calls slack_sdk may send again by itself, and the two clients built on that.

slack_sdk's default retry handler re-sends *any* call whose connection dropped. For ``chat.postMessage`` that is
a second post whenever the connection dropped after Slack stored the first — below the delivery worker, so no
read-back can prevent it. And ``AsyncRateLimitErrorRetryHandler`` sleeps out ``Retry-After`` inside the call,
holding whoever made it. So here:

- a dropped connection is retried once, at once, only for a method that changes nothing a person can see
  (:data:`SAFE_TO_REPEAT`: reads, and ``conversations.open``, which returns the same DM every time);
- :func:`delivery_client` — what the delivery adapter posts through — retries nothing else and never waits out
  a 429: the error reaches the worker, which paces Slack alone and, for a post that may have landed, reads the
  conversation back before posting again;
- :func:`interactive_client` — Bolt, the command handlers, replies and the directory — also retries a reply
  post (:data:`REPLY_POSTS`) once after a dropped connection, and once after a short 429 (at most
  :data:`REPLY_RATE_LIMIT_WAIT` seconds). Why replies differ: the person who typed the command is waiting for
  that answer, and there is nothing to read back (a reply is not an outbox row). A rare second copy of an answer
  in their own DM is plainly the same answer; a missing one looks like the bot ignored them, and they run the
  command again. Slack's own ``response_url`` posts behave the same way (Bolt's webhook client retries a dropped
  connection once).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import ClientOSError, ServerConnectionError, ServerDisconnectedError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.settings import SlackSettings

SAFE_TO_REPEAT = frozenset({
    "apps.connections.open", "auth.test", "bots.info", "conversations.history", "conversations.info",
    "conversations.members", "conversations.open", "conversations.replies", "team.info", "usergroups.list",
    "usergroups.users.list", "users.info", "users.lookupByEmail",
})
REPLY_POSTS = frozenset({"chat.postMessage"})
REPLY_RATE_LIMIT_WAIT = 10.0
CONNECTION_ERRORS = (ServerConnectionError, ServerDisconnectedError, ClientOSError)
# A dropped connection is usually a stale keep-alive connection: a new one works at once.
_RETRY_INTERVAL = FixedValueRetryIntervalCalculator(0.1)


def method_of(url: str) -> str:
    """The Web API method a request calls (``https://slack.com/api/chat.postMessage`` → ``chat.postMessage``)."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


class ConnectionRetry(AsyncRetryHandler):
    """Retries a call once after a dropped connection, only when its method is one of ``methods``."""

    def __init__(self, methods: frozenset[str]) -> None:
        super().__init__(max_retry_count=1, interval_calculator=_RETRY_INTERVAL)
        self.methods = methods

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        return isinstance(error, CONNECTION_ERRORS) and method_of(request.url) in self.methods


class ShortRateLimitRetry(AsyncRetryHandler):
    """Retries a 429 of one of ``methods`` once, after its ``Retry-After``, when that is at most ``max_wait``
    seconds; a longer wait (or another method's 429) reaches the caller."""

    def __init__(self, methods: frozenset[str], max_wait: float) -> None:
        super().__init__(max_retry_count=1)
        self.methods = methods
        self.max_wait = max_wait

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        if response is None or response.status_code != 429 or method_of(request.url) not in self.methods:
            return False
        wait = retry_after(response)
        return wait is not None and wait <= self.max_wait

    async def prepare_for_next_attempt_async(self, *, state: RetryState, request: HttpRequest,
                                             response: HttpResponse | None = None,
                                             error: Exception | None = None) -> None:
        state.next_attempt_requested = True
        await asyncio.sleep(retry_after(response) or 0.0)
        state.increment_current_attempt()


def retry_after(response: HttpResponse | None) -> float | None:
    """Slack's ``Retry-After`` in seconds; ``None`` when absent or unreadable."""
    if response is None:
        return None
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) else values
            try:
                return float(value)
            except ValueError:
                return None
    return None


def delivery_client(slack: SlackSettings) -> AsyncWebClient:
    """What the delivery adapter sends through: no re-send of a post, no waiting out a rate limit."""
    return _client(slack, [ConnectionRetry(SAFE_TO_REPEAT)])


def interactive_client(slack: SlackSettings) -> AsyncWebClient:
    """What Bolt, the handlers and replies use: replies are retried once (see the module's docstring)."""
    return _client(slack, [ConnectionRetry(SAFE_TO_REPEAT | REPLY_POSTS),
                           ShortRateLimitRetry(REPLY_POSTS, REPLY_RATE_LIMIT_WAIT)])


def _client(slack: SlackSettings, handlers: list[AsyncRetryHandler]) -> AsyncWebClient:
    assert slack.bot_token is not None
    return AsyncWebClient(token=slack.bot_token.get_secret_value(), base_url=slack.api_base_url,
                          retry_handlers=handlers)
