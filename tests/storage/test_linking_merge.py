"""The merge of two people, rule by rule, on a real database (a SQLite file, or PostgreSQL); and the guards: every
column with a foreign key to ``people`` is one the merge handles, and after a merge no row of any table names the
absorbed person."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.audit import AuditAction
from bot.delivery.model import DeliveryKind, NewDelivery
from bot.delivery.payloads import NoticePayload
from bot.messages import Message
from bot.model import Identity
from storage.database import Database, to_db_time
from storage.linking_merge import PERSON_COLUMNS, UNKEYED_PERSON_COLUMNS
from storage.privacy import KEY_NAMES_PERSON, SqlitePrivacy, person_key_patterns
from storage.send_attempts import SqliteSendAttempts
from storage.store import SqliteStore
from tests.bot.privacy.helpers import table_names
from tests.postgres_server import storage_target

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def person_columns(db: Database) -> set[tuple[str, str]]:
    """(table, column) of every foreign key to ``people`` in the database, read from the engine's own catalogue
    (SQLite's foreign key lists, PostgreSQL's ``pg_constraint``)."""
    if db.dialect == "postgresql":
        rows = await db.fetch_all(
            "SELECT CAST(c.conrelid AS regclass) AS tab, a.attname AS col FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
            " WHERE c.contype = 'f' AND c.confrelid = CAST('people' AS regclass)")
        return {(str(row["tab"]), str(row["col"])) for row in rows}
    found = set()
    for table in await table_names(db):
        for key in await db.fetch_all(f"PRAGMA foreign_key_list('{table}')"):
            if key["table"] == "people":
                found.add((table, key["from"]))
    return found


async def rows_naming(db: Database, person_id: int) -> list[tuple[str, str, Any]]:
    """Every (table, column, value) naming the person: their id in a column with a foreign key to ``people``, a
    ``person:<id>`` subject, or an invitation's audit entry about them. Every table, whatever it is."""
    columns = await person_columns(db) | set(UNKEYED_PERSON_COLUMNS)
    found = []
    for table in await table_names(db):
        for row in await db.fetch_all(f'SELECT * FROM "{table}"'):
            for column in row.keys():
                value = row[column]
                if (table, column) in columns and value == person_id:
                    found.append((table, column, value))
                elif table == "people" and column == "id" and value == person_id:
                    found.append((table, column, value))
                elif isinstance(value, str) and value == f"person:{person_id}":
                    found.append((table, column, value))
                elif table == "audit_log" and column in ("before", "after") and isinstance(value, str) \
                        and value.startswith("{") and person_id in (json.loads(value).get("person"),
                                                                    json.loads(value).get("added_by")):
                    found.append((table, column, value))
    return found


