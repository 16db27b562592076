"""Linking through the real app: two identities on the harness's two platforms (``console`` and the recording
platform ``test``), or on platforms named like Slack and Discord when nothing needs to reach them."""

from __future__ import annotations

import re

from bot.model import Identity, Role
from tests.support import Harness

CODE = re.compile(r"Your link code: ([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})$")
NOT_VALID = "That code is not valid. Codes work once, for 10 minutes."
NOTHING = "Nothing to confirm."
SAME = "These accounts are already one person."
WARNING = ("Only type codes your own accounts gave you. If someone else gave you this code, type “link cancel” now: "
           "confirming would join your account to theirs, with everything in it.")


async def text(h: Harness, user: str, line: str, platform: str, role: Role = Role.OUTSIDER) -> str:
    reply = await h.say(user, line, platform=platform, platform_role=role)
    return reply.message.plain_text() + "".join(f"\n[{a.label}] /{a.command}" for a in reply.message.actions)


async def issue(h: Harness, user: str, platform: str, role: Role = Role.OUTSIDER) -> str:
    """``link`` as ``platform:user``; returns the code as shown."""
    reply = await h.say(user, "link", platform=platform, platform_role=role)
    assert reply.message.title is not None and not reply.message.is_error, reply.message.plain_text()
    found = CODE.match(reply.message.title)
    assert found, reply.message.title
    return found.group(1)


async def claim(h: Harness, user: str, platform: str, code: str, role: Role = Role.OUTSIDER) -> str:
    return await text(h, user, f"link {code}", platform, role)


async def link(h: Harness, issuer: tuple[str, str], claimer: tuple[str, str], *,
               issuer_role: Role = Role.OUTSIDER, claimer_role: Role = Role.OUTSIDER) -> int:
    """Link ``claimer`` (platform, user) into ``issuer``'s person, confirmed; returns the merged person's id."""
    code = await issue(h, issuer[1], issuer[0], issuer_role)
    claimed = await claim(h, claimer[1], claimer[0], code, claimer_role)
    assert claimed.startswith("Link your accounts?"), claimed
    done = await text(h, issuer[1], "link confirm", issuer[0], issuer_role)
    assert done.startswith("Done:"), done
    return await person_of(h, claimer[0], claimer[1])


async def person_of(h: Harness, platform: str, user: str) -> int:
    record = await h.app.store.people.identity(Identity(platform, user))
    assert record is not None
    return record.person_id
