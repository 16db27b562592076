"""Joining two people into one: the merge plan read from both sides, and the merge itself.

The sibling of the erasure (``storage/privacy.py``): that one enumerates every row that names a person to delete or
anonymise it; this one enumerates the same rows to move them to another person. :data:`PERSON_COLUMNS` lists every
column with a foreign key to ``people`` and how the merge treats it; ``tests/storage/test_linking_merge.py`` fails
when a migration adds one that is not listed, so a new table cannot be silently dropped by the final delete's
cascade.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.audit.about import with_person_replaced
from bot.delivery.model import DeliveryKind
from bot.linking.model import MergePlan
from storage.database import Database, to_db_time
from storage.privacy import KEY_NAMES_PERSON, person_key_patterns

PERSON_COLUMNS: dict[tuple[str, str], str] = {
    ("identities", "person_id"): "move",
    ("subscriptions", "person_id"): "union, the more frequent mode",
    ("subscription_requests", "person_id"): "move, a duplicate pending request withdrawn",
    ("subscription_requests", "decided_by"): "repoint",
    ("invitations", "person_id"): "move, one per topic",
    ("invitations", "invited_by"): "repoint",
    ("grants", "person_id"): "union, a duplicate keeps the older",
    ("grants", "granted_by"): "repoint",
    ("meeting_rsvps", "person_id"): "the later answer per occurrence",
    ("digest_items", "person_id"): "union, one per announcement",
    ("deliveries", "person_id"): "history moves; of two copies of one message the one not started is dropped",
    ("announcements", "author_id"): "repoint",
    ("meetings", "author_id"): "repoint",
    ("resources", "added_by"): "repoint",
    ("audit_log", "actor_id"): "repoint",
    ("email_signups", "person_id"): "repoint",
}
"""(table, column) of every foreign key to ``people``, and what the merge does with it."""
UNKEYED_PERSON_COLUMNS: dict[tuple[str, str], str] = {
    ("audit_log", "about_id"): "repoint, with the subject and the person ids in before and after",
}
"""Columns holding a person's id without a foreign key (an audit write must never fail on a missing person)."""

SETTINGS = ("timezone", "language", "preferred_platform", "organisation", "country")
"""The settings the confirming side keeps where set, else takes from the other side."""
_FINISHED = "status NOT IN ('pending', 'sending')"
_PENDING, _SENDING, _SENT = "pending", "sending", "sent"
_OPEN = (_PENDING, _SENDING)
_STARTED = (_SENDING, _SENT)
_ANNOUNCEMENT_DMS = (DeliveryKind.ANNOUNCEMENT.value, DeliveryKind.ANNOUNCEMENT_COPY.value)
_COPY_KEY = re.compile(r"ann:\d+:copy:[^:]+:\d+")
"""An ``announcement-copy`` row's key (:func:`bot.delivery.model.copy_key`), ending in its person's id."""
_RANK = "CASE {0} WHEN 'immediate' THEN 0 WHEN 'daily' THEN 1 WHEN 'weekly' THEN 2 ELSE 3 END"
_REPOINTED = (("subscription_requests", "decided_by"), ("invitations", "invited_by"), ("grants", "granted_by"),
              ("announcements", "author_id"), ("meetings", "author_id"), ("resources", "added_by"),
              ("audit_log", "actor_id"), ("email_signups", "person_id"))


def rewritten_key(key: str, absorbed: int, survivor: int) -> str:
    """An outbox key as it would have been written for the survivor: ``…:person:<id>`` at the end (every message
    to a person), an ``announcement-copy`` key's person at the end (:func:`bot.delivery.model.copy_key`) and a
    digest's ``digest:<id>:`` at the start."""
    suffix = f":person:{absorbed}"
    if key.endswith(suffix):
        key = key[: -len(suffix)] + f":person:{survivor}"
    elif _COPY_KEY.fullmatch(key) and key.endswith(f":{absorbed}"):
        key = key[: -len(str(absorbed))] + str(survivor)
    prefix = f"digest:{absorbed}:"
    if key.startswith(prefix):
        key = f"digest:{survivor}:" + key[len(prefix):]
    return key


async def _column(db: Database, sql: str, params: tuple[object, ...]) -> tuple[str, ...]:
    return tuple(str(row[0]) for row in await db.fetch_all(sql, params))


