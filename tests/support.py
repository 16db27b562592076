"""Test doubles for the core: a controllable clock, a recording platform adapter and a small harness."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.assembly import App, build_app
from app.settings import Settings
from bot.commands.context import IncomingCommand
from bot.commands.dispatcher import Reply
from bot.delivery.errors import DeliveryError
from bot.delivery.model import SentMessage
from bot.i18n import Translator, decode_text
from bot.messages import RenderedMessage
from bot.model import Identity, IdentityRecord, Role
from storage.database import Database
from tests.postgres_server import storage_settings


def english(stored: str | None) -> str:
    """A stored delivery reason as an English reader sees it."""
    return Translator.load().render(decode_text(stored), "en") if stored is not None else ""


class FixedClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@dataclass
class Sent:
    kind: str
    target: str
    message: RenderedMessage
    key: str


@dataclass
class RecordingAdapter:
    """Records every send; a test queues :class:`DeliveryError` s to be raised by the next sends."""

    platform: str = "test"
    sent: list[Sent] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)
    edits: list[tuple[SentMessage, RenderedMessage]] = field(default_factory=list)
    deletes: list[SentMessage] = field(default_factory=list)
    roles: dict[str, Role] = field(default_factory=dict)
    """What the platform says about people now; absent means it cannot tell."""

    public_channels: set[str] = field(default_factory=set)
    """Channels everyone can read, for the setup checks."""

    async def current_role(self, external_id: str) -> Role | None:
        return self.roles.get(external_id)

    async def channel_is_public(self, channel_id: str) -> bool | None:
        return channel_id in self.public_channels

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        self._maybe_fail()
        self.sent.append(Sent("dm", recipient.identity.external_id, message, delivery_key))
        return SentMessage(self.platform, f"D-{recipient.identity.external_id}", (str(len(self.sent)),))

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        self._maybe_fail()
        self.sent.append(Sent("channel", channel_id, message, delivery_key))
        return SentMessage(self.platform, channel_id, (str(len(self.sent)),))

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
        self.edits.append((sent, message))

    async def delete(self, sent: SentMessage) -> None:
        self.deletes.append(sent)

    def dms_to(self, user: str) -> list[RenderedMessage]:
        return [s.message for s in self.sent if s.kind == "dm" and s.target == user]


def console_settings(tmp_path: Path, **coalition: object) -> Settings:
    return Settings(storage=storage_settings(tmp_path),
                    coalition={"admins": ["console:demo-admin", "test:root"], **coalition},
                    console={"enabled": True})


@dataclass
class Harness:
    """Drives the real app: commands through the dispatcher, deliveries through the worker."""

    app: App
    clock: FixedClock
    console_out: io.StringIO
    adapter: RecordingAdapter

    async def say(self, user: str, text: str, *, platform: str = "console",
                  platform_role: Role = Role.OUTSIDER, locale: str | None = None) -> Reply:
        return await self.app.dispatcher.handle(IncomingCommand(
            identity=Identity(platform, user), display_name=user, text=text, platform_role=platform_role,
            locale=locale))

    async def text(self, user: str, text: str, **kwargs: object) -> str:
        reply = await self.say(user, text, **kwargs)  # type: ignore[arg-type]
        return reply.message.plain_text() + "".join(f"\n[{a.label}] /{a.command}" for a in reply.message.actions)

    def console_output(self) -> str:
        return self.console_out.getvalue()


@asynccontextmanager
async def harness(settings: Settings, clock: FixedClock | None = None,
                  adapter: RecordingAdapter | None = None) -> AsyncIterator[Harness]:
    clock = clock or FixedClock()
    out = io.StringIO()
    adapter = adapter or RecordingAdapter()
    async with build_app(settings, clock=clock, console_output=out, extra_adapters=(lambda _d: adapter,)) as app:
        yield Harness(app=app, clock=clock, console_out=out, adapter=adapter)


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside ``value`` (nested dicts, lists and tuples): what a platform payload shows."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


async def add_people(db: Database, people: Sequence[tuple[str, str, str | None]], stamp: str) -> list[int]:
    """Many people at once, one identity each — ``(platform, external id, DM channel or None)`` — in two statements,
    not one command each: set-up for fan-outs of thousands (tests and benchmarks). Returns their ids, in order."""
    row = await db.fetch_one("SELECT COALESCE(MAX(id), 0) FROM people")
    first = int(row[0]) + 1 if row else 1
    ids = list(range(first, first + len(people)))
    await db.execute_many("INSERT INTO people (id, display_name, preferred_platform, created_at) VALUES (?, ?, ?, ?)",
                          [(pid, ext, platform, stamp) for pid, (platform, ext, _) in zip(ids, people, strict=True)])
    if db.dialect == "postgresql" and ids:  # explicit ids leave the identity column's sequence behind
        await db.fetch_one("SELECT setval(pg_get_serial_sequence('people', 'id'), ?)", (ids[-1],))
    await db.execute_many(
        "INSERT INTO identities (platform, external_id, person_id, display_name, dm_channel_id, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(platform, ext, pid, ext, dm, stamp) for pid, (platform, ext, dm) in zip(ids, people, strict=True)])
    return ids
