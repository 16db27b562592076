"""Announcements (``announcements``): their text, state and when to send them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.announcements.model import Announcement, AnnouncementState
from bot.announcements.store import Audience, FanOutChunk
from bot.delivery.model import DeliveryKind
from bot.subscriptions.model import DeliveryMode
from storage.database import Database, Row, from_db_time, opt_time, to_db_time
from storage.public_ids import new_public_id

# Whether identity ``{i}`` may carry an announcement of topic ``t``: email carries public topics only.
_MAY_CARRY = "({i}.platform <> 'email' OR t.visibility = 'public')"

# The platform of an ``all`` subscriber's counted row: their first account that may carry the topic — the one rule
# of bot.delivery.accounts.counted_platform. Their other such accounts get the copies.
_COUNTED_PLATFORM = ("(SELECT MIN(f.platform) FROM identities f WHERE f.person_id = s.person_id AND "
                     + _MAY_CARRY.format(i="f") + ")")

# The platform a subscriber's DM will go through when nothing has been sent yet: the one they prefer, else their
# only identity's (None: several identities and no preference; the worker picks one when it sends). ``all``: the
# counted row's (the copies are not counted). Needs ``s`` (subscriptions), ``p`` (people) and ``t`` (topics).
_DM_PLATFORM = ("COALESCE(NULLIF(p.preferred_platform, 'all'), CASE WHEN p.preferred_platform = 'all' THEN "
                + _COUNTED_PLATFORM + " ELSE (SELECT CASE WHEN COUNT(*) = 1 THEN MIN(i.platform) END"
                " FROM identities i WHERE i.person_id = s.person_id) END)")

# A chunk's DM rows, one statement: each immediate subscriber's counted row, and for a subscriber whose preferred
# platform is ``all`` an ``announcement-copy`` row pinned to each platform of theirs that may carry the topic (none
# on email for a topic that is not public) but the counted row's. Keys as bot.delivery.model.counted_key and
# copy_key spell them. The casts give PostgreSQL the parameters' types (the first SELECT of the UNION decides its
# columns'); ON CONFLICT follows an ORDER BY, never a bare FROM, which SQLite would read as a join's ON.
_DM_ROWS = (
    "INSERT INTO deliveries (dedupe_key, kind, person_id, topic_id, platform, payload, status,"
    " not_before, created_at, announcement_id)"
    " SELECT CAST(? AS TEXT) || CAST(s.person_id AS TEXT), CAST(? AS TEXT), s.person_id, s.topic_id,"
    " CAST(NULL AS TEXT), CAST(? AS TEXT), 'pending', CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT)"
    " FROM subscriptions s"
    " WHERE s.topic_id = ? AND s.mode = ? AND s.person_id > ?{upto}"
    " UNION ALL"
    " SELECT 'ann:' || CAST(? AS TEXT) || ':copy:' || i.platform || ':' || CAST(s.person_id AS TEXT), ?,"
    " s.person_id, s.topic_id, i.platform, ?, 'pending', ?, ?, ?"
    " FROM subscriptions s JOIN people p ON p.id = s.person_id JOIN identities i ON i.person_id = s.person_id"
    " JOIN topics t ON t.id = s.topic_id"
    " WHERE s.topic_id = ? AND s.mode = ? AND s.person_id > ?{upto} AND p.preferred_platform = 'all'"
    " AND " + _MAY_CARRY.format(i="i") + " AND i.platform > " + _COUNTED_PLATFORM +
    " ORDER BY 3 ON CONFLICT DO NOTHING"
)


def _announcement(row: Row) -> Announcement:
    return Announcement(
        id=row["id"], topic_id=row["topic_id"], author_id=row["author_id"], text=row["text"],
        state=AnnouncementState(row["state"]), send_at=opt_time(row["send_at"]),
        created_at=from_db_time(row["created_at"]), sent_at=opt_time(row["sent_at"]),
        edited_at=opt_time(row["edited_at"]), revision=row["revision"], public_id=row["public_id"],
    )


def published_query(topics: int) -> str:
    """The archive's query for ``topics`` topic ids, then LIMIT and OFFSET. Both forms walk an index of
    migration 0015 newest first and stop at the limit: one topic its own (topic_id, published) index; several
    topics the published index, skipping other topics' rows (the unary + keeps SQLite from searching by topic and
    then sorting everything it found)."""
    where = "topic_id = ?" if topics == 1 else f"+topic_id IN ({','.join('?' * topics) or 'NULL'})"
    return (f"SELECT * FROM announcements WHERE {where} AND state IN ('sending', 'sent')"
            " ORDER BY COALESCE(sent_at, created_at) DESC, id DESC LIMIT ? OFFSET ?")


class SqliteAnnouncements:
    """The :class:`bot.announcements.store.AnnouncementStore` on the ``announcements`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, topic_id: int, author_id: int, text: str, send_at: datetime | None,
                     now: datetime) -> Announcement:
        async with self._db.transaction():
            announcement_id = await self._db.insert(
                "INSERT INTO announcements (topic_id, author_id, text, state, send_at, created_at, public_id)"
                " VALUES (?, ?, ?, 'draft', ?, ?, ?)",
                (topic_id, author_id, text, to_db_time(send_at) if send_at else None, to_db_time(now),
                 new_public_id()),
            )
            created = await self.get(announcement_id)
            assert created is not None
            return created

    async def get(self, announcement_id: int) -> Announcement | None:
        row = await self._db.fetch_one("SELECT * FROM announcements WHERE id = ?", (announcement_id,))
        return _announcement(row) if row else None

    async def by_public_id(self, public_id: str) -> Announcement | None:
        row = await self._db.fetch_one("SELECT * FROM announcements WHERE public_id = ?", (public_id,))
        return _announcement(row) if row else None

    async def recent(self, topic_ids: Sequence[int] | None, limit: int = 20) -> list[Announcement]:
        if topic_ids is None:
            rows = await self._db.fetch_all("SELECT * FROM announcements ORDER BY id DESC LIMIT ?", (limit,))
        else:
            marks = ",".join("?" for _ in topic_ids) or "NULL"
            rows = await self._db.fetch_all(
                f"SELECT * FROM announcements WHERE topic_id IN ({marks}) ORDER BY id DESC LIMIT ?",
                (*topic_ids, limit))
        return [_announcement(row) for row in rows]

    async def published(self, topic_ids: Sequence[int], *, limit: int, offset: int = 0) -> list[Announcement]:
        rows = await self._db.fetch_all(published_query(len(topic_ids)), (*topic_ids, limit, offset))
        return [_announcement(row) for row in rows]

    async def transition(self, announcement_id: int, to: AnnouncementState, expected: Sequence[AnnouncementState],
                         now: datetime) -> bool:
        """Move to ``to`` only from one of ``expected``; False when another path got there first."""
        marks = ",".join("?" for _ in expected)
        sent_at = ", sent_at = ?" if to is AnnouncementState.SENDING else ""
        # Never sent while its fan-out is still writing rows (a crash between chunks resumes it first).
        complete = " AND fanout_cursor IS NULL" if to is AnnouncementState.SENT else ""
        params: list[object] = [to.value]
        if sent_at:
            params.append(to_db_time(now))
        changed = await self._db.execute(
            f"UPDATE announcements SET state = ?{sent_at} WHERE id = ? AND state IN ({marks}){complete}",
            (*params, announcement_id, *(state.value for state in expected)))
        return changed > 0

    async def update_text(self, announcement_id: int, text: str, now: datetime) -> None:
        await self._db.execute(
            "UPDATE announcements SET text = ?, edited_at = ?, revision = revision + 1 WHERE id = ?",
            (text, to_db_time(now), announcement_id))

    async def set_send_at(self, announcement_id: int, send_at: datetime | None) -> None:
        await self._db.execute("UPDATE announcements SET send_at = ? WHERE id = ?",
                               (to_db_time(send_at) if send_at else None, announcement_id))

    async def due(self, now: datetime) -> list[Announcement]:
        rows = await self._db.fetch_all(
            "SELECT * FROM announcements WHERE state = 'scheduled' AND send_at <= ? ORDER BY send_at, id",
            (to_db_time(now),))
        return [_announcement(row) for row in rows]

    async def in_state(self, state: AnnouncementState) -> list[Announcement]:
        rows = await self._db.fetch_all("SELECT * FROM announcements WHERE state = ? ORDER BY id", (state.value,))
        return [_announcement(row) for row in rows]

    async def next_scheduled(self) -> datetime | None:
        row = await self._db.fetch_one("SELECT MIN(send_at) FROM announcements WHERE state = 'scheduled'")
        return from_db_time(row[0]) if row and row[0] else None

    # --- fan-out in chunks ----------------------------------------------------------------------------

    async def begin_fan_out(self, announcement_id: int) -> None:
        await self._db.execute("UPDATE announcements SET fanout_cursor = 0 WHERE id = ?", (announcement_id,))

    async def unfinished_fan_outs(self) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT id FROM announcements WHERE state = 'sending' AND fanout_cursor IS NOT NULL ORDER BY id")
        return [int(row["id"]) for row in rows]

    async def fan_out_chunk(self, audience: Audience, now: datetime, limit: int) -> FanOutChunk:
        """One transaction: the next ``limit`` subscribers after the cursor (in person order, every mode), their
        DM rows and digest items written set-based, and the cursor moved past them (NULL after the last)."""
        stamp = to_db_time(now)
        async with self._db.transaction():
            row = await self._db.fetch_one("SELECT state, fanout_cursor FROM announcements WHERE id = ?",
                                           (audience.announcement_id,))
            if row is None or row["fanout_cursor"] is None:
                return FanOutChunk(0, 0, done=True)
            if row["state"] != AnnouncementState.SENDING.value:  # cancelled meanwhile: stop here
                await self._db.execute("UPDATE announcements SET fanout_cursor = NULL WHERE id = ?",
                                       (audience.announcement_id,))
                return FanOutChunk(0, 0, done=True)
            after = int(row["fanout_cursor"])
            bound = await self._db.fetch_one(
                "SELECT person_id FROM subscriptions WHERE topic_id = ? AND person_id > ?"
                " ORDER BY person_id LIMIT 1 OFFSET ?", (audience.topic_id, after, limit - 1))
            last = int(bound[0]) if bound is not None else None
            upto, upto_params = ("", ()) if last is None else (" AND s.person_id <= ?", (last,))
            dms = await self._db.execute(
                _DM_ROWS.format(upto=upto),
                (audience.key_prefix, DeliveryKind.ANNOUNCEMENT.value, audience.payload, stamp, stamp,
                 audience.announcement_id, audience.topic_id, DeliveryMode.IMMEDIATE.value, after, *upto_params,
                 audience.announcement_id, DeliveryKind.ANNOUNCEMENT_COPY.value, audience.payload, stamp, stamp,
                 audience.announcement_id, audience.topic_id, DeliveryMode.IMMEDIATE.value, after, *upto_params))
            digests = await self._db.execute(
                "INSERT INTO digest_items (person_id, announcement_id, mode, created_at)"
                " SELECT s.person_id, CAST(? AS BIGINT), s.mode, CAST(? AS TEXT) FROM subscriptions s"
                f" WHERE s.topic_id = ? AND s.mode IN (?, ?) AND s.person_id > ?{upto} ORDER BY s.person_id"
                " ON CONFLICT DO NOTHING",
                (audience.announcement_id, stamp, audience.topic_id, DeliveryMode.DAILY.value,
                 DeliveryMode.WEEKLY.value, after, *upto_params))
            await self._db.execute("UPDATE announcements SET fanout_cursor = ? WHERE id = ?",
                                   (last, audience.announcement_id))
            return FanOutChunk(dms, digests, done=last is None)

    async def audience_platforms(self, topic_id: int) -> list[tuple[str | None, int]]:
        rows = await self._db.fetch_all(
            f"SELECT {_DM_PLATFORM} AS platform, COUNT(*) AS n FROM subscriptions s JOIN people p ON p.id = s.person_id"
            " JOIN topics t ON t.id = s.topic_id WHERE s.topic_id = ? AND s.mode = ? GROUP BY platform"
            " ORDER BY platform NULLS FIRST",
            (topic_id, DeliveryMode.IMMEDIATE.value))
        return [(row["platform"], int(row["n"])) for row in rows]
