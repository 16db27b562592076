"""A member with something in every table that can name them: subscriptions (one waiting for approval, which
tells the coordinators their name), an RSVP, a coordinator grant, an authored announcement and the deliveries it
made, and audit entries by and about them."""

from __future__ import annotations

import json
from typing import Any

from bot.model import Role
from storage.database import Database, Dialect
from tests.support import Harness

MEMBER = "zq-josé-ñandú-7"
"""Their id and display name on the recording platform ``test``: unlike anything in the demo data, so a search
of every table finds only what names them."""
OTHER = "yk-reader-3"

_TABLES: dict[Dialect, str] = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    "postgresql": "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
                  " AND table_type = 'BASE TABLE' ORDER BY table_name",
}


async def table_names(db: Database) -> list[str]:
    """Every table of the database, whatever the engine: for the searches through all of them."""
    return [str(row["name"]) for row in await db.fetch_all(_TABLES[db.dialect])]


async def say(h: Harness, user: str, text: str) -> str:
    reply = await h.say(user, text, platform="test", platform_role=Role.MEMBER)
    assert not reply.message.is_error, (text, reply.message.plain_text())
    return reply.message.plain_text()


async def member_with_history(h: Harness) -> int:
    """Returns the announcement the member wrote (sent, delivered to them and to :data:`OTHER`)."""
    await say(h, MEMBER, "subscribe disinformation")
    await say(h, MEMBER, "subscribe whrd-safety")  # approval: a request, and a notice naming them
    await say(h, OTHER, "subscribe disinformation")
    await say(h, MEMBER, "rsvp 1 yes")
    announcement = await announce_as_member(h, "Field notes from the member")
    await h.app.run_due()
    return announcement


async def announce_as_member(h: Harness, text: str) -> int:
    """:data:`MEMBER`, made coordinator of disinformation, announces ``text`` there (with ``when:`` if the text
    says so) and confirms; returns the announcement's id."""
    await h.say("demo-admin", f"role grant test:{MEMBER} coordinator disinformation")
    preview = await h.say(MEMBER, f"announce new disinformation {text}", platform="test", platform_role=Role.MEMBER)
    confirm = next(a.command for a in preview.message.actions if a.command.startswith("announce confirm"))
    await say(h, MEMBER, confirm)
    return int(confirm.rsplit(" ", 1)[1])


def export(reply_data: bytes) -> dict[str, Any]:
    document = json.loads(reply_data.decode("utf-8"))
    assert isinstance(document, dict)
    return document
