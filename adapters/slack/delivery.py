"""The Slack :class:`~bot.ports.PlatformAdapter`: DMs, channel posts, edits and deletes.

Every post carries message metadata ``{"event_type": "coalition_delivery", "event_payload":
{"delivery_key", "part", "parts"}}``. chat.postMessage has no idempotency key, so a delivery whose earlier
attempt may have landed (left ``sending`` by a crash, or cut off by a 5xx or a dropped connection after Slack
received it) is *suspect*; with ``dedupe_after_crash`` (the default) the adapter reads the conversation's
recent history for that metadata before posting, and records the parts that exist instead of posting them
twice. The client it posts through (:func:`adapters.slack.retries.delivery_client`) never re-sends a post by
itself, so every second attempt passes through that read-back.

Slack's answers map onto the worker's two error kinds: rate limits, 5xx and network failures are worth
retrying — a 429 with Slack's ``Retry-After`` and ``rate_limited``, a 5xx or a dropped connection on a post
with ``may_have_landed``; a missing or archived channel, or a person who is gone or cannot be messaged, never
will be — the latter also marks the person's DMs closed.

Slack limits each Web API method on its own (its tier, per workspace). A 429 from conversations.open (opening
a DM), conversations.history (the read-back), chat.update or chat.delete limits that method only: it carries the
method as its ``route``, the adapter refuses further calls to it until Retry-After has passed (no request), and
the worker defers just that row, so posts to DMs already open and to channels go on. A chat.postMessage 429
stays platform-wide: Slack does not say whether the workspace or the channel was over, and the per-channel
bucket here keeps every channel under its one a second, so it is the workspace.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NoReturn, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.route_limits import RouteLimits
from adapters.slack.blocks import render_slack_blocks
from adapters.slack.channels import channel_is_public
from adapters.slack.files import upload_or_reason
from adapters.slack.identity import SlackDirectory
from bot.delivery.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from bot.delivery.model import SentMessage
from bot.delivery.pacing import TokenBucket
from bot.i18n import _
from bot.messages import RenderedMessage
from bot.model import Identity, IdentityRecord, Role

log = logging.getLogger(__name__)

PLATFORM = "slack"
METADATA_EVENT = "coalition_delivery"
HISTORY_LIMIT = 100
OPEN_DM = "conversations.open"
HISTORY = "conversations.history"
UPDATE = "chat.update"
DELETE = "chat.delete"
RATE_LIMITED = _("Slack: rate limited.")
OPENS_PER_SECOND = 48 / 60
"""Opening DMs ahead of time (:meth:`SlackDelivery.open_direct`) stays under conversations.open's Tier 3 floor
of 50 a minute, burst included."""
_T = TypeVar("_T")

TRANSIENT_ERRORS = frozenset({"ratelimited", "fatal_error", "internal_error", "service_unavailable",
                              "request_timeout", "team_added_to_org"})
# Transient answers that say the post was not taken: the retry need not read the conversation back.
NOT_STORED_ERRORS = frozenset({"ratelimited", "team_added_to_org"})
CHANNEL_ERRORS = {
    "channel_not_found": _("Slack: the channel does not exist, or the bot cannot see it."),
    "not_in_channel": _("Slack: the bot is not a member of the channel; invite it with /invite."),
    "is_archived": _("Slack: the channel is archived."),
}
PERSON_ERRORS = {
    "user_not_found": _("Slack: this person is no longer in the workspace."),
    "account_inactive": _("Slack: this person's account is deactivated."),
    "user_disabled": _("Slack: this person's account is deactivated."),
    "cannot_dm": _("Slack: this person cannot receive direct messages from the bot."),
    "cannot_dm_bot": _("Slack: this person cannot receive direct messages from the bot."),
    "messages_tab_disabled": _("Slack: this person cannot receive direct messages from the bot."),
}


def delivery_error(error: Exception, *, direct: bool, posting: bool = False,
                   route: str | None = None) -> DeliveryError | None:
    """The worker's view of a failed Web API call; ``None`` for an error this module does not know.

    ``posting``: the call was a chat.postMessage, so a 5xx, one of Slack's "something went wrong on our side"
    codes or a broken connection may have come after Slack stored it (``may_have_landed``). ``route``: the
    call's method when its 429 limits that method alone (not chat.postMessage: see the module docstring).
    """
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        code = str(error.response.get("error") or f"http {status}")
        if status == 429 or code == "ratelimited":
            header = error.response.headers.get("Retry-After") or error.response.headers.get("retry-after")
            value = header[0] if isinstance(header, list) else header
            return TransientDeliveryError(RATE_LIMITED, _seconds(value), rate_limited=True, route=route)
        if status >= 500 or code in TRANSIENT_ERRORS:
            landed = posting and code not in NOT_STORED_ERRORS
            return TransientDeliveryError(_("Slack: temporary error ({error}).", error=code), may_have_landed=landed)
        if code in CHANNEL_ERRORS:
            return PermanentDeliveryError(CHANNEL_ERRORS[code])
        if direct and code in PERSON_ERRORS:
            return PermanentDeliveryError(PERSON_ERRORS[code], dm_closed=True)
        return PermanentDeliveryError(_("Slack refused the message: {error}.", error=code))
    if isinstance(error, aiohttp.ClientError | TimeoutError | OSError):
        return TransientDeliveryError(_("Network error ({error}).", error=type(error).__name__),
                                      may_have_landed=posting)
    return None


def _seconds(value: object) -> float | None:
    try:
        return float(str(value)) if value else None
    except ValueError:
        return None


class SlackDelivery:
    """Posts rendered messages; paces each channel at about ``channel_rate`` messages a second.

    The workspace-wide budget is the worker's (adaptive) token bucket for ``slack``; the per-channel bucket here
    keeps the parts of a split message and a busy channel under Slack's one-message-a-second guidance, with the
    short bursts Slack allows (``channel_burst``). Each DM is a channel of its own, so DMs go out in parallel.

    ``remember_dm`` stores a DM channel id as soon as conversations.open gave it (``PeopleStore.set_dm_channel``),
    and ``forget_dm`` clears one Slack no longer knows, so conversations.open is called once per person, across
    restarts, and again only for a channel that went stale.
    """

    def __init__(self, client: AsyncWebClient, *, dedupe_after_crash: bool = True, channel_rate: float = 1.0,
                 channel_burst: float = 3.0, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] | None = None,
                 directory: SlackDirectory | None = None,
                 remember_dm: Callable[[Identity, str], Awaitable[None]] | None = None,
                 forget_dm: Callable[[Identity, str], Awaitable[bool]] | None = None) -> None:
        self._client = client
        self._remember_dm = remember_dm
        self._forget_dm = forget_dm
        kwargs: dict[str, Any] = {"monotonic": monotonic} | ({"sleep": sleep} if sleep is not None else {})
        self._open_pace = TokenBucket(OPENS_PER_SECOND, 1.0, **kwargs)
        self._directory = directory
        self._dedupe = dedupe_after_crash
        self._channel_rate = channel_rate
        self._channel_burst = channel_burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._channel_buckets: dict[str, TokenBucket] = {}
        self._share = 1.0
        self._limits = RouteLimits(PLATFORM, RATE_LIMITED, monotonic=monotonic)
        self._dm_channels: dict[str, str] = {}
        self._suspect: set[str] = set()

    @property
    def platform(self) -> str:
        return PLATFORM

    async def channel_is_public(self, channel_id: str) -> bool | None:
        """Whether people other than members can read the channel (``setup topic-channel`` refuses one for a
        topic that is not public); see :mod:`adapters.slack.channels` — it fails closed."""
        return await channel_is_public(self._client, channel_id)

    async def current_role(self, external_id: str) -> Role | None:
        """What Slack says now (users.info, cached for minutes), for the worker's access re-check."""
        if self._directory is None:
            return None
        return await self._directory.current_role(external_id)

    def expect_in_flight(self, delivery_keys: Iterable[str]) -> None:
        """Deliveries whose earlier attempt may have been posted: read the conversation back before posting them.

        The worker calls this before it retries a row left ``sending`` by a crash or flagged
        ``may_have_landed``. The adapter also remembers, by itself, the keys of its own attempts that failed
        that way in this process; this is for what it cannot know (another run, a row the worker recovered).
        A key is forgotten once its delivery is recorded sent.
        """
        self._suspect.update(delivery_keys)

    # --- PlatformAdapter ---------------------------------------------------------------------------

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        """DM through the stored DM channel, opening it first when there is none (normally done ahead of time:
        :meth:`open_direct`). A stored channel Slack no longer knows is forgotten and the DM reopened, once."""
        identity = recipient.identity
        stored = recipient.dm_channel_id or self._dm_channels.get(identity.external_id)
        channel = stored or await self._open_and_keep(identity)
        try:
            return await self._post(channel, message, delivery_key, direct=True)
        except PermanentDeliveryError as error:
            cause = error.__cause__
            if stored is None or not (isinstance(cause, SlackApiError)
                                      and cause.response.get("error") == "channel_not_found"):
                raise
        self._dm_channels.pop(identity.external_id, None)
        if self._forget_dm is not None:
            await self._forget_dm(identity, stored)
        return await self._post(await self._open_and_keep(identity), message, delivery_key, direct=True)

    async def open_direct(self, identity: Identity) -> str:
        """Open the DM with ``identity`` ahead of time, paced under conversations.open's per-minute limit
        (:data:`OPENS_PER_SECOND`); returns the channel id (not stored here: the caller stores it)."""
        await self._open_pace.acquire()
        return await self._open(identity)

    async def _open(self, identity: Identity) -> str:
        user_id = identity.external_id
        try:
            response = await self._on_route(OPEN_DM, functools.partial(self._client.conversations_open,
                                                                       users=user_id))
        except Exception as error:
            _fail(error, direct=True)
        channel = str(response["channel"]["id"])
        self._dm_channels[user_id] = channel
        return channel

    async def _open_and_keep(self, identity: Identity) -> str:
        channel = await self._open(identity)
        if self._remember_dm is not None:
            await self._remember_dm(identity, channel)
        return channel

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        return await self._post(channel_id, message, delivery_key, direct=False)

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
        """Update each part in place; surplus old parts are deleted, surplus new parts posted."""
        parts = render_slack_blocks(message)
        try:
            for ts, part in zip(sent.message_ids, parts, strict=False):
                await self._on_route(UPDATE, functools.partial(self._client.chat_update, channel=sent.channel_id,
                                                               ts=ts, text=part.text, blocks=list(part.blocks)))
            for ts in sent.message_ids[len(parts):]:
                await self._delete_one(sent.channel_id, ts)
            for part in parts[len(sent.message_ids):]:
                # Not recorded in ``sent``: the protocol's edit returns nothing; a later edit leaves it be.
                await self._client.chat_postMessage(channel=sent.channel_id, text=part.text,
                                                    blocks=list(part.blocks))
        except Exception as error:
            _fail(error, direct=False)

    async def delete(self, sent: SentMessage) -> None:
        try:
            for ts in sent.message_ids:
                await self._delete_one(sent.channel_id, ts)
        except Exception as error:
            _fail(error, direct=False)

    # --- internals ---------------------------------------------------------------------------------

    async def _on_route(self, route: str, call: Callable[[], Awaitable[_T]]) -> _T:
        """Call a method Slack limits on its own: refused here while its limit lasts, and a 429 limits it."""
        self._limits.check(route)
        try:
            return await call()
        except SlackApiError as error:
            mapped = delivery_error(error, direct=False, route=route)
            if isinstance(mapped, TransientDeliveryError) and mapped.route is not None:
                self._limits.note(mapped)
                raise mapped from error
            raise

    async def _delete_one(self, channel: str, ts: str) -> None:
        try:
            await self._on_route(DELETE, functools.partial(self._client.chat_delete, channel=channel, ts=ts))
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise

    async def _post(self, channel: str, message: RenderedMessage, key: str, *, direct: bool) -> SentMessage:
        parts = render_slack_blocks(message)
        existing: dict[int, str] = {}
        if key in self._suspect and not self._dedupe:
            log.info("delivery %s may already be in %s; dedupe_after_crash is off, so it is posted again", key,
                     channel)
        elif key in self._suspect:
            existing = await self._existing_parts(channel, key, direct=direct)
            if existing:
                log.info("delivery %s: %d of %d parts were already posted; not posting them again", key,
                         len(existing), len(parts))
        timestamps: list[str] = []
        posted_channel = channel
        for index, part in enumerate(parts):
            if index in existing:
                timestamps.append(existing[index])
                continue
            try:
                await self._pace(channel)
                response = await self._client.chat_postMessage(
                    channel=channel, text=part.text, blocks=list(part.blocks), unfurl_links=False,
                    metadata={"event_type": METADATA_EVENT,
                              "event_payload": {"delivery_key": key, "part": index, "parts": len(parts)}})
            except Exception as error:
                mapped = delivery_error(error, direct=direct, posting=True)
                if mapped is None:
                    raise
                if isinstance(mapped, TransientDeliveryError) and (timestamps or existing):
                    mapped.may_have_landed = True  # earlier parts are in the conversation: the retry must see them
                if isinstance(mapped, TransientDeliveryError) and mapped.may_have_landed:
                    self._suspect.add(key)
                raise mapped from error
            posted_channel = str(response.get("channel") or channel)
            timestamps.append(str(response["ts"]))
        if message.attachment is not None:  # a file cannot ride in a message: it follows it, never dropped
            reason = await upload_or_reason(self._client, posted_channel, message.attachment)
            if reason is not None:
                raise PermanentDeliveryError(_("Slack refused the file {file} ({error}), so it could not be sent.",
                                               file=message.attachment.filename, error=reason))
        self._suspect.discard(key)
        return SentMessage(platform=PLATFORM, channel_id=posted_channel, message_ids=tuple(timestamps))

    async def _existing_parts(self, channel: str, key: str, *, direct: bool) -> dict[int, str]:
        try:
            response = await self._on_route(HISTORY, functools.partial(
                self._client.conversations_history, channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True))
        except Exception as error:
            mapped = delivery_error(error, direct=direct)
            if mapped is None:
                raise
            if isinstance(mapped, TransientDeliveryError):
                raise mapped from error
            _warn_unreadable(channel, key, error)
            return {}
        found: dict[int, str] = {}
        for item in response.get("messages") or []:
            metadata: dict[str, Any] = item.get("metadata") or {}
            payload: dict[str, Any] = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("delivery_key") == key:
                found.setdefault(int(payload.get("part") or 0), str(item["ts"]))
        return found

    @property
    def share(self) -> float:
        """This process's share of the workspace's per-channel and conversations.open limits (1 alone)."""
        return self._share

    def set_share(self, share: float) -> None:
        """Several processes post for the workspace: each keeps to ``share`` of a channel's pace and of
        conversations.open's (the workspace budget is shared as the outlet's bucket). A channel's bucket takes the
        share when it is next used: a fan-out makes one per recipient, mostly used once."""
        self._open_pace.set_share(share)
        self._share = share

    async def _pace(self, channel: str) -> None:
        bucket = self._channel_buckets.get(channel)
        if bucket is None:
            kwargs: dict[str, Any] = {"monotonic": self._monotonic}
            if self._sleep is not None:
                kwargs["sleep"] = self._sleep
            bucket = self._channel_buckets[channel] = TokenBucket(self._channel_rate, self._channel_burst, **kwargs)
        if bucket.share != self._share:
            bucket.set_share(self._share)
        await bucket.acquire()


def _fail(error: Exception, *, direct: bool) -> NoReturn:
    mapped = delivery_error(error, direct=direct)
    if mapped is None:
        raise error
    raise mapped from error


def _warn_unreadable(channel: str, key: str, error: Exception) -> None:
    """Say why the read-back could not run — the post that follows may duplicate one already there."""
    code, needed = type(error).__name__, "?"
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or f"http {error.response.status_code}")
        needed = str(error.response.get("needed") or "?")
    if code == "missing_scope":
        log.warning("cannot read the history of %s (the app lacks the %s scope) to look for an earlier copy of "
                    "delivery %s; posting it again, which may duplicate it. Reinstall the Slack app from the "
                    "current manifest (python -m bot slack-manifest).", channel, needed, key)
    else:
        log.warning("cannot read the history of %s (%s) to look for an earlier copy of delivery %s; posting it "
                    "again, which may duplicate it", channel, code, key)