async def test_every_foreign_key_to_people_is_handled_by_the_merge(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        assert await person_columns(db) == set(PERSON_COLUMNS), "a column the merge does not know names people"
        # The guard sees a new one: a table added by a later migration would fail it.
        await db.execute("CREATE TABLE later (id INTEGER PRIMARY KEY, owner INTEGER REFERENCES people(id))")
        assert await person_columns(db) - set(PERSON_COLUMNS) == {("later", "owner")}


async def test_the_key_shapes_find_exactly_the_keys_that_name_the_person(tmp_path: Path) -> None:
    """The one list of shapes, spelt for this run's engine (GLOB or LIKE), matches the keys naming person 7 and
    none naming 17 or 70, nor one that only holds a pattern character of either spelling."""
    naming = {"announcement:3:person:7", "reminder:2:person:7:x", "ann:3:copy:slack:7", "digest:7:daily:2026-11-23"}
    others = {"announcement:3:person:17", "announcement:3:person:70", "reminder:2:person:70:x", "ann:3:copy:slack:17",
              "ann:3:copy:slack:70", "digest:70:daily:2026-11-23", "digest:17:daily", "ann:7:copy:slack:1",
              "announcement:7:person:1", "a_person:7x", "x%person:7", "ann:3:copy*7"}
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        await db.execute_many("INSERT INTO discord_send_attempts (delivery_key, first_at) VALUES (?, ?)",
                              [(key, to_db_time(T0)) for key in sorted(naming | others)])
        rows = await db.fetch_all(
            f"SELECT delivery_key FROM discord_send_attempts WHERE {KEY_NAMES_PERSON[db.dialect]}",
            person_key_patterns(7, db.dialect))
        assert {row["delivery_key"] for row in rows} == naming


@dataclass
class World:
    db: Database
    store: SqliteStore
    s: int
    a: int
    other: int
    topics: dict[str, int]


async def _topic(db: Database, slug: str) -> int:
    return await db.insert("INSERT INTO topics (slug, title, visibility, policy, created_at) VALUES (?, ?, 'public',"
                           " 'open', ?)", (slug, slug, to_db_time(T0)))


async def _delivery(store: SqliteStore, key: str, person: int, status: str, *, kind: DeliveryKind = DeliveryKind.NOTICE,
                    announcement: int | None = None, uncertain: bool = False) -> None:
    await store.outbox.enqueue([NewDelivery(dedupe_key=key, kind=kind, payload=NoticePayload(Message(body=("x",))),
                                            not_before=T0, person_id=person, announcement_id=announcement)], T0)
    await store.db.execute("UPDATE deliveries SET status = ?, uncertain = ? WHERE dedupe_key = ?",
                           (status, int(uncertain), key))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """S (slack) will absorb A (discord); ``other`` is a third person who only appears beside them."""
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        s = (await store.people.ensure_identity(Identity("slack", "S1"), "Sam", T0)).person_id
        a = (await store.people.ensure_identity(Identity("discord", "A1"), "Alex", T0)).person_id
        await store.people.ensure_identity(Identity("discord", "A2"), "Alex too", T0)
        await db.execute("UPDATE identities SET person_id = ? WHERE external_id = 'A2'", (a,))
        other = (await store.people.ensure_identity(Identity("slack", "O1"), "Olu", T0)).person_id
        topics = {slug: await _topic(db, slug) for slug in ("t1", "t2", "t3", "t4", "t5", "t6")}
        yield World(db, store, s, a, other, topics)


async def _populate(w: World) -> None:
    db, s, a, t = w.db, w.s, w.a, w.topics
    at = [to_db_time(T0 + timedelta(minutes=n)) for n in range(10)]

    async def run(sql: str, *params: object) -> None:
        await db.execute(sql, params)

    subscribe = "INSERT INTO subscriptions (person_id, topic_id, mode, created_at) VALUES (?, ?, ?, ?)"
    for person, topic, mode in ((s, "t1", "weekly"), (a, "t1", "immediate"), (s, "t2", "daily"), (a, "t2", "channel"),
                                (a, "t3", "daily"), (s, "t4", "channel")):
        await run(subscribe, person, t[topic], mode, at[0])
    request = ("INSERT INTO subscription_requests (person_id, topic_id, mode, status, created_at, expires_at,"
               " decided_by) VALUES (?, ?, 'daily', ?, ?, ?, ?)")
    await run(request, a, t["t1"], "pending", at[0], at[9], None)  # the merged person follows t1: withdrawn
    await run(request, a, t["t5"], "pending", at[0], at[9], None)  # a duplicate of S's: withdrawn
    await run(request, s, t["t5"], "pending", at[1], at[9], None)  # kept
    await run(request, s, t["t3"], "pending", at[1], at[9], None)  # A follows t3: withdrawn
    await run(request, a, t["t2"], "approved", at[0], at[9], w.other)  # history moves
    await run(request, w.other, t["t6"], "denied", at[0], at[9], a)  # A decided: repointed
    invite = "INSERT INTO invitations (person_id, topic_id, invited_by, created_at) VALUES (?, ?, ?, ?)"
    await run(invite, a, t["t5"], w.other, at[0])
    await run(invite, s, t["t5"], w.other, at[1])
    await run(invite, a, t["t6"], w.other, at[0])
    await run(invite, w.other, t["t4"], a, at[0])
    grant = "INSERT INTO grants (person_id, role, topic_id, granted_by, created_at) VALUES (?, ?, ?, ?, ?)"
    await run(grant, s, "member", None, None, at[5])
    await run(grant, a, "member", None, w.other, at[2])  # older: kept, with its origin
    await run(grant, a, "coordinator", t["t1"], w.other, at[3])
    await run(grant, w.other, "member", None, a, at[4])  # granted by A: repointed
    meeting = ("INSERT INTO meetings (topic_id, author_id, title, start_local, zone, duration_minutes, remind, state,"
               " created_at) VALUES (?, ?, 'm', '2026-12-01T10:00', 'UTC', 60, '', 'active', ?)")
    await run(meeting, t["t1"], a, at[0])
    await run(meeting, t["t1"], s, at[0])
    rsvp = "INSERT INTO meeting_rsvps (meeting_id, person_id, occurrence, answer, updated_at) VALUES (?, ?, ?, ?, ?)"
    await run(rsvp, 1, s, "", "yes", at[1])
    await run(rsvp, 1, a, "", "no", at[2])  # later: wins
    await run(rsvp, 1, s, "2026-12-08T10:00", "maybe", at[3])  # later: wins
    await run(rsvp, 1, a, "2026-12-08T10:00", "yes", at[2])
    await run(rsvp, 2, a, "", "maybe", at[2])  # A's alone: moves
    announce = "INSERT INTO announcements (topic_id, author_id, text, state, created_at) VALUES (?, ?, ?, 'sent', ?)"
    await run(announce, t["t1"], a, "first", at[0])
    await run(announce, t["t1"], s, "second", at[0])
    await run(announce, t["t1"], s, "third", at[0])
    digest = ("INSERT INTO digest_items (person_id, announcement_id, mode, created_at, digest_key)"
              " VALUES (?, ?, ?, ?, ?)")
    await run(digest, s, 1, "daily", at[0], None)
    await run(digest, a, 1, "daily", at[0], None)  # a duplicate: one per announcement
    await run(digest, a, 2, "daily", at[0], f"digest:{a}:daily:2026-11-23")  # moves, its key renamed
    await _delivery(w.store, f"ann:1:person:{s}", s, "sent", kind=DeliveryKind.ANNOUNCEMENT, announcement=1)
    await _delivery(w.store, f"ann:1:person:{a}", a, "pending", kind=DeliveryKind.ANNOUNCEMENT, announcement=1)
    await _delivery(w.store, f"rem:5:person:{s}", s, "sent")
    await _delivery(w.store, f"rem:5:person:{a}", a, "sending")  # the same key once rewritten, but being sent: kept
    await _delivery(w.store, f"note:9:person:{a}", a, "sent")  # history: moves, key rewritten
    await _delivery(w.store, f"old:person:{s}", s, "sent")
    await _delivery(w.store, f"old:person:{a}", a, "failed")  # history whose rewritten key is taken: as it is
    await _delivery(w.store, f"digest:{a}:daily:2026-11-23:person:{a}", a, "pending", kind=DeliveryKind.DIGEST)
    await _delivery(w.store, f"ann:3:person:{a}", a, "pending", kind=DeliveryKind.ANNOUNCEMENT, announcement=3)
    await run("UPDATE people SET timezone = 'Africa/Nairobi', language = NULL, organisation = NULL, country = 'KE'"
              " WHERE id = ?", s)
    await run("UPDATE people SET timezone = 'Europe/Paris', language = 'fr', organisation = 'Org', country = 'FR'"
              " WHERE id = ?", a)
    await run("INSERT INTO resources (url, url_key, title, kind, language, visibility, added_by, created_at,"
              " updated_at) VALUES ('https://x.org', 'x.org', 'x', 'report', 'en', 'public', ?, ?, ?)", a, at[0], at[0])
    await run("INSERT INTO email_signups (person_id, address, topic_id, mode, language, zone, token, created_at,"
              " expires_at) VALUES (?, 'a@x.org', ?, 'daily', 'en', 'UTC', 'tok', ?, ?)", a, t["t1"], at[0], at[9])
    await w.store.audit.record(a, AuditAction.ROLE_GRANT, f"person:{w.other}", None, "member", T0)
    await w.store.audit.record(w.other, AuditAction.ROLE_GRANT, f"person:{a}", None, "member", T0)
    await w.store.audit.record(w.other, AuditAction.TOPIC_INVITE, "t6", None, json.dumps({"person": a}), T0)
    await w.store.audit.record(w.other, AuditAction.RESOURCE_EDIT, "resource:1", json.dumps({"added_by": a}),
                               json.dumps({"added_by": a, "title": "y"}), T0)


async def test_the_plan_counts_what_the_merge_then_does(world: World) -> None:
    w = world
    await _populate(w)
    plan = await w.store.links.plan(w.s, w.a)
    assert (plan.survivor_platforms, plan.absorbed_platforms, plan.platforms) == (("slack",), ("discord",),
                                                                                  ("discord", "slack"))
    assert plan.identities == 2
    assert plan.new_topics == ("t3",) and plan.more_often == ("t1",)
    assert plan.withdrawn == ("t1", "t3", "t5")
    assert (plan.requests, plan.invitations, plan.grants, plan.rsvps) == (3, 1, 1, 2)
    assert (plan.history, plan.queued, plan.duplicates) == (2, 3, 1)
    assert plan.settings == ("language", "organisation")
    assert await rows_naming(w.db, w.a), "nothing changed by planning"

    done = await w.store.links.merge(w.s, w.a, T0 + timedelta(hours=1))
    assert done == plan
    assert await rows_naming(w.db, w.a) == []
    assert await w.store.people.get(w.a) is None
    newcomer = await w.store.people.ensure_identity(Identity("slack", "new"), "New", T0)
    assert newcomer.person_id > w.a, "the absorbed id never names anybody again"


async def _all(db: Database, sql: str, *params: object) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await db.fetch_all(sql, params)]