async def _count(db: Database, sql: str, params: tuple[object, ...]) -> int:
    row = await db.fetch_one(sql, params)
    return int(row[0]) if row else 0


@dataclass(frozen=True, slots=True)
class _Outbox:
    """What the merge does to the two people's outbox rows (:func:`_queued_split`)."""

    dropped: list[int]
    """Rows deleted: queued copies of something the person gets (or got) through the other side's row."""
    new_keys: dict[int, str]
    """The absorbed person's rows whose key is rewritten for the survivor."""
    renamed: dict[str, str]
    """The same rewrites by key: old key → new key (Discord's first-attempt records follow them)."""
    queued: int
    """The absorbed person's queued rows that move."""


def _same(kind: str, announcement_id: int | None, key: str) -> tuple[str, object]:
    """What makes two rows the same message for one person: an announcement DM (counted or ``announcement-copy``)
    is the announcement, whatever the platform; any other row its key."""
    if kind in _ANNOUNCEMENT_DMS and announcement_id is not None:
        return ("announcement", announcement_id)
    return ("key", key)


async def _queued_split(db: Database, survivor: int, absorbed: int) -> _Outbox:
    """Which queued rows of the two people are duplicates, and the keys the absorbed person's rows take.

    Two sides' rows are the same message when :func:`_same` says so (the absorbed side's key read as rewritten).
    Of such rows the side that has started (a row ``sent`` or ``sending``) keeps its rows and the other side's
    ``pending`` ones go: what was sent, or is being sent, is not sent again. When neither has started, or both
    have, the survivor's stay and the absorbed side's pending ones go. A ``sending`` row is never deleted (a
    worker is posting it now: its ``mark_sent`` would update nothing and the other row would send too); when
    both sides are sending, both stay and the person gets it twice, which nothing can stop any more. Finished
    rows that did not send (failed, skipped …) stop nothing: the person did not get that message.

    Digests are never duplicates: each was written with its own items when it was queued, so two for one slot
    both go (with the items of each). An absorbed row keeps its key when the rewritten one is taken, and while
    it is ``sending`` or uncertain (the platform finds an earlier attempt by its key: Discord's nonce)."""
    columns = "SELECT id, dedupe_key, kind, status, announcement_id, uncertain FROM deliveries WHERE person_id = ?"
    sides = {side: await db.fetch_all(columns + " ORDER BY id", (side,)) for side in (survivor, absorbed)}
    groups: dict[tuple[str, object], dict[int, list[Any]]] = {}
    for side, rows in sides.items():
        for row in rows:
            if row["kind"] == DeliveryKind.DIGEST.value or row["status"] not in (*_OPEN, _SENT):
                continue
            same = _same(row["kind"], row["announcement_id"], rewritten_key(row["dedupe_key"], absorbed, survivor))
            groups.setdefault(same, {survivor: [], absorbed: []})[side].append(row)
    dropped: set[int] = set()
    for by_side in groups.values():
        if not (by_side[survivor] and by_side[absorbed]):
            continue
        started = {side: any(row["status"] in _STARTED for row in rows) for side, rows in by_side.items()}
        loser = survivor if started[absorbed] and not started[survivor] else absorbed
        dropped.update(row["id"] for row in by_side[loser] if row["status"] == _PENDING)
    keys = {row["dedupe_key"] for rows in sides.values() for row in rows if row["id"] not in dropped}
    new_keys: dict[int, str] = {}
    renamed: dict[str, str] = {}
    queued = 0
    for row in sides[absorbed]:
        if row["id"] in dropped:
            continue
        queued += row["status"] in _OPEN
        key = rewritten_key(row["dedupe_key"], absorbed, survivor)
        if key != row["dedupe_key"] and key not in keys and not row["uncertain"] and row["status"] != _SENDING:
            new_keys[row["id"]] = key
            renamed[row["dedupe_key"]] = key
            keys.add(key)
    return _Outbox(sorted(dropped), new_keys, renamed, queued)


