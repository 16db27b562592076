"""Socket Mode on several processes: each event, command and interaction is handled once, whichever connection
it reaches.

Why: Slack spreads envelopes over every open Socket Mode connection of the app, and redelivers one that was not
acknowledged within three seconds (``retry_attempt`` counts up), possibly on another connection — another bot
process's. Each process would handle its copy. So before bolt sees an envelope, its key is claimed in the
database every process shares (:class:`SeenDeliveries`); a key claimed already is acknowledged and dropped. The
claim is one insert that only one connection can win, so two copies arriving at once end like two in a row.

The key is what stays the same across a redelivery (:func:`delivery_key`): not the envelope id alone, which Slack
may or may not keep for a retry, nor anything with ``retry_attempt`` in it, which counts up — but the event's own
``event_id`` (Events API: the same on every retry, and documented as unique), or the ``trigger_id`` Slack mints
for every slash command and interaction (each invocation or click gets its own). Only a payload carrying neither
falls back to its envelope id.

Why claim before handling, not after: a slow process is what makes Slack retry, so the usual retry arrives while
the first copy is still being handled; a claim written only afterwards would let the other process run it too.
The price: a process that dies between the claim and the handling has used the delivery up, and Slack's retry of
it is acknowledged, not handled (at most once; the person types the command again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

log = logging.getLogger(__name__)

KEEP = timedelta(hours=1)
"""How long a key is remembered: Slack's last retry comes about five minutes after the first delivery."""
PRUNE_EVERY = timedelta(minutes=10)
"""How often a process forgets the keys older than :data:`KEEP` (each process does; the delete is idempotent)."""


class SeenDeliveries(Protocol):
    """The Socket Mode deliveries handled already, shared by every process on the database
    (``storage/handled_events.py``)."""

    async def first_seen(self, key: str, now: datetime) -> bool:
        """Returns True the first time ``key`` is claimed, by any process; False ever after (until pruned). Raises
        only what the database raises."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forgets the keys first seen before ``before``; returns how many. Raises only what the database
        raises."""
        ...


def delivery_key(request: SocketModeRequest) -> str:
    """What identifies one delivery across Slack's redeliveries of it (see the module's docstring)."""
    payload = request.payload
    event_id = payload.get("event_id")
    if request.type == "events_api" and isinstance(event_id, str) and event_id:
        return f"event:{event_id}"
    trigger_id = payload.get("trigger_id")
    if request.type in ("slash_commands", "interactive") and isinstance(trigger_id, str) and trigger_id:
        return f"trigger:{trigger_id}"
    return f"envelope:{request.envelope_id}"


class OnceSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, with every delivery claimed in ``seen`` before bolt handles it."""

    def __init__(self, app: AsyncApp, *, app_token: str, seen: SeenDeliveries,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(app, app_token=app_token)
        self._seen = seen
        self._now = now
        self._next_prune: datetime | None = None

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        """The listener ``self.client`` calls for each envelope (``client`` is that client)."""
        key = delivery_key(req)
        try:
            first = await self._seen.first_seen(key, self._now())
        except Exception:
            # Handled rather than dropped: the person gets an answer (at worst the bot's own failure message);
            # a second copy could run only if Slack redelivers it to another process during the same failure.
            log.exception("Slack: could not check whether %s was handled already; handling it", key)
            first = True
        if not first:
            log.info("Slack: %s (envelope %s, retry %s %s) was handled already; acknowledged only", key,
                     req.envelope_id, req.retry_attempt, req.retry_reason or "")
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(self.client, req)
        await self._prune()

    async def _prune(self) -> None:
        """Forget old keys now and then; a failure only delays it (the next handled delivery tries again)."""
        now = self._now()
        if self._next_prune is not None and now < self._next_prune:
            return
        try:
            await self._seen.prune(now - KEEP)
        except Exception:
            log.exception("Slack: could not forget old Socket Mode deliveries")
            return
        self._next_prune = now + PRUNE_EVERY