async def test_each_merge_rule(world: World) -> None:
    w = world
    db, s, a, t, other = w.db, w.s, w.a, w.topics, w.other
    await _populate(w)
    await w.store.links.merge(s, a, T0 + timedelta(hours=1))
    slug = {v: k for k, v in t.items()}

    assert {i.identity.external_id for i in await w.store.people.identities_of(s)} == {"S1", "A1", "A2"}
    subscriptions = {slug[topic]: mode for topic, mode in await _all(
        db, "SELECT topic_id, mode FROM subscriptions WHERE person_id = ?", s)}
    assert subscriptions == {"t1": "immediate", "t2": "daily", "t3": "daily", "t4": "channel"}

    requests = sorted((slug[topic], status, by) for topic, status, by in await _all(
        db, "SELECT topic_id, status, decided_by FROM subscription_requests WHERE person_id = ?", s))
    assert requests == [("t1", "withdrawn", s), ("t2", "approved", other), ("t3", "withdrawn", s),
                        ("t5", "pending", None), ("t5", "withdrawn", s)]
    assert await _all(db, "SELECT decided_by FROM subscription_requests WHERE person_id = ?", other) == [(s,)]

    assert sorted(await _all(db, "SELECT topic_id, invited_by FROM invitations")) == \
        sorted([(t["t5"], other), (t["t6"], other), (t["t4"], s)])
    assert await _all(db, "SELECT created_at FROM invitations WHERE person_id = ? AND topic_id = ?", s, t["t5"]) == \
        [(to_db_time(T0 + timedelta(minutes=1)),)], "one invitation per topic: the survivor's"

    grants = sorted(await _all(db, "SELECT role, topic_id, granted_by, created_at FROM grants WHERE person_id = ?", s))
    assert grants == [("coordinator", t["t1"], other, to_db_time(T0 + timedelta(minutes=3))),
                      ("member", None, other, to_db_time(T0 + timedelta(minutes=2)))], "the older, with its origin"
    assert await _all(db, "SELECT granted_by FROM grants WHERE person_id = ?", other) == [(s,)]

    assert sorted(await _all(db, "SELECT meeting_id, occurrence, answer FROM meeting_rsvps WHERE person_id = ?", s)) \
        == [(1, "", "no"), (1, "2026-12-08T10:00", "maybe"), (2, "", "maybe")]

    person = await w.store.people.get(s)
    assert person is not None
    assert (person.display_name, person.timezone, person.language, person.organisation, person.country) == \
        ("Sam", "Africa/Nairobi", "fr", "Org", "KE"), "the confirming side's where set, else the other's"

    deliveries = {key: status for key, status in await _all(
        db, "SELECT dedupe_key, status FROM deliveries WHERE person_id = ?", s)}
    assert deliveries == {f"ann:1:person:{s}": "sent", f"rem:5:person:{s}": "sent", f"note:9:person:{s}": "sent",
                          f"rem:5:person:{a}": "sending",
                          f"old:person:{s}": "sent", f"old:person:{a}": "failed",
                          f"digest:{s}:daily:2026-11-23:person:{s}": "pending", f"ann:3:person:{s}": "pending"}
    assert sorted(await _all(db, "SELECT announcement_id, digest_key FROM digest_items WHERE person_id = ?", s)) == \
        [(1, None), (2, f"digest:{s}:daily:2026-11-23")]

    for table, column in (("announcements", "author_id"), ("meetings", "author_id"), ("resources", "added_by"),
                          ("email_signups", "person_id")):
        assert a not in {row[0] for row in await _all(db, f"SELECT {column} FROM {table}")}, table
    assert await _all(db, "SELECT author_id FROM announcements WHERE text = 'first'") == [(s,)]
    audit = await _all(db, "SELECT actor_id, subject, after FROM audit_log ORDER BY id")
    assert audit[0][0] == s and audit[1][1] == f"person:{s}" and json.loads(audit[2][2]) == {"person": s}
    assert json.loads(audit[3][2]) == {"added_by": s, "title": "y"}
    about = await _all(db, "SELECT about_id FROM audit_log ORDER BY id")
    assert about == [(other,), (s,), (s,), (s,)], "whom each entry is about follows the person"


