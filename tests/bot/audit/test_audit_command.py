"""``audit``: admins read who did what and when, filtered, paged, in their zone and language; others are
refused; bad input changes nothing."""

from __future__ import annotations

from bot.audit import AuditAction
from bot.audit.words import ACTION_WORDS
from bot.model import Identity
from tests.support import Harness


async def _some_history(h: Harness) -> None:
    await h.say("demo-admin", "role grant demo-member coordinator")
    h.clock.advance(hours=1)
    await h.say("demo-coordinator", "topic edit disinformation title:Fact-checking")


async def test_every_action_has_words() -> None:
    assert set(ACTION_WORDS) == set(AuditAction)


async def test_admin_sees_actions_in_words_newest_first(h: Harness) -> None:
    await _some_history(h)
    text = await h.text("demo-admin", "audit")
    assert "changed a topic" in text and "gave a role" in text
    assert "role.grant" not in text and "topic.edit" not in text
    assert text.index("changed a topic") < text.index("gave a role")  # newest first
    assert "demo-admin gave a role: demo-member" in text


async def test_filter_by_person_and_by_topic(h: Harness) -> None:
    await _some_history(h)
    about_member = await h.text("demo-admin", "audit demo-member")
    assert "gave a role" in about_member and "changed a topic" not in about_member
    by_coordinator = await h.text("demo-admin", "audit console:demo-coordinator")
    assert "changed a topic" in by_coordinator and "gave a role" not in by_coordinator
    topic = await h.text("demo-admin", "audit disinformation")
    assert "changed a topic" in topic and "gave a role" not in topic


async def test_since_limits_how_far_back(h: Harness) -> None:
    await _some_history(h)
    h.clock.advance(days=3)
    await h.say("demo-admin", "role revoke demo-member coordinator")
    text = await h.text("demo-admin", "audit since:2d")
    assert "took back a role" in text and "gave a role" not in text and "changed a topic" not in text


async def test_bad_since_and_unknown_filter_are_refused(h: Harness) -> None:
    await _some_history(h)
    assert "is not a duration" in await h.text("demo-admin", "audit since:lately")
    assert "Nobody and no topic is called “zzz-nothing”" in await h.text("demo-admin", "audit zzz-nothing")
    assert "must be between 1 and" in await h.text("demo-admin", "audit page:0")


async def test_pages_with_next_and_previous_buttons(h: Harness) -> None:
    for _round in range(9):  # 18 entries: two pages of 15
        await h.say("demo-admin", "role grant demo-member coordinator")
        await h.say("demo-admin", "role revoke demo-member coordinator")
        h.clock.advance(minutes=1)
    first = await h.say("demo-admin", "audit demo-member")
    assert [a.label for a in first.message.actions] == ["Next page"]
    assert len(first.message.body) == 15
    command = str(first.message.actions[0].command)
    assert "page:2" in command and "demo-member" in command
    second = await h.say("demo-admin", command)
    assert len(second.message.body) == 3
    assert [a.label for a in second.message.actions] == ["Previous page"]


async def test_member_is_refused_naming_the_role(h: Harness) -> None:
    await _some_history(h)
    text = await h.text("demo-member", "audit")
    assert "This needs the admin role." in text and "gave a role" not in text


async def test_reader_zone_and_language(h: Harness) -> None:
    await _some_history(h)
    await h.say("demo-admin", "settings timezone Asia/Kolkata")
    await h.say("demo-admin", "settings language fr")
    text = await h.text("demo-admin", "audit demo-member")
    # 2026-11-23 12:00 UTC is 17:30 in Kolkata, written the French way (English: "Nov 23, 2026, 5:30 PM").
    assert "23 novembre 2026, 17:30" in text
    await h.say("demo-member", "settings language fr")
    refused = await h.text("demo-member", "audit")
    assert "Cette action nécessite le rôle administrateur·rice." in refused


async def test_a_person_s_audit_lists_entries_about_them_whatever_the_subject(h: Harness) -> None:
    """An invitation names the topic (the invitee is in its ``after``) and an approval names the request (its
    requester is whom it is about): ``audit <person>`` lists both, and nobody else's."""
    await h.say("demo-admin", "topic invite incident-response demo-outsider")
    h.clock.advance(minutes=1)
    await h.say("demo-member", "subscribe whrd-safety")
    assert "Approved" in await h.text("demo-admin", "approve 1")  # nobody coordinates it: an admin decides
    h.clock.advance(minutes=1)
    await h.say("demo-admin", "topic invite incident-response demo-member")

    outsider = await h.text("demo-admin", "audit console:demo-outsider")
    assert outsider.count("invited someone to a topic") == 1 and "approved a request" not in outsider, outsider
    member = await h.text("demo-admin", "audit console:demo-member")
    assert "approved a request to join: request #1" in member, member
    assert member.count("invited someone to a topic") == 1, member


async def test_a_link_and_an_unlink_name_the_platforms_in_words(h: Harness) -> None:
    """bot/linking records a person's platforms as stored names joined by ``+``: the listing says them as platform
    names in a list in the reader's language, never as stored."""
    await h.say("demo-member", "whoami")
    record = await h.app.store.people.identity(Identity("console", "demo-member"))
    assert record is not None
    person = record.person_id
    now = h.clock.now()
    await h.app.store.audit.record(person, AuditAction.PERSON_LINK, f"person:{person}", "console",
                                   "console+discord+slack", now)
    h.clock.advance(minutes=1)
    await h.app.store.audit.record(person, AuditAction.PERSON_UNLINK, f"person:{person}", "console+discord+slack",
                                   "console+slack", h.clock.now())

    text = await h.text("demo-admin", "audit demo-member")
    assert ("demo-member linked accounts into one person: demo-member (from Console to Console, Discord, and "
            "Slack)") in text, text
    assert "demo-member unlinked an account: demo-member (from Console, Discord, and Slack to Console and Slack)" \
        in text, text
    assert "+" not in text and "console" not in text
    await h.say("demo-admin", "settings language es")
    assert "Console, Discord y Slack" in await h.text("demo-admin", "audit demo-member")
