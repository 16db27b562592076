"""The door of Slack HTTP mode, in front of bolt: malformed signature headers and replayed requests stop here.

Why a guard of our own: bolt checks the signature, but parses the timestamp with ``int()`` unguarded (a
non-numeric one answered 500 with a traceback), and accepts the same signed request again and again within
Slack's five-minute window — an exact replay ran the command twice. Here a request must carry well-formed
headers (else 400, or 401 when missing), a valid fresh signature (else 401), and a signature never seen before
(else 401): the signatures are claimed in the database, so a restart does not forget them. Nothing runs on a
refusal. Bolt still checks the signature itself behind this.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from slack_sdk.signature import SignatureVerifier

from bot.adapter_stores import ReplayStore

log = logging.getLogger(__name__)

WINDOW_SECONDS = 5 * 60
"""Slack's freshness window: a request timestamped further from now fails the signature check."""
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def refused(status: int, reason: str) -> web.Response:
    """What Slack (or whoever sent it) gets back; not shown to a person, so not translated."""
    return web.json_response({"error": reason}, status=status)


def replay_guard(secret: str, replays: ReplayStore, path: str, *,
                 now: Callable[[], float] = time.time) -> Middleware:
    """An aiohttp middleware for POSTs to ``path`` (the events endpoint); other requests pass to bolt."""
    verifier = SignatureVerifier(secret)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or request.path != path:
            return await handler(request)
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if timestamp is None or signature is None:
            return refused(401, "missing signature")
        if not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)):
            log.warning("Slack HTTP: refused a request with malformed signature headers")
            return refused(400, "malformed signature headers")
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return refused(400, "body is not UTF-8")
        at = now()
        if abs(at - int(timestamp)) > WINDOW_SECONDS or not hmac_matches(verifier, body, timestamp, signature):
            return refused(401, "invalid request")
        # Forget only what can no longer pass the freshness check, with a minute to spare for bolt's own clock.
        if not await replays.claim(signature, int(timestamp), forget_before=int(at) - WINDOW_SECONDS - 60):
            log.warning("Slack HTTP: refused a replayed request (signature already used)")
            return refused(401, "replayed request")
        return await handler(request)

    return guard


def hmac_matches(verifier: SignatureVerifier, body: str, timestamp: str, signature: str) -> bool:
    """The signature alone (freshness is checked against our clock above)."""
    expected = verifier.generate_signature(timestamp=timestamp, body=body)
    return expected is not None and hmac.compare_digest(expected, signature)
