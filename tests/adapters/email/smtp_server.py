"""A real SMTP server on loopback (aiosmtpd) whose answers a test queues, and the fakes the email adapter needs.

``Controller(port=0)`` does not work here (it probes the port from another thread), so the server is made the
plain asyncio way: ``loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)``.
"""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default
from functools import partial
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from app.email import SiteLinks

DROP = "drop"
"""A queued DATA answer: read the message, keep nothing, and cut the connection before the final reply."""
TIMEOUT = 5.0


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Records each mail it accepts; answers RCPT and DATA from the queues first (``"451 …"``, ``"550 …"``,
    :data:`DROP`), then with 250. ``quit_gate``: QUIT waits for it (a client killed after the final 250)."""

    received: list[Received] = field(default_factory=list)
    rcpt_answers: list[str] = field(default_factory=list)
    data_answers: list[str] = field(default_factory=list)
    connections: int = 0
    quit_gate: asyncio.Event | None = None
    quitting: asyncio.Event = field(default_factory=asyncio.Event)
    stored: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.rcpt_answers:
            return self.rcpt_answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = self.data_answers.pop(0) if self.data_answers else "250 OK: queued"
        if answer == DROP:
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "451 never heard"
        if answer.startswith("250"):
            content = envelope.original_content or envelope.content
            assert isinstance(content, bytes)
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
            self.stored.set()
        return answer

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quitting.set()
        if self.quit_gate is not None:
            await asyncio.wait_for(self.quit_gate.wait(), TIMEOUT)
        return "221 Bye"

    def messages(self) -> list[EmailMessage]:
        return [item.message() for item in self.received]


@asynccontextmanager
async def smtp_server(handler: Handler, **options: Any) -> AsyncIterator[int]:
    """Serve ``handler`` on a free loopback port (yielded) until the block ends."""
    loop = asyncio.get_running_loop()

    def connected() -> SMTP:
        handler.connections += 1
        return SMTP(handler, hostname="mail.test", **options)

    server = await loop.create_server(connected, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), TIMEOUT)


class Health:
    """The bounce store's adapter port in memory, pausing after ``pause_after`` consecutive refusals."""

    def __init__(self, pause_after: int = 3) -> None:
        self.pause_after = pause_after
        self.refusals: dict[str, int] = {}
        self.deliveries: dict[str, int] = {}
        self.refused_at: list[datetime] = []

    async def refused(self, address: str, now: datetime) -> int:
        self.refusals[address] = self.refusals.get(address, 0) + 1
        self.refused_at.append(now)
        return self.refusals[address]

    async def delivered(self, address: str) -> None:
        self.refusals[address] = 0
        self.deliveries[address] = self.deliveries.get(address, 0) + 1

    async def is_paused(self, address: str) -> bool:
        return self.refusals.get(address, 0) >= self.pause_after


BASE = "http://127.0.0.1:8080"
Links = partial(SiteLinks, BASE)
"""The adapter tests' links: the app's own :class:`app.email.SiteLinks` on a fixed address."""