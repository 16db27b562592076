"""Migration 0014 adds each identity's platform locale: identities of an older database keep everything and
have none; contact stores a locale the platform gives, keeps it when it gives none, and a profile reads it."""

from __future__ import annotations

from pathlib import Path

from bot.model import Identity, Role
from storage.database import Database, to_db_time
from storage.store import SqliteStore
from tests.postgres_server import storage_target
from tests.support import FixedClock

BEFORE_LOCALES = 13
ALICE = Identity("discord", "42")
ALICE_SLACK = Identity("slack", "U42")


async def test_identities_of_a_previous_database_get_no_locale_and_keep_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    now = to_db_time(FixedClock().now())
    async with Database.open(path, target_version=BEFORE_LOCALES) as db:
        person = await db.insert("INSERT INTO people (display_name, language, created_at) VALUES ('alice', 'fr', ?)",
                                 (now,))
        await db.execute("INSERT INTO identities (platform, external_id, person_id, display_name, platform_role,"
                         " dm_channel_id, last_seen_at) VALUES ('discord', '42', ?, 'alice', 'member', 'D1', ?)",
                         (person, now))
        row = await db.fetch_one("SELECT * FROM identities")
        assert row is not None
        before = dict(row)
    async with Database.open(path) as db:
        row = await db.fetch_one("SELECT * FROM identities")
        assert row is not None
        after = dict(row)
        # role_checked_at: migration 0022 starts it from the last contact.
        assert after == before | {"platform_locale": None, "role_checked_at": now}
        profile = await SqliteStore(db).people.profile_of(ALICE)
        assert profile is not None and profile.locales == () and profile.locale_of(ALICE) is None
        assert profile.person.language == "fr" and profile.identities[0].dm_channel_id == "D1"


async def test_contact_stores_the_locale_per_identity_and_keeps_it_when_none_is_given(tmp_path: Path) -> None:
    clock = FixedClock()
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        people = SqliteStore(db).people
        record = await people.ensure_identity(ALICE, "alice", clock.now())
        await db.execute("INSERT INTO identities (platform, external_id, person_id, display_name) VALUES"
                         " ('slack', 'U42', ?, 'alice')", (record.person_id,))
        await people.touch_identity(ALICE, "alice", Role.MEMBER, None, clock.now(), platform_locale="es-419")
        await people.touch_identity(ALICE_SLACK, "alice", Role.MEMBER, None, clock.now(), platform_locale="pt-BR")
        await people.touch_identity(ALICE, "alice", Role.MEMBER, None, clock.now())  # no locale: kept
        profile = await people.profile(record.person_id)
        assert profile is not None
        assert profile.locales == ((ALICE, "es-419"), (ALICE_SLACK, "pt-BR"))
        assert profile.locale_of(ALICE) == "es-419" and profile.locale_of(Identity("console", "x")) is None
        await people.touch_identity(ALICE, "alice", Role.MEMBER, None, clock.now(), platform_locale="fr")
        profile = await people.profile_of(ALICE)
        assert profile is not None and profile.locale_of(ALICE) == "fr" and profile.locale_of(ALICE_SLACK) == "pt-BR"
