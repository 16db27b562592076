"""The preferred platform in SQLite (issue 21): stored as chosen, forgotten when its last account leaves
(migration 0020), and ``all`` read as the first account's platform wherever a DM's platform is guessed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.announcements.model import AnnouncementState
from bot.announcements.payloads import AnnouncementPayload, AnnouncementTarget
from bot.announcements.store import Audience
from bot.delivery.model import DeliveryKind, NewDelivery, SentMessage
from bot.delivery.payloads import NoticePayload
from bot.messages import Message
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Topic, Visibility
from storage.database import Database, to_db_time
from storage.store import SqliteStore
from tests.postgres_server import storage_target

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def _two_accounts(db: Database, store: SqliteStore) -> int:
    ana = (await store.people.ensure_identity(Identity("slack", "U1"), "Ana", NOW)).person_id
    await db.execute("INSERT INTO identities (platform, external_id, person_id, display_name, last_seen_at)"
                     " VALUES ('discord', 'D1', ?, 'Ana', ?)", (ana, to_db_time(NOW)))
    return ana


async def _preferred(store: SqliteStore, person_id: int) -> str | None:
    person = await store.people.get(person_id)
    assert person is not None
    return person.preferred_platform


async def _all_with_email_and_slack(db: Database, store: SqliteStore) -> tuple[int, Topic, Topic]:
    """Ana, on email and Slack with ``all``, following a members topic and a public one at once."""
    ana = (await store.people.ensure_identity(Identity("email", "ana@example.org"), "Ana", NOW)).person_id
    await db.execute("INSERT INTO identities (platform, external_id, person_id, display_name, last_seen_at)"
                     " VALUES ('slack', 'U1', ?, 'Ana', ?)", (ana, to_db_time(NOW)))
    await store.people.set_preferred_platform(ana, "all")
    inner = await store.topics.create("inner", "Inner", "", Visibility.MEMBERS, Policy.OPEN, NOW)
    news = await store.topics.create("news", "News", "", Visibility.PUBLIC, Policy.OPEN, NOW)
    for topic in (inner, news):
        await store.subscriptions.put(ana, topic.id, DeliveryMode.IMMEDIATE, NOW)
    return ana, inner, news


async def test_a_preference_is_forgotten_when_its_last_account_leaves_the_person(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        ana = await _two_accounts(db, store)
        await store.people.set_preferred_platform(ana, "discord")
        assert await _preferred(store, ana) == "discord"
        await db.execute("DELETE FROM identities WHERE platform = 'slack'")  # another platform: kept
        assert await _preferred(store, ana) == "discord"
        ben = (await store.people.ensure_identity(Identity("slack", "U2"), "Ben", NOW)).person_id
        await db.execute("UPDATE identities SET person_id = ? WHERE platform = 'discord'", (ben,))  # moved
        assert await _preferred(store, ana) is None
        await store.people.set_preferred_platform(ben, "all")
        await db.execute("DELETE FROM identities WHERE platform = 'discord'")
        assert await _preferred(store, ben) == "all"


async def test_all_is_counted_once_under_the_first_accounts_platform(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        ana = await _two_accounts(db, store)
        await store.people.set_preferred_platform(ana, "all")
        topic = await store.topics.create("press", "Press", "", Visibility.PUBLIC, Policy.OPEN, NOW)
        await store.subscriptions.put(ana, topic.id, DeliveryMode.IMMEDIATE, NOW)
        assert await store.subscriptions.audience_counts(topic.id) == [(DeliveryMode.IMMEDIATE, "discord", 1)]
        assert await store.announcements.audience_platforms(topic.id) == [("discord", 1)]
        # Both accounts get their DM channel opened ahead: each receives a copy.
        assert await store.direct_channels.lacking("slack", 10) == [Identity("slack", "U1")]
        assert await store.direct_channels.lacking("discord", 10) == [Identity("discord", "D1")]


async def test_all_with_email_counts_and_paces_the_counted_row_where_the_topic_may_go(tmp_path: Path) -> None:
    """Email carries public topics only: for a members topic an ``all`` person's counted row goes through Slack
    (their first account that may carry it) — in the live estimate, in the "is this platform busy" check the DM
    channel opener asks, and in the copies the fan-out writes (none: Slack carries the counted row)."""
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        ana, inner, news = await _all_with_email_and_slack(db, store)
        assert await store.announcements.audience_platforms(inner.id) == [("slack", 1)]
        assert await store.announcements.audience_platforms(news.id) == [("email", 1)]
        payload = NoticePayload(Message(body=("hi",)))
        await store.outbox.enqueue([NewDelivery(dedupe_key="members", kind=DeliveryKind.NOTICE, payload=payload,
                                                not_before=NOW, person_id=ana, topic_id=inner.id)], NOW)
        assert await store.direct_channels.busy("slack", NOW) and not await store.direct_channels.busy("email", NOW)
        await db.execute("DELETE FROM deliveries")
        await store.outbox.enqueue([NewDelivery(dedupe_key="public", kind=DeliveryKind.NOTICE, payload=payload,
                                                not_before=NOW, person_id=ana, topic_id=news.id)], NOW)
        assert await store.direct_channels.busy("email", NOW) and not await store.direct_channels.busy("slack", NOW)
        for topic in (inner, news):
            announcement = await store.announcements.create(topic.id, ana, "Hello", None, NOW)
            await store.announcements.transition(announcement.id, AnnouncementState.SENDING,
                                                 [AnnouncementState.DRAFT], NOW)
            await store.announcements.begin_fan_out(announcement.id)
            payload_json = AnnouncementPayload(announcement.id, AnnouncementTarget.DM).to_json()
            await store.announcements.fan_out_chunk(
                Audience(announcement.id, topic.id, f"ann:{announcement.id}:person:", payload_json), NOW, 100)
            copies = await store.outbox.of_announcement(announcement.id, DeliveryKind.ANNOUNCEMENT_COPY)
            assert [c.platform for c in copies] == ([] if topic is inner else ["slack"])


async def test_the_preview_counts_an_all_person_where_the_topic_may_go(tmp_path: Path) -> None:
    """The preview's audience (``audience_counts``) follows the same rule as the fan-out: an ``all`` person with
    an email and a Slack account is counted on Slack for a members topic, on email for a public one."""
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        _ana, inner, news = await _all_with_email_and_slack(db, store)
        assert await store.subscriptions.audience_counts(inner.id) == [(DeliveryMode.IMMEDIATE, "slack", 1)]
        assert await store.subscriptions.audience_counts(news.id) == [(DeliveryMode.IMMEDIATE, "email", 1)]


async def test_a_copy_the_counted_row_adopted_is_not_one_more_copy(tmp_path: Path) -> None:
    """The report's "and N more copies": a copy whose message the counted row took over (it fell back onto the
    copy's platform) is the person's one message there, not an extra one; a copy sent on its own is."""
    async with Database.open(storage_target(tmp_path, "bot.db")) as db:
        store = SqliteStore(db)
        ana = await _two_accounts(db, store)
        topic = await store.topics.create("press", "Press", "", Visibility.PUBLIC, Policy.OPEN, NOW)
        announcement = await store.announcements.create(topic.id, ana, "Hello", None, NOW)
        payload = NoticePayload(Message(body=("hi",)))
        rows = [NewDelivery(dedupe_key=key, kind=kind, payload=payload, not_before=NOW, person_id=ana,
                            platform=platform, topic_id=topic.id, announcement_id=announcement.id)
                for key, kind, platform in (("counted", DeliveryKind.ANNOUNCEMENT, None),
                                            ("copy", DeliveryKind.ANNOUNCEMENT_COPY, "slack"))]
        await store.outbox.enqueue(rows, NOW)
        by_key = {row.dedupe_key: row for row in await store.outbox.claim_due(NOW, 10)}
        slack_dm = SentMessage("slack", "D-U1", ("1700000000.000100",))
        await store.outbox.mark_sent(by_key["copy"].id, slack_dm, NOW)
        await store.outbox.mark_sent(by_key["counted"].id, slack_dm, NOW)  # adopted: the same message
        assert await store.delivery_reports.copies_sent(announcement.id) == 0
        await db.execute("UPDATE deliveries SET sent_platform = 'discord', sent_channel_id = 'D1',"
                         " sent_message_ids = '[\"42\"]' WHERE dedupe_key = 'counted'")  # went elsewhere
        assert await store.delivery_reports.copies_sent(announcement.id) == 1