async def _digest_keys(db: Database, survivor: int, absorbed: int, new_keys: dict[int, str]) -> dict[str, str]:
    """The absorbed person's digest item keys to rewrite: those whose digest row takes the survivor's key. Items
    keep the key of a digest row that keeps its own (two digests for one slot), so a missed digest still releases
    its own items (``storage/digests.py`` matches them by the row's key)."""
    rows = await db.fetch_all("SELECT DISTINCT digest_key FROM digest_items WHERE person_id = ? AND digest_key LIKE ?",
                              (absorbed, f"digest:{absorbed}:%"))
    theirs = set(await _column(db, "SELECT dedupe_key FROM deliveries WHERE person_id = ?", (absorbed,)))
    taken = set(await _column(db, "SELECT dedupe_key FROM deliveries WHERE person_id = ? UNION SELECT digest_key"
                                  " || ':person:' || ? FROM digest_items WHERE person_id = ?"
                                  " AND digest_key IS NOT NULL",
                              (survivor, str(survivor), survivor)))
    renamed = set(new_keys.values())
    found: dict[str, str] = {}
    for row in rows:
        old = row["digest_key"]
        new = rewritten_key(old, absorbed, survivor)
        carried_by = f"{new}:person:{survivor}"
        if (carried_by in renamed) if f"{old}:person:{absorbed}" in theirs else (carried_by not in taken):
            found[old] = new
    return found


async def _follow_send_attempts(db: Database, absorbed: int, renamed: dict[str, str]) -> None:
    """Discord's first-attempt records (``discord_send_attempts``, by delivery key) follow the keys the merge
    rewrote — an existing record under the new key keeps the earlier time, which only makes a retry read the
    conversation back before posting — so a later erasure of the merged person finds them by its id. The absorbed
    person's records whose delivery is gone (a dropped duplicate, a pruned row) go: they would name nobody left."""
    for old, new in renamed.items():
        await db.execute(
            "INSERT INTO discord_send_attempts (delivery_key, first_at) SELECT ?, first_at FROM discord_send_attempts"
            " WHERE delivery_key = ? ON CONFLICT (delivery_key) DO UPDATE SET first_at = CASE"
            " WHEN excluded.first_at < discord_send_attempts.first_at THEN excluded.first_at"
            " ELSE discord_send_attempts.first_at END", (new, old))
        await db.execute("DELETE FROM discord_send_attempts WHERE delivery_key = ?", (old,))
    await db.execute(f"DELETE FROM discord_send_attempts WHERE {KEY_NAMES_PERSON[db.dialect]}"
                     " AND delivery_key NOT IN (SELECT dedupe_key FROM deliveries)",
                     person_key_patterns(absorbed, db.dialect))


async def _repoint_audit(db: Database, survivor: int, absorbed: int) -> None:
    """Entries about the absorbed person (``about_id``, migration 0021, or a ``person:<id>`` subject) are about
    the survivor: subject, the person ids in their values, and ``about_id``."""
    rows = await db.fetch_all("SELECT id, subject, before, after FROM audit_log WHERE about_id = ? OR subject = ?",
                              (absorbed, f"person:{absorbed}"))
    for row in rows:
        subject = f"person:{survivor}" if row["subject"] == f"person:{absorbed}" else row["subject"]
        await db.execute("UPDATE audit_log SET subject = ?, before = ?, after = ?, about_id = ? WHERE id = ?",
                         (subject, with_person_replaced(row["before"], absorbed, survivor),
                          with_person_replaced(row["after"], absorbed, survivor), survivor, row["id"]))


async def plan(db: Database, survivor: int, absorbed: int) -> MergePlan:
    """What :func:`merge` would do now, read in one go; raises ``LookupError`` for an unknown person."""
    return await _plan(db, survivor, absorbed, await _queued_split(db, survivor, absorbed))


