"""``forget me``: asks first (a button confirms), then erases the person in one transaction. Afterwards no table
holds a row naming them — their id in a person column, their name, or any of their platform ids — while what they
wrote stays, signed "a former member", and the audit log says an erasure happened, never whose."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.audit import AuditAction
from bot.delivery.model import DeliveryKind, copy_key, counted_key
from bot.messages import ActionStyle
from bot.model import Identity, Role
from bot.privacy.model import ERASED_SUBJECT
from storage.database import Database
from storage.linking_merge import rewritten_key
from storage.send_attempts import SqliteSendAttempts
from tests.bot.privacy.helpers import MEMBER, OTHER, announce_as_member, member_with_history, say, table_names
from tests.support import Harness

PERSON_COLUMNS = {"person_id", "author_id", "actor_id", "granted_by", "decided_by", "invited_by", "added_by",
                  "about_id"}
ERASED = "Everything the bot held about you is erased. If you use the bot again, it starts afresh."
WAIT = 30.0


async def _person_id(h: Harness, user: str, platform: str = "test") -> int:
    profile = await h.app.store.people.profile_of(Identity(platform, user))
    assert profile is not None
    return profile.person.id


async def rows_naming(h: Harness | Database, person_id: int, words: set[str]) -> list[tuple[str, str, Any]]:
    """Every (table, column, value) in the database that names the person: their id in a person column or a
    ``person:<id>`` subject, or any of ``words`` inside a text value. Every table, whatever it is."""
    db = h if isinstance(h, Database) else h.app.db
    found = []
    tables = await table_names(db)
    assert {"people", "identities", "deliveries", "audit_log", "email_keys", "meeting_rsvps"} <= set(tables)
    for table in tables:
        for row in await db.fetch_all(f'SELECT * FROM "{table}"'):
            for column in row.keys():
                value = row[column]
                if column in PERSON_COLUMNS and value == person_id:
                    found.append((table, column, value))
                elif isinstance(value, str) and (value == f"person:{person_id}"
                                                 or any(word in value for word in words)):
                    found.append((table, column, value))
    return found


async def test_the_button_erases_and_no_table_names_them_afterwards(h: Harness) -> None:
    announcement = await member_with_history(h)
    person_id = await _person_id(h, MEMBER)
    await say(h, MEMBER, "link")  # a code their account gave
    wrong = await h.say(MEMBER, "link 2222-3333", platform="test", platform_role=Role.MEMBER)  # a wrong code typed
    assert wrong.message.is_error
    before = {table for table, _column, _value in await rows_naming(h, person_id, {MEMBER})}
    assert {"link_codes", "link_attempts", "identities", "deliveries", "audit_log"} <= before, before

    asked = await h.say(MEMBER, "forget me", platform="test", platform_role=Role.MEMBER)
    (button,) = asked.message.actions
    assert button.command == "forget me confirm" and button.style is ActionStyle.DANGER
    assert await h.app.store.people.identity(Identity("test", MEMBER)) is not None, "asking erases nothing"

    assert await say(h, MEMBER, button.command) == ERASED
    assert await rows_naming(h, person_id, {MEMBER}) == []

    kept = await h.app.store.announcements.get(announcement)
    assert kept is not None and kept.text == "Field notes from the member"
    (erasure,) = [e for e in await h.app.store.audit.recent(200) if e.action is AuditAction.PERSON_ERASE]
    assert erasure.actor_id is None and erasure.subject == ERASED_SUBJECT and erasure.after is None
    assert any(e.subject == ERASED_SUBJECT and e.action is AuditAction.ROLE_GRANT
               for e in await h.app.store.audit.recent(200)), "the grant's entry stays, about nobody"
    other = await h.app.store.people.identity(Identity("test", OTHER))
    assert other is not None, "nobody else is touched"
    status = await h.text("demo-admin", f"announce status {announcement}")
    assert "Delivered" in status


async def test_what_they_wrote_still_goes_out_signed_by_a_former_member(h: Harness) -> None:
    await say(h, OTHER, "subscribe disinformation")
    await say(h, MEMBER, "whoami")
    await announce_as_member(h, "Still worth reading")
    assert await say(h, MEMBER, "forget me confirm") == ERASED  # typed: no button needed

    await h.app.run_due()
    (copy,) = h.adapter.dms_to(OTHER)
    assert "Still worth reading" in copy.plain_text()
    assert copy.footer is not None and "From a former member" in copy.footer
    assert MEMBER not in copy.plain_text()


async def test_the_last_admin_is_refused_and_nothing_changes(h: Harness) -> None:
    reply = await h.say("demo-admin", "forget me confirm")
    assert reply.message.is_error
    assert "last admin" in reply.message.plain_text()
    assert await h.app.store.people.identity(Identity("console", "demo-admin")) is not None
    assert not [e for e in await h.app.store.audit.recent(200) if e.action is AuditAction.PERSON_ERASE]

    await h.say("root", "whoami", platform="test")  # the other admin named in the settings makes contact
    reply = await h.say("demo-admin", "forget me confirm")
    assert not reply.message.is_error, reply.message.plain_text()
    assert await h.app.store.people.identity(Identity("console", "demo-admin")) is None


async def test_two_confirms_at_once_answer_like_two_in_a_row(h: Harness) -> None:
    await say(h, OTHER, "subscribe disinformation")
    in_a_row = [await say(h, OTHER, "forget me confirm"), await say(h, OTHER, "forget me confirm")]

    await say(h, MEMBER, "subscribe disinformation")
    person_id = await _person_id(h, MEMBER)
    async with asyncio.timeout(WAIT):
        at_once = await asyncio.gather(*(h.say(MEMBER, "forget me confirm", platform="test",
                                               platform_role=Role.MEMBER) for _ in range(2)))
    assert [r.message.plain_text() for r in at_once] == in_a_row == [ERASED, ERASED]
    assert await rows_naming(h, person_id, {MEMBER}) == []


async def test_a_scheduled_announcement_of_an_erased_author_goes_out_later(h: Harness) -> None:
    await say(h, OTHER, "subscribe disinformation")
    await say(h, MEMBER, "whoami")
    announcement_id = await announce_as_member(h, "Read this tomorrow when:in 2h")
    person_id = await _person_id(h, MEMBER)
    assert await say(h, MEMBER, "forget me confirm") == ERASED

    h.clock.advance(hours=3)
    await h.app.run_due()
    (copy,) = h.adapter.dms_to(OTHER)
    assert copy.footer is not None and "From a former member" in copy.footer
    announcement = await h.app.store.announcements.get(announcement_id)
    assert announcement is not None and announcement.state.value == "sent"
    assert await rows_naming(h, person_id, {MEMBER}) == []
    reports = [d for d in await h.app.store.outbox.by_kind(DeliveryKind.REPORT) if d.announcement_id == announcement.id]
    assert reports == []  # nobody to tell: no report row for the placeholder author


async def test_an_erased_author_s_drafts_go_with_them(h: Harness) -> None:
    await say(h, MEMBER, "whoami")
    await h.say("demo-admin", f"role grant test:{MEMBER} coordinator disinformation")
    preview = await h.say(MEMBER, "announce new disinformation Never finished", platform="test",
                          platform_role=Role.MEMBER)
    number = int(next(a.command for a in preview.message.actions
                      if a.command.startswith("announce confirm")).rsplit(" ", 1)[1])
    assert await h.app.store.announcements.get(number) is not None
    assert await say(h, MEMBER, "forget me confirm") == ERASED
    assert await h.app.store.announcements.get(number) is None


async def test_an_erased_person_s_id_never_names_a_newcomer(h: Harness) -> None:
    await member_with_history(h)
    person_id = await _person_id(h, MEMBER)
    assert await say(h, MEMBER, "forget me confirm") == ERASED
    newcomer = await h.app.store.people.ensure_identity(Identity("test", "newcomer-1"), "newcomer", h.clock.now())
    assert newcomer.person_id > person_id


async def test_only_name_parameters_are_scrubbed_from_other_people_s_messages(h: Harness) -> None:
    """A display name that is also a topic's slug: the erasure replaces the name where a message names the
    person, never the same word where it names the topic."""
    await say(h, "whrd-safety", "subscribe whrd-safety")  # a person called like the topic asks to join it
    before = [d.payload for d in await h.app.store.outbox.by_kind(DeliveryKind.NOTICE)]
    assert any("whrd-safety" in p for p in before)
    assert await say(h, "whrd-safety", "forget me confirm") == ERASED
    after = [d.payload for d in await h.app.store.outbox.by_kind(DeliveryKind.NOTICE)]
    assert after and all('["topic", "whrd-safety"]' in p or '"topic"' not in p for p in after), after
    assert any("a former member" in p for p in after)


async def _announce(h: Harness, topic: str, text: str) -> int:
    preview = await h.say("demo-admin", f"announce new {topic} {text}")
    confirm = next(a.command for a in preview.message.actions if a.command.startswith("announce confirm"))
    assert not (await h.say("demo-admin", confirm)).message.is_error
    return int(confirm.rsplit(" ", 1)[1])


async def _totals(h: Harness, announcement: int) -> tuple[dict[str, int], tuple[int, int]]:
    live = await h.app.store.delivery_reports.live_counts(announcement)
    return {c.status.value: c.count for c in live}, await h.app.store.digests.counts(announcement)


async def test_reports_keep_what_went_to_them_and_drop_what_never_will(h: Harness) -> None:
    """A sent copy and a digest already sent keep counting after the erasure (the numbers name nobody); a copy
    still queued and a digest item still waiting stop counting, and the announcement settles without them."""
    await say(h, MEMBER, "subscribe disinformation")
    await say(h, MEMBER, "subscribe elections mode:daily")
    await say(h, OTHER, "subscribe elections mode:daily")
    digested = await _announce(h, "elections", "In yesterday's digest")
    await h.app.run_due()
    h.clock.advance(days=1, minutes=5)
    await h.app.run_due()
    sent = await _announce(h, "disinformation", "Already delivered")
    await h.app.run_due()
    waiting = await _announce(h, "elections", "Still waiting for a digest")
    await h.app.run_due()
    queued = await _announce(h, "disinformation", "Not sent yet")
    await h.app.db.execute("UPDATE deliveries SET status = 'pending' WHERE announcement_id = ? AND status = 'sent'",
                           (queued,))  # the worker has not reached it yet
    before = {n: await _totals(h, n) for n in (digested, sent, waiting, queued)}
    (in_digests, went), (to_digest, none_yet) = before[digested][1], before[waiting][1]
    assert in_digests == went >= 2 and to_digest >= 2 and none_yet == 0, before
    assert before[sent][0].get("sent", 0) >= 1 and before[queued][0].get("pending", 0) >= 1, before

    assert await say(h, MEMBER, "forget me confirm") == ERASED

    after = {n: await _totals(h, n) for n in (digested, sent, waiting, queued)}
    assert after[digested] == before[digested] and after[sent] == before[sent]
    assert after[waiting] == (before[waiting][0], (to_digest - 1, 0))
    assert after[queued][0]["pending"] == before[queued][0]["pending"] - 1
    await h.app.run_due()
    settled = await h.app.store.announcements.get(queued)
    assert settled is not None and settled.state.value == "sent"
    status = await h.text("demo-admin", f"announce status {queued}")
    assert "Finished." in status, status


async def test_discord_send_attempt_records_of_their_messages_go_with_them(h: Harness) -> None:
    """Every key shape the outbox writes for a person, as production code builds it: their announcement copy, its
    copies pinned to other platforms (``copy_key``), a digest (the digest job's own key, read back from the
    outbox). The delivery rows are gone first, as retention leaves them: only the key's shape can find them."""
    await say(h, OTHER, "subscribe elections mode:daily")
    await say(h, MEMBER, "subscribe elections mode:daily")
    await _announce(h, "elections", "For the digest")
    await h.app.run_due()
    h.clock.advance(days=1, minutes=5)
    await h.app.run_due()
    announcement = await member_with_history(h)
    person_id = await _person_id(h, MEMBER)
    other_id = await _person_id(h, OTHER)
    digests = {d.person_id: d.dedupe_key for d in await h.app.store.outbox.by_kind(DeliveryKind.DIGEST)}
    assert {person_id, other_id} <= set(digests), digests
    sent = [d.dedupe_key for d in await h.app.store.outbox.by_kind(DeliveryKind.ANNOUNCEMENT)
            if d.person_id == person_id]
    assert sent
    stranger = person_id * 10 + 1  # their id is a prefix of this one's: its keys must stay
    theirs = {*sent, digests[person_id], counted_key(announcement, person_id),
              *(copy_key(announcement, platform, person_id) for platform in ("slack", "discord", "email"))}
    others = {digests[other_id], rewritten_key(digests[person_id], person_id, stranger),
              counted_key(announcement, other_id), counted_key(announcement, stranger),
              copy_key(announcement, "slack", other_id), copy_key(announcement, "slack", stranger)}
    attempts = SqliteSendAttempts(h.app.db)
    for key in theirs | others:
        await attempts.first_attempt(key, h.clock.now())
    await h.app.db.execute("DELETE FROM deliveries WHERE kind IN (?, ?)",
                           (DeliveryKind.DIGEST.value, DeliveryKind.REMINDER.value))

    assert await say(h, MEMBER, "forget me confirm") == ERASED

    left = {row["delivery_key"] for row in await h.app.db.fetch_all("SELECT delivery_key FROM discord_send_attempts")}
    assert left == others, "theirs go, another person's stay"


async def test_an_invitation_and_a_decided_request_stop_naming_them(h: Harness) -> None:
    await say(h, MEMBER, "whoami")
    person_id = await _person_id(h, MEMBER)
    await h.say("demo-admin", f"topic invite incident-response test:{MEMBER}")
    await say(h, MEMBER, "subscribe whrd-safety")
    assert "Approved" in await h.text("demo-admin", "approve 1")
    about = await h.app.db.fetch_all("SELECT action FROM audit_log WHERE about_id = ?", (person_id,))
    assert {row["action"] for row in about} == {"topic.invite", "request.approve"}

    assert await say(h, MEMBER, "forget me confirm") == ERASED

    assert await rows_naming(h, person_id, {MEMBER}) == []
    (invite,) = [e for e in await h.app.store.audit.recent(200) if e.action is AuditAction.TOPIC_INVITE]
    assert invite.after == '{"person": null}'
    assert "invited someone to a topic" in await h.text("demo-admin", "audit"), "what happened stays"