async def test_the_other_side_s_preferred_platform_is_taken_before_its_accounts_move(world: World) -> None:
    w = world
    await w.db.execute("UPDATE people SET preferred_platform = NULL WHERE id = ?", (w.s,))
    await w.db.execute("UPDATE people SET preferred_platform = 'discord' WHERE id = ?", (w.a,))
    plan = await w.store.links.plan(w.s, w.a)
    assert plan.settings == ("preferred_platform",)
    await w.store.links.merge(w.s, w.a, T0)
    person = await w.store.people.get(w.s)
    assert person is not None and person.preferred_platform == "discord"


async def test_an_uncertain_row_keeps_its_key_so_its_read_back_still_finds_it(world: World) -> None:
    w = world
    await _delivery(w.store, f"ann:7:person:{w.a}", w.a, "pending", uncertain=True)
    await w.store.links.merge(w.s, w.a, T0)
    assert await _all(w.db, "SELECT dedupe_key, person_id FROM deliveries") == [(f"ann:7:person:{w.a}", w.s)]


async def test_merging_unknown_or_equal_people_changes_nothing(world: World) -> None:
    w = world
    for survivor, absorbed in ((w.s, 999), (999, w.a), (w.s, w.s)):
        with pytest.raises(LookupError):
            await w.store.links.merge(survivor, absorbed, T0)
    assert await w.store.people.get(w.a) is not None