async def _plan(db: Database, survivor: int, absorbed: int, outbox: _Outbox) -> MergePlan:
    """:func:`plan` with the outbox split already read (the merge reads it once and acts on it)."""
    people = await db.fetch_all("SELECT * FROM people WHERE id IN (?, ?)", (survivor, absorbed))
    by_id = {row["id"]: row for row in people}
    if survivor not in by_id or absorbed not in by_id or survivor == absorbed:
        raise LookupError(f"cannot merge person {absorbed} into {survivor}")
    s, a = (survivor, absorbed)
    platforms = "SELECT DISTINCT platform FROM identities WHERE person_id = ? ORDER BY platform"
    both_follow = "SELECT topic_id FROM subscriptions WHERE person_id IN (?, ?)"
    public = await _column(db, "SELECT DISTINCT t.slug FROM topics t WHERE t.visibility = 'public' AND t.id IN"
                               " (SELECT topic_id FROM subscriptions WHERE person_id IN (?, ?) UNION SELECT topic_id"
                               " FROM subscription_requests WHERE person_id IN (?, ?))", (s, a, s, a))
    return MergePlan(
        survivor_id=s, absorbed_id=a,
        survivor_platforms=await _column(db, platforms, (s,)), absorbed_platforms=await _column(db, platforms, (a,)),
        identities=await _count(db, "SELECT COUNT(*) FROM identities WHERE person_id = ?", (a,)),
        new_topics=await _column(db, "SELECT t.slug FROM subscriptions x JOIN topics t ON t.id = x.topic_id"
                                     " WHERE x.person_id = ? AND x.topic_id NOT IN"
                                     " (SELECT topic_id FROM subscriptions WHERE person_id = ?) ORDER BY t.slug",
                                 (a, s)),
        more_often=await _column(db, "SELECT t.slug FROM subscriptions x JOIN subscriptions y ON y.topic_id ="
                                     " x.topic_id AND y.person_id = ? JOIN topics t ON t.id = x.topic_id"
                                     f" WHERE x.person_id = ? AND {_RANK.format('x.mode')} < "
                                     f"{_RANK.format('y.mode')} ORDER BY t.slug", (s, a)),
        requests=await _count(db, "SELECT COUNT(*) FROM subscription_requests WHERE person_id = ?", (a,)),
        withdrawn=await _column(db, "SELECT DISTINCT t.slug FROM subscription_requests r JOIN topics t"
                                    " ON t.id = r.topic_id WHERE r.status = 'pending' AND ((r.person_id IN (?, ?)"
                                    f" AND r.topic_id IN ({both_follow})) OR (r.person_id = ? AND EXISTS"
                                    " (SELECT 1 FROM subscription_requests o WHERE o.person_id = ?"
                                    " AND o.topic_id = r.topic_id AND o.status = 'pending'))) ORDER BY t.slug",
                                (s, a, s, a, a, s)),
        invitations=await _count(db, "SELECT COUNT(*) FROM invitations WHERE person_id = ? AND topic_id NOT IN"
                                     " (SELECT topic_id FROM invitations WHERE person_id = ?)", (a, s)),
        grants=await _count(db, "SELECT COUNT(*) FROM grants x WHERE x.person_id = ? AND NOT EXISTS (SELECT 1"
                                " FROM grants y WHERE y.person_id = ? AND y.role = x.role"
                                " AND COALESCE(y.topic_id, 0) = COALESCE(x.topic_id, 0))", (a, s)),
        rsvps=await _count(db, "SELECT COUNT(*) FROM meeting_rsvps x WHERE x.person_id = ? AND NOT EXISTS"
                               " (SELECT 1 FROM meeting_rsvps y WHERE y.person_id = ? AND y.meeting_id ="
                               " x.meeting_id AND y.occurrence = x.occurrence AND y.updated_at >= x.updated_at)",
                           (a, s)),
        history=await _count(db, f"SELECT COUNT(*) FROM deliveries WHERE person_id = ? AND {_FINISHED}", (a,)),
        queued=outbox.queued, duplicates=len(outbox.dropped),
        settings=tuple(name for name in SETTINGS if by_id[s][name] is None and by_id[a][name] is not None),
        public=frozenset(public),
    )


