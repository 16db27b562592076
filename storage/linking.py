"""Link codes, wrong-code attempts, and merging and splitting people (:class:`bot.linking.store.LinkStore`).

Codes are stored as hashes only. The merge itself is in ``storage/linking_merge.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.linking.model import CodeState, IssuedCode, MergePlan, Proposal
from bot.model import Identity
from storage import linking_merge
from storage.database import Database, Row, from_db_time, to_db_time
from storage.people import NEXT_PERSON_ID

KEPT_AFTER_EXPIRY = timedelta(minutes=15)
"""How long a code's row outlives its expiry: longer than a proposal can wait for its confirmation."""


def _proposal(row: Row) -> Proposal:
    return Proposal(id=row["id"], issuer=Identity(row["issuer_platform"], row["issuer_external_id"]),
                    claimer=Identity(row["claimer_platform"], row["claimer_external_id"]),
                    proposed_at=from_db_time(row["proposed_at"]), reference=row["reference"])


class SqliteLinks:
    """The :class:`bot.linking.store.LinkStore` on ``link_codes``, ``link_attempts`` and the people tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def issue(self, issuer: Identity, code_hash: str, now: datetime, expires_at: datetime) -> None:
        async with self._db.transaction():
            await self._db.execute(
                "DELETE FROM link_codes WHERE (issuer_platform = ? AND issuer_external_id = ?) OR expires_at < ?"
                " OR code_hash = ?",
                (issuer.platform, issuer.external_id, to_db_time(now - KEPT_AFTER_EXPIRY), code_hash))
            await self._db.execute(
                "INSERT INTO link_codes (issuer_platform, issuer_external_id, code_hash, state, issued_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (issuer.platform, issuer.external_id, code_hash, CodeState.ISSUED.value, to_db_time(now),
                 to_db_time(expires_at)))

    async def find_issued(self, code_hash: str, now: datetime) -> IssuedCode | None:
        row = await self._db.fetch_one(
            "SELECT c.id, c.issuer_platform, c.issuer_external_id, c.expires_at, i.person_id FROM link_codes c"
            " JOIN identities i ON i.platform = c.issuer_platform AND i.external_id = c.issuer_external_id"
            " WHERE c.code_hash = ? AND c.state = ? AND c.expires_at > ?",
            (code_hash, CodeState.ISSUED.value, to_db_time(now)))
        if row is None:
            return None
        return IssuedCode(id=row["id"], issuer=Identity(row["issuer_platform"], row["issuer_external_id"]),
                          issuer_person_id=row["person_id"], expires_at=from_db_time(row["expires_at"]))

    async def propose(self, code_id: int, claimer: Identity, now: datetime, reference: str) -> bool:
        changed = await self._db.execute(
            "UPDATE link_codes SET state = ?, claimer_platform = ?, claimer_external_id = ?, proposed_at = ?,"
            " reference = ? WHERE id = ? AND state = ?",
            (CodeState.PROPOSED.value, claimer.platform, claimer.external_id, to_db_time(now), reference, code_id,
             CodeState.ISSUED.value))
        return changed == 1

    async def proposal_of(self, issuer: Identity) -> Proposal | None:
        row = await self._db.fetch_one(
            "SELECT * FROM link_codes WHERE issuer_platform = ? AND issuer_external_id = ? AND state = ?",
            (issuer.platform, issuer.external_id, CodeState.PROPOSED.value))
        return _proposal(row) if row else None

    async def use(self, code_id: int) -> bool:
        changed = await self._db.execute("UPDATE link_codes SET state = ? WHERE id = ? AND state = ?",
                                         (CodeState.USED.value, code_id, CodeState.PROPOSED.value))
        return changed == 1

    async def withdraw(self, issuer: Identity, reference: str | None = None) -> bool:
        if reference is None:
            changed = await self._db.execute(
                "DELETE FROM link_codes WHERE issuer_platform = ? AND issuer_external_id = ? AND state != ?",
                (issuer.platform, issuer.external_id, CodeState.USED.value))
        else:
            changed = await self._db.execute(
                "DELETE FROM link_codes WHERE issuer_platform = ? AND issuer_external_id = ? AND state = ?"
                " AND reference = ?", (issuer.platform, issuer.external_id, CodeState.PROPOSED.value, reference))
        return changed > 0

    async def withdraw_claim(self, claimer: Identity, reference: str | None = None) -> bool:
        changed = await self._db.execute(
            "DELETE FROM link_codes WHERE claimer_platform = ? AND claimer_external_id = ? AND state = ?"
            " AND (CAST(? AS TEXT) IS NULL OR reference = ?)",
            (claimer.platform, claimer.external_id, CodeState.PROPOSED.value, reference, reference))
        return changed > 0

    async def record_wrong(self, claimer: Identity, now: datetime, forget_before: datetime) -> None:
        async with self._db.transaction():
            await self._db.execute("DELETE FROM link_attempts WHERE at < ?", (to_db_time(forget_before),))
            await self._db.execute("INSERT INTO link_attempts (platform, external_id, at) VALUES (?, ?, ?)",
                                   (claimer.platform, claimer.external_id, to_db_time(now)))

    async def wrong_since(self, since: datetime, claimer: Identity | None = None) -> list[datetime]:
        if claimer is None:
            rows = await self._db.fetch_all("SELECT at FROM link_attempts WHERE at > ? ORDER BY at",
                                            (to_db_time(since),))
        else:
            rows = await self._db.fetch_all(
                "SELECT at FROM link_attempts WHERE platform = ? AND external_id = ? AND at > ? ORDER BY at",
                (claimer.platform, claimer.external_id, to_db_time(since)))
        return [from_db_time(row["at"]) for row in rows]

    async def plan(self, survivor_id: int, absorbed_id: int) -> MergePlan:
        return await linking_merge.plan(self._db, survivor_id, absorbed_id)

    async def merge(self, survivor_id: int, absorbed_id: int, now: datetime) -> MergePlan:
        return await linking_merge.merge(self._db, survivor_id, absorbed_id, now)

    async def split(self, person_id: int, platform: str, now: datetime) -> int:
        db = self._db
        async with db.transaction():
            first = await db.fetch_one(
                "SELECT i.display_name, p.language, p.timezone FROM identities i JOIN people p ON p.id = i.person_id"
                " WHERE i.person_id = ? AND i.platform = ? ORDER BY i.external_id LIMIT 1", (person_id, platform))
            if first is None:
                raise LookupError(f"person {person_id} has no identity on {platform}")
            # Numbered above every id ever used, as storage/people.py numbers newcomers (migration 0018).
            new_id = await db.insert(
                "INSERT INTO people (id, display_name, language, timezone, preferred_platform, created_at) VALUES"
                f" ({NEXT_PERSON_ID}, ?, ?, ?, ?, ?)",
                (first["display_name"], first["language"], first["timezone"], platform, to_db_time(now)))
            await db.execute("UPDATE identities SET person_id = ? WHERE person_id = ? AND platform = ?",
                             (new_id, person_id, platform))
            await db.execute("UPDATE people SET preferred_platform = NULL WHERE id = ? AND preferred_platform = ?",
                             (person_id, platform))
            return new_id
