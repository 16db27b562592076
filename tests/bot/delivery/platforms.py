"""People with accounts on several platforms, in the real app on a SQLite file with recording adapters named after
the platforms (Slack, Discord, email), and the steps the preferred-platform tests share (issue 21)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.delivery.model import DeliveryKind, DeliveryStatus, NewDelivery
from bot.delivery.payloads import NoticePayload
from bot.i18n import _
from bot.messages import Message
from bot.model import Identity, Role
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility
from storage.database import to_db_time
from tests.bot.delivery.fakes import app_with
from tests.support import FixedClock, Harness, RecordingAdapter, english

CANNOT_DM = "Discord: this person does not accept direct messages from the bot (50007)."
UNKNOWN_USER = "Discord no longer knows this user (10013)."
EVERY_PLATFORM = ("slack", "discord", "email")


@dataclass
class Platforms:
    h: Harness
    slack: RecordingAdapter
    discord: RecordingAdapter
    email: RecordingAdapter


@asynccontextmanager
async def platforms(tmp_path: Path, clock: FixedClock,
                    running: Sequence[str] = EVERY_PLATFORM) -> AsyncIterator[Platforms]:
    """The app with the ``running`` platforms' adapters (the others' recorders get nothing: not running), and two
    topics: ``news`` (public) and ``inner`` (members)."""
    slack, discord, email = RecordingAdapter("slack"), RecordingAdapter("discord"), RecordingAdapter("email")
    adapters = [adapter for adapter in (slack, discord, email) if adapter.platform in running]
    console = io.StringIO()
    async with app_with(tmp_path, clock, *adapters, console_output=console) as app:
        for slug, visibility in (("news", Visibility.PUBLIC), ("inner", Visibility.MEMBERS)):
            await app.store.topics.create(slug, slug.title(), "", visibility, Policy.OPEN, clock.now())
        yield Platforms(Harness(app, clock, console, adapters[0]), slack, discord, email)


async def person(p: Platforms, *identities: tuple[str, str], role: Role = Role.MEMBER) -> int:
    """One person holding ``identities`` (platform, id), as linking leaves them; no preference set."""
    store, now = p.h.app.store, p.h.clock.now()
    first = await store.people.ensure_identity(Identity(*identities[0]), "Ana", now)
    for platform, external_id in identities[1:]:
        await p.h.app.db.execute(
            "INSERT INTO identities (platform, external_id, person_id, display_name, last_seen_at)"
            " VALUES (?, ?, ?, 'Ana', ?)", (platform, external_id, first.person_id, to_db_time(now)))
    for platform, external_id in identities:
        await store.people.set_platform_role(Identity(platform, external_id), role)
    await store.people.set_preferred_platform(first.person_id, None)
    return first.person_id


async def follow(p: Platforms, person_id: int, slug: str = "news",
                 mode: DeliveryMode = DeliveryMode.IMMEDIATE) -> None:
    topic = await p.h.app.store.topics.by_slug(slug)
    assert topic is not None
    await p.h.app.store.subscriptions.put(person_id, topic.id, mode, p.h.clock.now())


async def announce(p: Platforms, slug: str = "news", text: str = "Hello all") -> int:
    await p.h.say("demo-admin", f"announce new {slug} {text}")
    [announcement] = await p.h.app.store.announcements.recent(None, 1)
    assert "on its way" in await p.h.text("demo-admin", f"announce confirm {announcement.id}")
    await p.h.app.run_due()
    return announcement.id


async def notice(p: Platforms, person_id: int, key: str, *, slug: str | None = None,
                 platform: str | None = None, channel_id: str | None = None) -> None:
    topic = await p.h.app.store.topics.by_slug(slug) if slug else None
    await p.h.app.store.outbox.enqueue([NewDelivery(
        dedupe_key=key, kind=DeliveryKind.NOTICE, payload=NoticePayload(Message(body=(_("Welcome"),))),
        not_before=p.h.clock.now(), person_id=person_id, topic_id=topic.id if topic else None, platform=platform,
        channel_id=channel_id)], p.h.clock.now())
    await p.h.app.run_due()


async def row(p: Platforms, key: str) -> tuple[DeliveryStatus, str | None, str]:
    found = await p.h.app.store.outbox.by_key(key)
    assert found is not None
    return found.status, found.sent.platform if found.sent else None, english(found.reason)


def dms(adapter: RecordingAdapter) -> list[str]:
    return [s.target for s in adapter.sent if s.kind == "dm"]