async def test_split_gives_the_platform_s_accounts_a_person_of_their_own(world: World) -> None:
    w = world
    await w.db.execute("UPDATE people SET language = 'fr', timezone = 'Europe/Paris', organisation = 'Org',"
                       " preferred_platform = 'discord' WHERE id = ?", (w.a,))
    await w.db.execute("UPDATE identities SET person_id = ? WHERE platform = 'slack' AND external_id = 'S1'", (w.a,))
    new = await w.store.links.split(w.a, "discord", T0)
    assert new > w.other
    person = await w.store.people.get(new)
    assert person is not None
    assert (person.display_name, person.language, person.timezone, person.organisation) == \
        ("Alex", "fr", "Europe/Paris", None)
    assert {i.identity.external_id for i in await w.store.people.identities_of(new)} == {"A1", "A2"}
    kept = await w.store.people.get(w.a)
    assert kept is not None and kept.preferred_platform is None
    with pytest.raises(LookupError):
        await w.store.links.split(w.a, "discord", T0)


async def _announcements(w: World, count: int) -> None:
    for n in range(1, count + 1):
        await w.db.execute("INSERT INTO announcements (id, topic_id, author_id, text, state, created_at) VALUES"
                           " (?, ?, ?, 'x', 'sending', ?)", (n, w.topics["t1"], w.other, to_db_time(T0)))


