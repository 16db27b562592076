"""``unlink <platform>``: the caller's accounts there become a person of their own, speaking the same language; the
rest stays. Refused, changing nothing, when there is no account there or nothing would be left."""

from __future__ import annotations

from bot.audit import AuditAction
from bot.model import Role
from tests.bot.linking.helpers import link, person_of, text
from tests.support import Harness

SLACK, DISCORD = "slack", "discord"


async def _linked(h: Harness) -> int:
    """Ana on Slack (issuer) and on Discord, one person who follows a topic, coordinates one, and set a language."""
    await h.say("ana", "subscribe disinformation", platform=DISCORD, platform_role=Role.MEMBER)
    person = await link(h, (SLACK, "ana-s"), (DISCORD, "ana"), claimer_role=Role.MEMBER)
    assert not (await h.say("ana-s", "settings language fr", platform=SLACK)).message.is_error
    assert not (await h.say("ana-s", "settings timezone Africa/Nairobi", platform=SLACK)).message.is_error
    assert not (await h.say("demo-admin", "role grant slack:ana-s coordinator disinformation")).message.is_error
    return person


async def test_unlink_splits_the_platform_off_with_name_language_and_zone_only(h: Harness) -> None:
    person = await _linked(h)
    await h.app.db.execute("UPDATE people SET preferred_platform = 'discord', organisation = 'Org' WHERE id = ?",
                           (person,))
    reply = await h.say("ana-s", "unlink discord", platform=SLACK)
    assert not reply.message.is_error, reply.message.plain_text()

    split = await person_of(h, DISCORD, "ana")
    assert split != person and await person_of(h, SLACK, "ana-s") == person
    new = await h.app.store.people.get(split)
    kept = await h.app.store.people.get(person)
    assert new is not None and kept is not None
    assert (new.display_name, new.language, new.timezone, new.organisation) == ("ana", "fr", "Africa/Nairobi", None)
    assert kept.preferred_platform is None, "it named the platform that left"
    assert await h.app.store.grants.of_person(split) == []
    followers = await h.app.db.fetch_all("SELECT person_id FROM subscriptions WHERE person_id IN (?, ?)",
                                         (person, split))
    assert [r["person_id"] for r in followers] == [person]
    assert "Rôle" in await text(h, "ana", "whoami", DISCORD, Role.MEMBER), "the split person keeps the language"

    (entry,) = [e for e in await h.app.store.audit.recent(50) if e.action is AuditAction.PERSON_UNLINK]
    assert (entry.actor_id, entry.subject, entry.before, entry.after) == (person, f"person:{person}",
                                                                          "discord+slack", "slack")


async def test_the_reply_says_no_confirmation_was_needed_and_how_to_undo(h: Harness) -> None:
    await link(h, (SLACK, "bo-s"), (DISCORD, "bo"))
    reply = await text(h, "bo-s", "unlink discord", SLACK)
    assert "Your Discord account is now a separate person" in reply
    assert "No confirmation was needed: to undo this, link the accounts again with “link”." in reply


async def test_unlink_refuses_a_platform_without_an_account_naming_those_there_are(h: Harness) -> None:
    person = await link(h, (SLACK, "bo-s"), (DISCORD, "bo"))
    reply = await h.say("bo-s", "unlink email", platform=SLACK)
    assert reply.message.is_error
    assert reply.message.plain_text() == "You have no email account linked. Your accounts are on Discord and Slack."
    assert await person_of(h, DISCORD, "bo") == await person_of(h, SLACK, "bo-s") == person
    assert not [e for e in await h.app.store.audit.recent(50) if e.action is AuditAction.PERSON_UNLINK]


async def test_unlink_refuses_to_leave_no_account(h: Harness) -> None:
    await h.say("solo", "whoami", platform=DISCORD)
    before = await person_of(h, DISCORD, "solo")
    reply = await h.say("solo", "unlink discord", platform=DISCORD)
    assert reply.message.is_error and "would leave none" in reply.message.plain_text()
    assert await person_of(h, DISCORD, "solo") == before
    count = await h.app.store.people.count()
    assert (await h.say("solo", "unlink discord", platform=DISCORD)).message.is_error
    assert await h.app.store.people.count() == count


async def test_linking_again_undoes_an_unlink(h: Harness) -> None:
    person = await link(h, (SLACK, "bo-s"), (DISCORD, "bo"))
    await h.say("bo-s", "unlink discord", platform=SLACK)
    assert await person_of(h, DISCORD, "bo") != person
    assert await link(h, (SLACK, "bo-s"), (DISCORD, "bo")) == person
