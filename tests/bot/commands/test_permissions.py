"""Every role × every command: who may run what, refusals name the role, and a refusal changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.assembly import all_commands
from tests.bot.privacy.helpers import table_names
from tests.support import Harness, console_settings, harness

# One valid invocation per command, and the lowest role that may run it.
INVOCATIONS: dict[str, tuple[str, str]] = {
    "help": ("help", "outsider"),
    "topics": ("topics", "outsider"),
    "subscribe": ("subscribe disinformation", "outsider"),
    "unsubscribe": ("unsubscribe disinformation", "outsider"),
    "mysubs": ("mysubs", "outsider"),
    "whoami": ("whoami", "outsider"),
    "settings timezone": ("settings timezone Europe/Paris", "outsider"),  # issue 18: outsiders set their own
    "settings language": ("settings language fr", "outsider"),
    "topic create": ("topic create new-topic A new topic", "coordinator"),
    "topic edit": ("topic edit disinformation title:Renamed", "coordinator"),
    "topic archive": ("topic archive disinformation", "coordinator"),
    "topic unarchive": ("topic unarchive disinformation", "coordinator"),
    "topic invite": ("topic invite disinformation demo-outsider", "coordinator"),
    "requests": ("requests", "coordinator"),
    "approve": ("approve 1", "coordinator"),
    "deny": ("deny 1", "coordinator"),
    "announce new": ("announce new disinformation Hello all", "coordinator"),
    "announce confirm": ("announce confirm 1", "coordinator"),
    "announce cancel": ("announce cancel 1", "coordinator"),
    "announce list": ("announce list", "coordinator"),
    "announce edit": ("announce edit 1 New text", "coordinator"),
    "announce status": ("announce status 1", "coordinator"),
    "announce retry": ("announce retry 1", "coordinator"),
    "delivery status": ("delivery status", "admin"),
    "setup public-channel": ("setup public-channel #public", "admin"),
    "setup topic-channel": ("setup topic-channel disinformation #wg", "admin"),
    "role grant": ("role grant demo-outsider member", "admin"),
    "role revoke": ("role revoke demo-member member", "admin"),
    "resources": ("resources", "outsider"),
    "audit": ("audit", "admin"),
    "mydata": ("mydata", "outsider"),
    "forget me": ("forget me", "outsider"),
    "link": ("link", "outsider"),
    "unlink": ("unlink slack", "outsider"),
    "settings platform": ("settings platform all", "outsider"),
    "resource search": ("resource search disinformation", "outsider"),
    "resource show": ("resource show 1", "outsider"),
    "resource add": ("resource add https://example.org/new New report topics:disinformation", "coordinator"),
    "resource edit": ("resource edit 1 title:Renamed", "coordinator"),
    "resource remove": ("resource remove 1", "coordinator"),
    "meetings": ("meetings", "outsider"),
    "meeting show": ("meeting show 1", "outsider"),
    "meeting ics": ("meeting ics 1", "outsider"),
    "meeting calendar": ("meeting calendar disinformation", "outsider"),
    "rsvp": ("rsvp 1 yes", "member"),
    "meeting create": ('meeting create disinformation "WG call" tomorrow 14:00 repeat:weekly', "coordinator"),
    "meeting cancel": ("meeting cancel 1", "coordinator"),
    "meeting reschedule": ("meeting reschedule 1 tomorrow 15:00", "coordinator"),
    "meeting attendees": ("meeting attendees 1", "coordinator"),
}
PEOPLE = {"outsider": "demo-outsider", "member": "demo-member", "coordinator": "demo-coordinator",
          "admin": "demo-admin"}
ORDER = ["outsider", "member", "coordinator", "admin"]
REFUSALS = ("This needs the", "Only a coordinator of")


def test_every_declared_command_is_in_the_matrix() -> None:
    assert {c.name for c in all_commands()} == set(INVOCATIONS)


async def _dump(h: Harness) -> list[str]:
    rows = []
    tables = [name for name in await table_names(h.app.db)
              if not name.startswith("sqlite_") and "fts" not in name and name != "identities"]
    for table in tables:
        rows += [f"{table}:{tuple(row)}" for row in await h.app.db.fetch_all(f"SELECT * FROM {table}")]
    return sorted(rows)  # PostgreSQL returns rows in no set order


@pytest.mark.parametrize("role", ORDER)
@pytest.mark.parametrize("command", sorted(INVOCATIONS))
async def test_permission_matrix(tmp_path: Path, role: str, command: str) -> None:
    invocation, needed = INVOCATIONS[command]
    async with harness(console_settings(tmp_path)) as h:
        await h.say(PEOPLE[role], "whoami")  # first contact is not part of what we compare
        # Something real to act on, in the topic demo-coordinator coordinates: announcement #1, request #1.
        await h.say("demo-admin", "topic edit disinformation policy:approval")
        await h.say("demo-admin", "announce new disinformation Hello all")
        await h.say("demo-member", "subscribe disinformation")
        before = await _dump(h)
        reply = await h.say(PEOPLE[role], invocation)
        text = reply.message.plain_text()
        allowed = ORDER.index(role) >= ORDER.index(needed)
        if allowed:
            assert not any(r in text for r in REFUSALS), f"{role} was refused {command}: {text}"
        else:
            assert reply.message.is_error
            assert any(r in text for r in REFUSALS), f"{role} ran {command}: {text}"
            assert needed in text, f"the refusal does not name the role {needed}: {text}"
            assert await _dump(h) == before, "a refused command changed the database"


async def test_topic_coordinator_cannot_manage_other_topics(h: Harness) -> None:
    reply = await h.say("demo-coordinator", "topic archive elections")
    assert reply.message.is_error
    assert "Only a coordinator of “elections”" in reply.message.plain_text()
    assert (await h.app.store.topics.by_slug("elections")).archived is False  # type: ignore[union-attr]


async def test_help_lists_only_what_the_caller_may_run(h: Harness) -> None:
    outsider = await h.text("demo-outsider", "help")
    admin = await h.text("demo-admin", "help")
    coordinator = await h.text("demo-coordinator", "help")
    assert "/role grant" not in outsider and "/topic create" not in outsider and "/rsvp" not in outsider
    assert "/settings timezone" in outsider and "/settings language" in outsider
    assert "/role grant" in admin and "/topic create" in admin
    assert "/requests" in coordinator and "/role grant" not in coordinator
    assert "Unknown command" in await h.text("demo-outsider", "help role grant")
    assert "Needs the admin role" in await h.text("demo-admin", "help role grant")


async def test_platform_role_counts(h: Harness) -> None:
    from bot.model import Role

    text = await h.text("U1", "rsvp 1 yes", platform="test", platform_role=Role.MEMBER)
    assert "member role" not in text and "You answered yes" in text
    text = await h.text("U2", "rsvp 1 yes", platform="test", platform_role=Role.OUTSIDER)
    assert "member role" in text
    assert "admin" in await h.text("root", "whoami", platform="test")  # admin named in settings