async def test_of_two_copies_of_one_message_the_one_not_started_goes_and_a_sending_row_always_stays(
        world: World) -> None:
    """Review of issue 21: only the absorbed side's queued rows were looked at, so a survivor's pending row sent
    again what the absorbed side had already sent, and a row a worker was posting was deleted under it."""
    w = world
    s, a = w.s, w.a
    await _announcements(w, 6)
    cases = {1: ("pending", "sent"), 2: ("pending", "sending"), 3: ("sending", "pending"), 4: ("sending", "sending"),
             5: ("pending", "pending"), 6: ("failed", "pending")}
    for n, (theirs, absorbed) in cases.items():
        await _delivery(w.store, f"ann:{n}:person:{s}", s, theirs, kind=DeliveryKind.ANNOUNCEMENT, announcement=n)
        await _delivery(w.store, f"ann:{n}:person:{a}", a, absorbed, kind=DeliveryKind.ANNOUNCEMENT, announcement=n)
    await _delivery(w.store, f"rem:9:person:{s}", s, "pending")
    await _delivery(w.store, f"rem:9:person:{a}", a, "sent")
    plan = await w.store.links.merge(s, a, T0)
    rows = sorted(await _all(w.db, "SELECT dedupe_key, status FROM deliveries WHERE person_id = ?", s))
    assert rows == sorted([
        (f"ann:1:person:{s}", "sent"),  # the absorbed side's, under the key it would have had
        (f"ann:2:person:{a}", "sending"),  # being sent: its key too stays (the platform finds the attempt by it)
        (f"ann:3:person:{s}", "sending"),
        (f"ann:4:person:{s}", "sending"), (f"ann:4:person:{a}", "sending"),  # both under way: both stay
        (f"ann:5:person:{s}", "pending"),  # neither started: the survivor's
        (f"ann:6:person:{s}", "failed"), (f"ann:6:person:{a}", "pending"),  # the failed one never reached them
        (f"rem:9:person:{s}", "sent"),
    ])
    assert (plan.duplicates, plan.queued) == (5, 3)
    assert await rows_naming(w.db, a) == []


async def test_two_digests_for_one_slot_both_stay_and_each_releases_its_own_items(world: World) -> None:
    """Each digest was written with its own items: dropping one as a duplicate lost those items."""
    w = world
    s, a = w.s, w.a
    await _announcements(w, 2)
    slot = "daily:2026-11-23"
    item = ("INSERT INTO digest_items (person_id, announcement_id, mode, created_at, digest_key)"
            " VALUES (?, ?, 'daily', ?, ?)")
    await w.db.execute(item, (s, 1, to_db_time(T0), f"digest:{s}:{slot}"))
    await w.db.execute(item, (a, 2, to_db_time(T0), f"digest:{a}:{slot}"))
    await _delivery(w.store, f"digest:{s}:{slot}:person:{s}", s, "pending", kind=DeliveryKind.DIGEST)
    await _delivery(w.store, f"digest:{a}:{slot}:person:{a}", a, "pending", kind=DeliveryKind.DIGEST)
    plan = await w.store.links.merge(s, a, T0)
    assert plan.duplicates == 0 and plan.queued == 1
    assert sorted(await _all(w.db, "SELECT dedupe_key, status FROM deliveries WHERE person_id = ?", s)) == \
        sorted([(f"digest:{a}:{slot}:person:{a}", "pending"), (f"digest:{s}:{slot}:person:{s}", "pending")])
    # The absorbed side's digest is missed: its own item, and only it, goes back to the queue.
    await w.db.execute("UPDATE deliveries SET status = 'missed', expires_at = ? WHERE dedupe_key = ?",
                       (to_db_time(T0), f"digest:{a}:{slot}:person:{a}"))
    released = await w.store.digests.release_missed(T0 + timedelta(minutes=1), "late")
    assert released.items == 1
    assert sorted(await _all(w.db, "SELECT announcement_id, digest_key FROM digest_items WHERE person_id = ?", s)) \
        == [(1, f"digest:{s}:{slot}"), (2, None)]


