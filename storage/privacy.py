"""Every row that names one person, read for their export and erased on their word (:class:`PrivacyStore`).

Most of the erasure is the schema's own ``ON DELETE CASCADE`` from ``people`` (identities and, through them, email
keys; subscriptions, requests, invitations, grants, RSVPs, digest items, signups, deliveries addressed to them); the
rest is here because it names the person without being theirs: who granted, decided or invited, who acted in the
audit log, whom an entry is about, and the authors of what stays.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.audit.about import with_person_replaced
from bot.i18n import text_to_json
from bot.privacy.model import (
    ERASED_SUBJECT,
    FORMER_MEMBER,
    FORMER_PERSON_ID,
    AuditData,
    AuthoredData,
    DeliveryData,
    DigestItemData,
    EmailKeyData,
    Erasure,
    GrantData,
    IdentityData,
    InvitationData,
    LinkAttemptData,
    LinkCodeData,
    PersonData,
    RequestData,
    ResourceData,
    RsvpData,
    SignupData,
    SubscriptionData,
)
from storage.database import Database, Dialect, Row, from_db_time, opt_time, to_db_time

EMAIL = "email"
FINISHED = "('sent', 'failed', 'skipped', 'missed', 'cancelled')"
"""The delivery statuses that are over: such a row keeps counting in its announcement's report after erasure."""
NAME_PARAMS = frozenset({"person", "inviter", "name", "author", "requester"})
"""The message parameters that carry a person's name: only these are scrubbed (a display name may also be a
topic's slug or any word, which other parameters carry for their own meaning)."""


def person_key_shapes(person_id: int) -> tuple[tuple[str, ...], ...]:
    """Every outbox key shape that names ``person_id``, as its literal parts with anything between them (and
    before or after an empty first or last part), so that a key whose delivery row is gone (pruned, or dropped by a
    merge) is still found: every key the outbox writes for a person ("…:person:<id>", bot/delivery/notify.py), an
    announcement's copy pinned to a platform ("ann:<n>:copy:<platform>:<id>", :func:`bot.delivery.model.copy_key`)
    and a digest's ("digest:<id>:…", bot/subscriptions/digests.py). The one source of the shapes:
    :func:`person_key_patterns` spells them for each engine."""
    return (("", f":person:{person_id}"), ("", f":person:{person_id}:", ""), ("ann:", ":copy:", f":{person_id}"),
            (f"digest:{person_id}:", ""))


def _glob_literal(part: str) -> str:
    return "".join(f"[{char}]" if char in "*?[" else char for char in part)


def _like_literal(part: str) -> str:
    return "".join(f"!{char}" if char in "%_!" else char for char in part)


def person_key_patterns(person_id: int, dialect: Dialect) -> tuple[str, ...]:
    """:func:`person_key_shapes` as the values of :data:`KEY_NAMES_PERSON` ``[dialect]``: GLOB patterns for SQLite,
    LIKE patterns (escaped with ``!``) for PostgreSQL, which has no GLOB."""
    if dialect == "sqlite":
        return tuple("*".join(_glob_literal(part) for part in shape) for shape in person_key_shapes(person_id))
    return tuple("%".join(_like_literal(part) for part in shape) for shape in person_key_shapes(person_id))


KEY_NAMES_PERSON: dict[Dialect, str] = {
    "sqlite": "(delivery_key GLOB ? OR delivery_key GLOB ? OR delivery_key GLOB ? OR delivery_key GLOB ?)",
    "postgresql": "(delivery_key LIKE ? ESCAPE '!' OR delivery_key LIKE ? ESCAPE '!' OR delivery_key LIKE ? ESCAPE '!'"
                  " OR delivery_key LIKE ? ESCAPE '!')",
}
"""A ``discord_send_attempts`` condition: the key has one of :func:`person_key_shapes` (the four values of
:func:`person_key_patterns`). LIKE in PostgreSQL, which is case-sensitive there, as GLOB is."""
_CONTAINS: dict[Dialect, str] = {"sqlite": "instr(payload, ?) > 0", "postgresql": "strpos(payload, ?) > 0"}
"""``payload`` holds the parameter as a substring (no pattern characters to escape)."""
_JSON_SLUGS: dict[Dialect, str] = {
    "sqlite": "SELECT json_group_array(slug) FROM (SELECT t.slug FROM resource_topics rt JOIN topics t"
              " ON t.id = rt.topic_id WHERE rt.resource_id = r.id ORDER BY t.slug)",
    "postgresql": "SELECT CAST(COALESCE(json_agg(t.slug ORDER BY t.slug), '[]') AS TEXT) FROM resource_topics rt"
                  " JOIN topics t ON t.id = rt.topic_id WHERE rt.resource_id = r.id",
}
"""A resource's topic slugs, sorted, as a JSON array in text."""


