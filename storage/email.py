"""Email followers' tables (``email_signups``, ``email_keys``, ``email_requests``, ``email_salt``,
``email_health``): the :class:`bot.email.store.EmailStore` and :class:`bot.email.store.EmailHealthStore`."""

from __future__ import annotations

import secrets
from datetime import datetime

from bot.email.model import PLATFORM, EmailKey, Signup
from bot.subscriptions.model import DeliveryMode
from storage.database import Database, Row, from_db_time, opt_time, to_db_time

_UNUSED_PERSON = (
    "NOT EXISTS (SELECT 1 FROM identities WHERE person_id = people.id)"
    " AND NOT EXISTS (SELECT 1 FROM announcements WHERE author_id = people.id)"
    " AND NOT EXISTS (SELECT 1 FROM meetings WHERE author_id = people.id)"
    " AND NOT EXISTS (SELECT 1 FROM audit_log WHERE actor_id = people.id)"
    " AND NOT EXISTS (SELECT 1 FROM grants WHERE granted_by = people.id)"
    " AND NOT EXISTS (SELECT 1 FROM subscription_requests WHERE decided_by = people.id)"
    " AND NOT EXISTS (SELECT 1 FROM invitations WHERE invited_by = people.id)"
)
"""Nothing is left of a person: no identity, and no row that names them as its author or decider (those do
not cascade, and must not vanish with them)."""


def _signup(row: Row) -> Signup:
    return Signup(id=row["id"], person_id=row["person_id"], address=row["address"], topic_id=row["topic_id"],
                  mode=DeliveryMode(row["mode"]), language=row["language"], zone=row["zone"], token=row["token"],
                  created_at=from_db_time(row["created_at"]), expires_at=from_db_time(row["expires_at"]),
                  confirmed_at=opt_time(row["confirmed_at"]))