async def test_the_absorbed_side_s_announcement_copies_follow_its_counted_row(world: World) -> None:
    """``settings platform all`` rows: the copies of an announcement the survivor also gets are duplicates; those
    of one it does not get move under the survivor's copy key, which the worker looks them up by."""
    w = world
    s, a = w.s, w.a
    await _announcements(w, 2)
    await _delivery(w.store, f"ann:1:person:{s}", s, "pending", kind=DeliveryKind.ANNOUNCEMENT, announcement=1)
    for n in (1, 2):
        await _delivery(w.store, f"ann:{n}:person:{a}", a, "pending", kind=DeliveryKind.ANNOUNCEMENT, announcement=n)
        await _delivery(w.store, f"ann:{n}:copy:email:{a}", a, "pending", kind=DeliveryKind.ANNOUNCEMENT_COPY,
                        announcement=n)
    plan = await w.store.links.merge(s, a, T0)
    assert plan.duplicates == 2
    assert sorted(await _all(w.db, "SELECT dedupe_key, kind FROM deliveries WHERE person_id = ?", s)) == [
        (f"ann:1:person:{s}", "announcement"), (f"ann:2:copy:email:{s}", "announcement-copy"),
        (f"ann:2:person:{s}", "announcement")]


async def _attempts(db: Database) -> dict[str, str]:
    return {row["delivery_key"]: row["first_at"]
            for row in await db.fetch_all("SELECT delivery_key, first_at FROM discord_send_attempts")}


async def test_discord_s_first_attempt_records_follow_the_merge_so_erasure_finds_them(world: World) -> None:
    """Second review, point 4: the merge renamed the absorbed person's outbox keys but not Discord's first-attempt
    records kept by those keys, so the merged person's ``forget me`` (by the survivor's id and keys) left records
    naming both ids."""
    w = world
    s, a, other = w.s, w.a, w.other
    await _announcements(w, 3)
    await _delivery(w.store, f"note:9:person:{a}", a, "sent")  # renamed: its record follows
    await _delivery(w.store, f"rem:5:person:{a}", a, "sending")  # keeps its key, and its record
    await _delivery(w.store, f"ann:1:person:{s}", s, "sent", kind=DeliveryKind.ANNOUNCEMENT, announcement=1)
    await _delivery(w.store, f"ann:1:person:{a}", a, "pending", kind=DeliveryKind.ANNOUNCEMENT, announcement=1)
    await _delivery(w.store, f"ann:2:person:{s}", s, "pending", kind=DeliveryKind.ANNOUNCEMENT, announcement=2)
    await _delivery(w.store, f"ann:2:person:{a}", a, "sent", kind=DeliveryKind.ANNOUNCEMENT, announcement=2)
    await _delivery(w.store, f"rem:6:person:{other}", other, "sent")
    early, late = T0 - timedelta(hours=1), T0
    attempts = {f"note:9:person:{a}": late, f"rem:5:person:{a}": late,
                f"ann:1:person:{a}": late,  # the dropped duplicate's: goes
                f"ann:2:person:{s}": late,  # the dropped survivor row's key, now the absorbed row's: the earlier stays
                f"ann:2:person:{a}": early,
                f"old:person:{a}": late, f"ann:3:copy:discord:{a}": late,  # rows retention pruned: go
                f"rem:6:person:{other}": late}
    for key, at in attempts.items():
        await SqliteSendAttempts(w.db).first_attempt(key, at)

    plan = await w.store.links.merge(s, a, T0)
    assert plan.duplicates == 2
    assert await _attempts(w.db) == {
        f"note:9:person:{s}": to_db_time(late), f"rem:5:person:{a}": to_db_time(late),
        f"ann:2:person:{s}": to_db_time(early), f"rem:6:person:{other}": to_db_time(late)}

    erased = await SqlitePrivacy(w.db).erase(s, T0)
    assert erased is not None
    assert await _attempts(w.db) == {f"rem:6:person:{other}": to_db_time(late)}, "nothing names either of them"