class SqlitePrivacy:
    """The :class:`bot.privacy.store.PrivacyStore` on the whole schema."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def person_data(self, person_id: int, now: datetime) -> PersonData | None:
        db = self._db
        person = await db.fetch_one("SELECT * FROM people WHERE id = ?", (person_id,))
        if person is None or person_id == FORMER_PERSON_ID:
            return None
        identities = await db.fetch_all(
            "SELECT platform, external_id, display_name, platform_role, platform_locale, last_seen_at"
            " FROM identities WHERE person_id = ? ORDER BY platform, external_id", (person_id,))
        grants = await db.fetch_all(
            "SELECT g.role, t.slug, g.created_at FROM grants g LEFT JOIN topics t ON t.id = g.topic_id"
            " WHERE g.person_id = ? ORDER BY g.created_at, g.id", (person_id,))
        subscriptions = await db.fetch_all(
            "SELECT t.slug, s.mode, s.created_at FROM subscriptions s JOIN topics t ON t.id = s.topic_id"
            " WHERE s.person_id = ? ORDER BY s.created_at, t.slug", (person_id,))
        requests = await db.fetch_all(
            "SELECT r.id, t.slug, r.mode, r.status, r.created_at, r.decided_at FROM subscription_requests r"
            " JOIN topics t ON t.id = r.topic_id WHERE r.person_id = ? ORDER BY r.created_at, r.id", (person_id,))
        invitations = await db.fetch_all(
            "SELECT t.slug, i.created_at FROM invitations i JOIN topics t ON t.id = i.topic_id"
            " WHERE i.person_id = ? ORDER BY i.created_at, t.slug", (person_id,))
        rsvps = await db.fetch_all(
            "SELECT m.id, m.title, t.slug, r.occurrence, r.answer, r.updated_at FROM meeting_rsvps r"
            " JOIN meetings m ON m.id = r.meeting_id JOIN topics t ON t.id = m.topic_id"
            " WHERE r.person_id = ? ORDER BY r.updated_at, m.id, r.occurrence", (person_id,))
        authored = await db.fetch_all(
            "SELECT 'announcement' AS kind, a.id, t.slug, a.state, a.created_at, a.send_at, a.sent_at"
            " FROM announcements a JOIN topics t ON t.id = a.topic_id WHERE a.author_id = ?"
            " UNION ALL SELECT 'meeting', m.id, t.slug, m.state, m.created_at, NULL, NULL"
            " FROM meetings m JOIN topics t ON t.id = m.topic_id WHERE m.author_id = ?"
            " ORDER BY 5, 1, 2", (person_id, person_id))
        deliveries = await db.fetch_all(
            "SELECT d.id, d.kind, d.status, COALESCE(d.sent_platform, d.attempt_platform, d.platform) AS via,"
            " d.announcement_id, t.slug, d.created_at, d.sent_at FROM deliveries d"
            " LEFT JOIN topics t ON t.id = d.topic_id WHERE d.person_id = ? ORDER BY d.created_at, d.id",
            (person_id,))
        audit = await db.fetch_all(
            "SELECT id, CASE WHEN actor_id = ? THEN 'actor' ELSE 'subject' END AS role, action, subject, at"
            " FROM audit_log WHERE actor_id = ? OR about_id = ? ORDER BY id", (person_id, person_id, person_id))
        signups = await db.fetch_all(
            "SELECT s.address, t.slug, s.mode, s.language, s.zone, s.created_at, s.expires_at, s.confirmed_at"
            " FROM email_signups s JOIN topics t ON t.id = s.topic_id WHERE s.person_id = ? ORDER BY s.created_at,"
            " s.id", (person_id,))
        keys = await db.fetch_all(
            "SELECT k.address, k.created_at, k.confirmed_at FROM email_keys k JOIN identities i"
            " ON i.platform = k.platform AND i.external_id = k.address WHERE i.person_id = ? ORDER BY k.address",
            (person_id,))
        resources = await db.fetch_all(
            f"SELECT r.id, r.title, r.url, r.created_at, ({_JSON_SLUGS[db.dialect]}) AS topics FROM resources r"
            " WHERE r.added_by = ? ORDER BY r.created_at, r.id", (person_id,))
        digest_items = await db.fetch_all(
            "SELECT d.announcement_id, t.slug, d.mode, d.created_at FROM digest_items d"
            " JOIN announcements a ON a.id = d.announcement_id JOIN topics t ON t.id = a.topic_id"
            " WHERE d.person_id = ? AND d.digest_key IS NULL ORDER BY d.created_at, d.announcement_id",
            (person_id,))
        # Codes one of their accounts issued (never the hash, nor who typed it) and wrong codes they typed.
        link_codes = await db.fetch_all(
            "SELECT c.issuer_platform, c.state, c.issued_at, c.expires_at FROM link_codes c JOIN identities i"
            " ON i.platform = c.issuer_platform AND i.external_id = c.issuer_external_id WHERE i.person_id = ?"
            " ORDER BY c.issued_at, c.id", (person_id,))
        link_attempts = await db.fetch_all(
            "SELECT a.platform, a.at FROM link_attempts a JOIN identities i ON i.platform = a.platform"
            " AND i.external_id = a.external_id WHERE i.person_id = ? ORDER BY a.at, a.id", (person_id,))
        return PersonData(
            person_id=person_id, display_name=person["display_name"], timezone=person["timezone"],
            language=person["language"], platform_timezone=person["platform_timezone"],
            preferred_platform=person["preferred_platform"], organisation=person["organisation"],
            country=person["country"], created_at=from_db_time(person["created_at"]),
            identities=tuple(IdentityData(r["platform"], r["external_id"], r["display_name"], r["platform_role"],
                                          r["platform_locale"], opt_time(r["last_seen_at"])) for r in identities),
            grants=tuple(GrantData(r["role"], r["slug"], from_db_time(r["created_at"])) for r in grants),
            subscriptions=tuple(SubscriptionData(r["slug"], r["mode"], from_db_time(r["created_at"]))
                                for r in subscriptions),
            requests=tuple(RequestData(r["id"], r["slug"], r["mode"], r["status"], from_db_time(r["created_at"]),
                                       opt_time(r["decided_at"])) for r in requests),
            invitations=tuple(InvitationData(r["slug"], from_db_time(r["created_at"])) for r in invitations),
            rsvps=tuple(RsvpData(r["id"], r["title"], r["slug"], r["occurrence"], r["answer"],
                                 from_db_time(r["updated_at"])) for r in rsvps),
            authored=tuple(AuthoredData(r["kind"], r["id"], r["slug"], r["state"], from_db_time(r["created_at"]),
                                        opt_time(r["send_at"]), opt_time(r["sent_at"])) for r in authored),
            deliveries=tuple(DeliveryData(r["id"], r["kind"], r["status"], r["via"], r["announcement_id"],
                                          r["slug"], from_db_time(r["created_at"]), opt_time(r["sent_at"]))
                             for r in deliveries),
            audit=tuple(AuditData(r["id"], r["role"], r["action"], r["subject"], from_db_time(r["at"]))
                        for r in audit),
            signups=tuple(SignupData(r["address"], r["slug"], r["mode"], r["language"], r["zone"],
                                     _signup_state(r["confirmed_at"], from_db_time(r["expires_at"]), now),
                                     from_db_time(r["created_at"]), from_db_time(r["expires_at"]),
                                     opt_time(r["confirmed_at"])) for r in signups),
            email_keys=tuple(EmailKeyData(r["address"], from_db_time(r["created_at"]), opt_time(r["confirmed_at"]))
                             for r in keys),
            resources=tuple(ResourceData(r["id"], r["title"], r["url"], tuple(json.loads(r["topics"])),
                                         from_db_time(r["created_at"])) for r in resources),
            digest_items=tuple(DigestItemData(r["announcement_id"], r["slug"], r["mode"], from_db_time(r["created_at"]))
                               for r in digest_items),
            link_codes=tuple(LinkCodeData(r["issuer_platform"], _code_state(r["state"], from_db_time(r["expires_at"]),
                                                                           now),
                                          from_db_time(r["issued_at"]), from_db_time(r["expires_at"]))
                             for r in link_codes),
            link_attempts=tuple(LinkAttemptData(r["platform"], from_db_time(r["at"])) for r in link_attempts),
        )

    async def erase(self, person_id: int, now: datetime) -> Erasure | None:
        db = self._db
        async with db.transaction():
            person = await db.fetch_one("SELECT display_name FROM people WHERE id = ?", (person_id,))
            if person is None or person_id == FORMER_PERSON_ID:
                return None
            identities = await db.fetch_all(
                "SELECT platform, external_id, display_name FROM identities WHERE person_id = ?", (person_id,))
            subscriptions = await _count(db, "SELECT COUNT(*) FROM subscriptions WHERE person_id = ?", person_id)
            deliveries = await _count(db, "SELECT COUNT(*) FROM deliveries WHERE person_id = ?", person_id)
            # Their drafts go (nobody else could ever send or see them); what was scheduled or sent stays.
            await db.execute("DELETE FROM announcements WHERE author_id = ? AND state = 'draft'", (person_id,))
            kept = await _count(db, "SELECT COUNT(*) FROM announcements WHERE author_id = ?", person_id)
            meetings = await _count(db, "SELECT COUNT(*) FROM meetings WHERE author_id = ?", person_id)
            if kept or meetings:
                await db.execute("INSERT INTO people (id, display_name, created_at) VALUES (?, '', ?)"
                                 " ON CONFLICT DO NOTHING",
                                 (FORMER_PERSON_ID, to_db_time(now)))
                await db.execute("UPDATE announcements SET author_id = ? WHERE author_id = ?",
                                 (FORMER_PERSON_ID, person_id))
                await db.execute("UPDATE meetings SET author_id = ? WHERE author_id = ?", (FORMER_PERSON_ID, person_id))
            for table, column in (("grants", "granted_by"), ("subscription_requests", "decided_by"),
                                  ("invitations", "invited_by"), ("audit_log", "actor_id")):
                await db.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} = ?", (person_id,))
            await _scrub_audit(db, person_id)
            # Discord's first-attempt records of messages to them (keyed by the delivery), before their delivery
            # rows go; a key whose row is gone is found by its shape. A merge gave the records of the absorbed
            # person's rows their new keys, and deleted those of rows it dropped (storage/linking_merge.py).
            await db.execute(
                "DELETE FROM discord_send_attempts WHERE delivery_key IN"
                f" (SELECT dedupe_key FROM deliveries WHERE person_id = ?) OR {KEY_NAMES_PERSON[db.dialect]}",
                (person_id, *person_key_patterns(person_id, db.dialect)))
            await _keep_finished_counts(db, person_id)
            addresses = [row["external_id"] for row in identities if row["platform"] == EMAIL]
            for address in addresses:
                await db.execute("DELETE FROM email_health WHERE address = ?", (address,))
            names = {person["display_name"], *(row["display_name"] for row in identities),
                     *(row["external_id"] for row in identities)} - {""}
            await _scrub_payloads(db, person_id, names)
            # The cascade removes the rest: identities (and their email keys, the link codes they issued or
            # typed and their wrong codes: migration 0019), subscriptions, requests,
            # invitations, grants, RSVPs, digest items, signups and every delivery row addressed to them.
            await db.execute("DELETE FROM people WHERE id = ?", (person_id,))
            return Erasure(identities=len(identities), subscriptions=subscriptions, deliveries=deliveries,
                           kept_announcements=kept)


def _signup_state(confirmed_at: str | None, expires_at: datetime, now: datetime) -> str:
    if confirmed_at is not None:
        return "confirmed"
    return "waiting" if expires_at > now else "expired"


def _code_state(stored: str, expires_at: datetime, now: datetime) -> str:
    """A used code stays ``used``; one not used by its expiry is ``expired`` whatever it reached."""
    if stored == "used":
        return stored
    return stored if expires_at > now else "expired"


async def _scrub_audit(db: Database, person_id: int) -> None:
    """Entries about the person (``about_id``, migration 0021) stop naming them: a ``person:<id>`` subject reads
    :data:`ERASED_SUBJECT`, their id in a ``person`` or ``added_by`` value becomes ``null``. What happened stays."""
    rows = await db.fetch_all("SELECT id, subject, before, after FROM audit_log WHERE about_id = ?", (person_id,))
    for row in rows:
        subject = ERASED_SUBJECT if row["subject"] == f"person:{person_id}" else row["subject"]
        await db.execute("UPDATE audit_log SET subject = ?, before = ?, after = ?, about_id = NULL WHERE id = ?",
                         (subject, with_person_replaced(row["before"], person_id, None),
                          with_person_replaced(row["after"], person_id, None), row["id"]))


async def _keep_finished_counts(db: Database, person_id: int) -> None:
    """An announcement's report keeps counting what already went to the person (a count names nobody), while
    what was still to go stops counting: it never will, and ``settle`` must not wait for it.

    Their finished announcement rows are deleted here under migration 0017's marker, which leaves
    ``announcement_counts`` alone; the cascade then deletes the pending and sending ones, which count down. A
    digest item already in a digest is counted back up before the cascade's trigger counts it down; one still
    waiting for a digest counts down."""
    await db.execute("INSERT INTO retention_pruning (active) VALUES (1)")
    await db.execute("DELETE FROM deliveries WHERE person_id = ? AND announcement_id IS NOT NULL"
                     f" AND status IN {FINISHED}", (person_id,))
    await db.execute("DELETE FROM retention_pruning")
    await db.execute(
        "UPDATE announcement_digest_counts SET queued = queued + 1, digested = digested + 1 WHERE announcement_id IN"
        " (SELECT announcement_id FROM digest_items WHERE person_id = ? AND digest_key IS NOT NULL)", (person_id,))


async def _count(db: Database, sql: str, person_id: int) -> int:
    row = await db.fetch_one(sql, (person_id,))
    return int(row[0]) if row else 0


async def _scrub_payloads(db: Database, person_id: int, names: set[str]) -> None:
    """Queued and past messages to others that named the person (a coordinator's "… asks to join") name a
    former member instead — in each reader's language, as a message of its own — where a name parameter
    (:data:`NAME_PARAMS`) held one of their names or ids. One pass over the rows holding any of them."""
    needles = sorted(json.dumps(name, ensure_ascii=False)[1:-1] for name in names)  # as payloads are stored
    if not needles:
        return
    holds = " OR ".join(_CONTAINS[db.dialect] for _ in needles)
    rows: list[Row] = await db.fetch_all(
        f"SELECT id, payload FROM deliveries WHERE (person_id <> ? OR person_id IS NULL) AND ({holds})",
        (person_id, *needles))
    for row in rows:
        try:
            payload = json.loads(row["payload"])
        except ValueError:
            continue
        scrubbed = _replace(payload, names)
        if scrubbed != payload:
            await db.execute("UPDATE deliveries SET payload = ? WHERE id = ?",
                             (json.dumps(scrubbed, ensure_ascii=False), row["id"]))


def _replace(value: Any, names: set[str]) -> Any:
    """``value`` with every name parameter of every serialised message (:func:`bot.i18n.text_to_json`) that
    held one of ``names`` replaced by "a former member" as a message of its own."""
    if isinstance(value, list):
        return [_replace(item, names) for item in value]
    if not isinstance(value, dict):
        return value
    if isinstance(value.get("msgid"), str) and isinstance(value.get("params"), list):
        params = []
        for pair in value["params"]:
            if isinstance(pair, list) and len(pair) == 2 and pair[0] in NAME_PARAMS and pair[1] in names:
                params.append([pair[0], text_to_json(FORMER_MEMBER)])
            else:
                params.append([pair[0], _replace(pair[1], names)] if isinstance(pair, list) and len(pair) == 2
                              else pair)
        return {**value, "params": params}
    return {key: _replace(item, names) for key, item in value.items()}