class SqliteEmail:
    """The :class:`bot.email.store.EmailStore`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def client_salt(self) -> str:
        row = await self._db.fetch_one("SELECT salt FROM email_salt WHERE id = 1")
        if row is None:  # the migration makes it; a database restored without the row gets a new one
            # Made here rather than by SQL, which each engine spells its own way; 16 random bytes as lower-case hex,
            # as the migration makes it. Another process may have written one meanwhile: the first stays.
            await self._db.execute("INSERT INTO email_salt (id, salt) VALUES (1, ?) ON CONFLICT DO NOTHING",
                                   (secrets.token_hex(16),))
            row = await self._db.fetch_one("SELECT salt FROM email_salt WHERE id = 1")
            assert row is not None
        return str(row["salt"])

    async def count_stamps(self, subject: str, since: datetime) -> int:
        row = await self._db.fetch_one(
            "SELECT count(*) FROM email_requests WHERE subject = ? AND at > ?", (subject, to_db_time(since)))
        return int(row[0]) if row else 0

    async def stamp(self, subjects: tuple[str, ...], now: datetime) -> None:
        await self._db.execute_many("INSERT INTO email_requests (subject, at) VALUES (?, ?)",
                                    [(subject, to_db_time(now)) for subject in subjects])

    async def add_signup(self, person_id: int, address: str, topic_id: int, mode: DeliveryMode, language: str,
                         zone: str, token: str, now: datetime, expires_at: datetime, *,
                         used: bool = False) -> Signup:
        rows = await self._db.write_returning(
            "INSERT INTO email_signups (person_id, address, topic_id, mode, language, zone, token, created_at,"
            " expires_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (person_id, address, topic_id, mode.value, language, zone, token, to_db_time(now),
             to_db_time(expires_at), to_db_time(now) if used else None))
        return _signup(rows[0])

    async def signup(self, token: str) -> Signup | None:
        row = await self._db.fetch_one("SELECT * FROM email_signups WHERE token = ?", (token,))
        return _signup(row) if row else None

    async def use_signup(self, signup_id: int, now: datetime) -> bool:
        changed = await self._db.execute(
            "UPDATE email_signups SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL AND expires_at > ?",
            (to_db_time(now), signup_id, to_db_time(now)))
        return changed > 0

    async def ensure_key(self, address: str, key: str, now: datetime) -> str:
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO email_keys (platform, address, key, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (PLATFORM, address, key, to_db_time(now)))
            stored = await self.key_of(address)
        assert stored is not None
        return stored

    async def mark_confirmed(self, address: str, now: datetime) -> None:
        await self._db.execute(
            "UPDATE email_keys SET confirmed_at = COALESCE(confirmed_at, ?) WHERE platform = ? AND address = ?",
            (to_db_time(now), PLATFORM, address))

    async def key_of(self, address: str) -> str | None:
        row = await self._db.fetch_one(
            "SELECT key FROM email_keys WHERE platform = ? AND address = ?", (PLATFORM, address))
        return str(row["key"]) if row else None

    async def follower_key(self, address: str) -> str | None:
        row = await self._db.fetch_one(
            "SELECT key FROM email_keys WHERE platform = ? AND address = ? AND confirmed_at IS NOT NULL",
            (PLATFORM, address))
        return str(row["key"]) if row else None

    async def by_key(self, key: str) -> EmailKey | None:
        row = await self._db.fetch_one(
            "SELECT k.address, i.person_id FROM email_keys k"
            " JOIN identities i ON i.platform = k.platform AND i.external_id = k.address WHERE k.key = ?", (key,))
        return EmailKey(person_id=row["person_id"], address=row["address"], key=key) if row else None

    async def remove_address(self, address: str) -> int | None:
        async with self._db.transaction():
            row = await self._db.fetch_one(
                "SELECT person_id FROM identities WHERE platform = ? AND external_id = ?", (PLATFORM, address))
            if row is None:
                return None
            await self._db.execute("DELETE FROM email_signups WHERE address = ?", (address,))
            await self._db.execute("DELETE FROM identities WHERE platform = ? AND external_id = ?",
                                   (PLATFORM, address))  # the key goes with it (a cascading foreign key)
            return int(row["person_id"])

    async def remove_person_if_unused(self, person_id: int) -> bool:
        changed = await self._db.execute(f"DELETE FROM people WHERE id = ? AND {_UNUSED_PERSON}", (person_id,))
        return changed > 0

    async def prune(self, now: datetime, stamps_before: datetime) -> tuple[int, int]:
        async with self._db.transaction():
            signups = await self._db.execute("DELETE FROM email_signups WHERE expires_at <= ?", (to_db_time(now),))
            await self._db.execute("DELETE FROM email_requests WHERE at < ?", (to_db_time(stamps_before),))
            # Addresses that never confirmed anything: no subscription, request or signup left, and the person
            # known through nothing else. Their identity goes (with its key), then the person if nothing holds it.
            orphans = await self._db.fetch_all(
                "SELECT i.external_id, i.person_id FROM identities i WHERE i.platform = ?"
                " AND NOT EXISTS (SELECT 1 FROM email_keys k WHERE k.platform = i.platform"
                "                 AND k.address = i.external_id AND k.confirmed_at IS NOT NULL)"
                " AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.person_id = i.person_id)"
                " AND NOT EXISTS (SELECT 1 FROM subscription_requests r WHERE r.person_id = i.person_id"
                "                 AND r.status = 'pending')"
                " AND NOT EXISTS (SELECT 1 FROM email_signups e WHERE e.person_id = i.person_id)"
                " AND NOT EXISTS (SELECT 1 FROM identities o WHERE o.person_id = i.person_id"
                "                 AND NOT (o.platform = i.platform AND o.external_id = i.external_id))",
                (PLATFORM,))
            people = 0
            for row in orphans:
                await self._db.execute("DELETE FROM identities WHERE platform = ? AND external_id = ?",
                                       (PLATFORM, row["external_id"]))
                people += await self.remove_person_if_unused(int(row["person_id"]))
            # Refusals of an address nobody holds any more: the address itself must not stay stored, and a pause
            # left behind would refuse its real owner's confirmation mail later, with no link to resume.
            await self._db.execute("DELETE FROM email_health WHERE address NOT IN"
                                   " (SELECT external_id FROM identities WHERE platform = ?)", (PLATFORM,))
        return signups, people


class SqliteEmailHealth:
    """The :class:`bot.email.store.EmailHealthStore` on ``email_health``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def refused(self, address: str, now: datetime, pause_after: int) -> int:
        rows = await self._db.write_returning(
            "INSERT INTO email_health (address, refusals, paused_at) VALUES (?, 1, CASE WHEN ? <= 1 THEN ? END)"
            " ON CONFLICT (address) DO UPDATE SET refusals = email_health.refusals + 1,"
            " paused_at = COALESCE(email_health.paused_at, CASE WHEN email_health.refusals + 1 >= ? THEN ? END)"
            " RETURNING refusals",
            (address, pause_after, to_db_time(now), pause_after, to_db_time(now)))
        return int(rows[0]["refusals"])

    async def delivered(self, address: str) -> None:
        # Read first: nearly every mail is to a healthy address, and a read takes no write lock.
        if await self._db.fetch_one("SELECT 1 FROM email_health WHERE address = ?", (address,)) is not None:
            await self._db.execute("DELETE FROM email_health WHERE address = ?", (address,))

    async def is_paused(self, address: str) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM email_health WHERE address = ? AND paused_at IS NOT NULL", (address,))
        return row is not None

    async def resume(self, address: str) -> bool:
        changed = await self._db.execute(
            "DELETE FROM email_health WHERE address = ? AND paused_at IS NOT NULL", (address,))
        return changed > 0