async def merge(db: Database, survivor: int, absorbed: int, now: datetime) -> MergePlan:
    """Carry out :func:`plan` in one transaction (joining the caller's) and delete the absorbed person."""
    s, a = survivor, absorbed
    async with db.transaction():
        outbox = await _queued_split(db, s, a)
        done = await _plan(db, s, a, outbox)
        digest_keys = await _digest_keys(db, s, a, outbox.new_keys)
        # Settings: the confirming side's where set, else the other's; the name stays the survivor's. Before the
        # identities move: moving them clears a preferred platform they leave (migration 0020).
        await db.execute(
            "UPDATE people SET " + ", ".join(f"{name} = COALESCE({name}, (SELECT {name} FROM people WHERE id = ?))"
                                             for name in (*SETTINGS, "platform_timezone")) + " WHERE id = ?",
            (*[a] * (len(SETTINGS) + 1), s))
        await db.execute("UPDATE identities SET person_id = ? WHERE person_id = ?", (s, a))
        # Subscriptions: the union; where both follow a topic, the more frequent mode.
        await db.execute(
            "UPDATE subscriptions SET mode = (SELECT x.mode FROM subscriptions x WHERE x.person_id = ?"
            " AND x.topic_id = subscriptions.topic_id) WHERE person_id = ? AND EXISTS (SELECT 1 FROM subscriptions x"
            f" WHERE x.person_id = ? AND x.topic_id = subscriptions.topic_id AND {_RANK.format('x.mode')} <"
            f" {_RANK.format('subscriptions.mode')})", (a, s, a))
        await db.execute("DELETE FROM subscriptions WHERE person_id = ? AND topic_id IN"
                         " (SELECT topic_id FROM subscriptions WHERE person_id = ?)", (a, s))
        await db.execute("UPDATE subscriptions SET person_id = ? WHERE person_id = ?", (s, a))
        # Requests: pending ones for a topic now followed, and the absorbed side's duplicates, are withdrawn.
        await db.execute(
            "UPDATE subscription_requests SET status = 'withdrawn', decided_by = ?, decided_at = ?"
            " WHERE status = 'pending' AND ((person_id IN (?, ?) AND topic_id IN"
            " (SELECT topic_id FROM subscriptions WHERE person_id = ?)) OR (person_id = ? AND topic_id IN"
            " (SELECT topic_id FROM subscription_requests WHERE person_id = ? AND status = 'pending')))",
            (s, to_db_time(now), s, a, s, a, s))
        await db.execute("UPDATE subscription_requests SET person_id = ? WHERE person_id = ?", (s, a))
        await db.execute("DELETE FROM invitations WHERE person_id = ? AND topic_id IN"
                         " (SELECT topic_id FROM invitations WHERE person_id = ?)", (a, s))
        await db.execute("UPDATE invitations SET person_id = ? WHERE person_id = ?", (s, a))
        # Grants keep their origin (granted_by, created_at); of two equal ones the older stays.
        await db.execute(
            "DELETE FROM grants WHERE id IN (SELECT CASE WHEN (x.created_at, x.id) < (y.created_at, y.id)"
            " THEN y.id ELSE x.id END FROM grants x JOIN grants y ON y.role = x.role"
            " AND COALESCE(y.topic_id, 0) = COALESCE(x.topic_id, 0) WHERE x.person_id = ? AND y.person_id = ?)", (a, s))
        await db.execute("UPDATE grants SET person_id = ? WHERE person_id = ?", (s, a))
        # RSVPs: per meeting occurrence, the later answer (the other goes, by its primary key).
        await db.execute(
            "DELETE FROM meeting_rsvps WHERE (meeting_id, person_id, occurrence) IN (SELECT x.meeting_id,"
            " CASE WHEN x.updated_at > y.updated_at THEN y.person_id ELSE x.person_id END, x.occurrence"
            " FROM meeting_rsvps x JOIN meeting_rsvps y ON y.meeting_id = x.meeting_id"
            " AND y.occurrence = x.occurrence WHERE x.person_id = ? AND y.person_id = ?)", (a, s))
        await db.execute("UPDATE meeting_rsvps SET person_id = ? WHERE person_id = ?", (s, a))
        # The digest queue: one item per announcement; a digest key names its person like an outbox key.
        await db.execute("DELETE FROM digest_items WHERE person_id = ? AND announcement_id IN"
                         " (SELECT announcement_id FROM digest_items WHERE person_id = ?)", (a, s))
        # A digest item's key follows its digest row's (see _digest_keys).
        for old, new in digest_keys.items():
            await db.execute("UPDATE digest_items SET digest_key = ? WHERE person_id = ? AND digest_key = ?",
                             (new, a, old))
        await db.execute("UPDATE digest_items SET person_id = ? WHERE person_id = ?", (s, a))
        # The outbox: one copy per person (deleted first: a dropped row's key is free for the absorbed side's);
        # history moves as it is.
        for row_id in outbox.dropped:
            await db.execute("DELETE FROM deliveries WHERE id = ?", (row_id,))
        for row_id, key in outbox.new_keys.items():
            await db.execute("UPDATE deliveries SET dedupe_key = ? WHERE id = ?", (key, row_id))
        await db.execute("UPDATE deliveries SET person_id = ? WHERE person_id = ?", (s, a))
        await _follow_send_attempts(db, a, outbox.renamed)
        for table, column in _REPOINTED:
            await db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (s, a))
        await _repoint_audit(db, s, a)
        await db.execute("DELETE FROM people WHERE id = ?", (a,))
    return done
