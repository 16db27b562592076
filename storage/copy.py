"""Moving a coalition between engines (SQLite → PostgreSQL and back): ``python -m bot copy-storage FROM TO``.

Every table is copied row by row through the repositories' common SQL, in an order where a row's foreign keys
exist before it, inside one transaction on the target (a failure leaves it as it was). Derived rows are copied
last, over what the target's triggers built: the delivery counts keep rows that retention pruned, so they cannot
be rebuilt from the rows that remain. A process's lease and a pruning flag are not data, and are not copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.database import Database, Row

# In an order where every foreign key's table comes first.
TABLES: tuple[str, ...] = (
    "action_tokens", "people", "topics", "announcements", "audit_log", "channel_bindings", "deliveries",
    "digest_items", "discord_publishes", "discord_send_attempts", "email_health", "identities", "email_keys",
    "email_requests", "email_salt", "email_signups", "grants", "handled_events", "id_floors", "invitations",
    "link_attempts", "link_codes", "meetings", "meeting_occurrences", "meeting_reminders", "meeting_rsvps",
    "platform_circuits", "resources", "resource_topics", "scheduled_runs", "slack_replays", "subscription_requests",
    "subscriptions",
    "announcement_counts", "announcement_digest_counts",
)
SEEDED = frozenset({"email_salt", "id_floors"})
"""Rows every new database starts with: the source's replace them (the salt keys the stored address hashes)."""
DERIVED = frozenset({"announcement_counts", "announcement_digest_counts"})
"""Kept by triggers as the rows they count are written: replaced by the source's once everything is in."""
NOT_COPIED = frozenset({"worker_leases", "retention_pruning", "platform_budgets"})
"""A running process's lease, a flag set only while retention prunes, and the rates the processes learnt from the
platforms' 429s (learnt again where the coalition goes): no coalition data."""
GENERATED_COLUMNS = frozenset({"search_document"})
"""PostgreSQL computes these from other columns; they are never written."""
ORDER_BY: dict[str, str] = {
    "action_tokens": "token", "announcement_counts": "announcement_id, kind, status, retryable",
    "announcement_digest_counts": "announcement_id", "digest_items": "person_id, announcement_id",
    "discord_send_attempts": "delivery_key", "email_health": "address", "identities": "platform, external_id",
    "email_keys": "platform, address", "handled_events": "delivery_key", "id_floors": "name",
    "invitations": "person_id, topic_id",
    "meeting_occurrences": "meeting_id, original_start",
    "meeting_reminders": "meeting_id, original_start, start, offset_minutes",
    "meeting_rsvps": "meeting_id, person_id, occurrence", "platform_circuits": "platform",
    "resource_topics": "resource_id, topic_id", "scheduled_runs": "job", "slack_replays": "signature",
    "subscriptions": "person_id, topic_id",
}
"""Each table's primary key, so that the copy reads in pages; ``id`` where unnamed."""
BATCH = 2000


class TargetNotEmpty(RuntimeError):
    """The target already holds a coalition's rows: copying over them would mix two coalitions."""


class SchemaMismatch(RuntimeError):
    """The two databases are not at the same schema version (each is migrated before copying)."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    rows: int


async def copy_storage(source: Database, target: Database) -> list[TableCopy]:
    """Copy every table of ``source`` into the empty ``target``; the rows per table, checked on both sides."""
    source_version, target_version = await source.schema_version(), await target.schema_version()
    if source_version != target_version:
        raise SchemaMismatch(f"source is at schema version {source_version}, target at {target_version}")
    for table in TABLES:
        if table not in SEEDED and await _count(target, table):
            raise TargetNotEmpty(f"the target already has rows in {table}")
    copied: list[TableCopy] = []
    async with target.transaction():
        for table in TABLES:
            if table in SEEDED or table in DERIVED:
                await target.execute(f"DELETE FROM {table}")
            copied.append(TableCopy(table, await _copy_table(source, target, table)))
        for table in DERIVED:  # what the triggers counted while the rows went in, replaced by the source's
            await target.execute(f"DELETE FROM {table}")
            await _copy_table(source, target, table)
        await _carry_high_water(await _high_water(source), target)
        for table_copy in copied:
            found = await _count(target, table_copy.table)
            if found != table_copy.rows or found != await _count(source, table_copy.table):
                raise RuntimeError(f"{table_copy.table}: copied {table_copy.rows} rows, the target has {found}")
    return copied


async def _count(db: Database, table: str) -> int:
    row = await db.fetch_one(f"SELECT COUNT(*) FROM {table}")
    return int(row[0]) if row else 0


async def _copy_table(source: Database, target: Database, table: str) -> int:
    order = ORDER_BY.get(table, "id")
    total, offset = 0, 0
    while True:
        rows = await source.fetch_all(f"SELECT * FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", (BATCH, offset))
        if not rows:
            return total
        columns = [name for name in rows[0].keys() if name not in GENERATED_COLUMNS]
        statement = (f"INSERT INTO {table} ({', '.join(columns)})"
                     f" VALUES ({', '.join('?' for _ in columns)})")
        await target.execute_many(statement, [_values(row, columns) for row in rows])
        total += len(rows)
        offset += len(rows)


def _values(row: Row, columns: Sequence[str]) -> tuple[object, ...]:
    return tuple(row[name] for name in columns)


async def _high_water(db: Database) -> dict[str, int]:
    """The highest id each table ever handed out, deleted rows' included, where the engine keeps it: SQLite for its
    AUTOINCREMENT tables (``sqlite_sequence``; the others reuse ids by design), PostgreSQL for every identity."""
    if db.dialect == "sqlite":
        rows = await db.fetch_all("SELECT name, seq FROM sqlite_sequence")
    else:
        rows = await db.fetch_all(
            "SELECT table_name, pg_sequence_last_value(CAST(pg_get_serial_sequence(table_name, 'id') AS regclass))"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND column_name = 'id' AND is_identity = 'YES'")
    return {str(row[0]): int(row[1]) for row in rows if row[1] is not None}


async def _carry_high_water(marks: dict[str, int], db: Database) -> None:
    """Make the target hand out ids above every id the source ever used: a pruned email sign-up's or link code's
    id must not name a new one (their outbox keys would then match an old message, which is never sent again)."""
    if db.dialect == "sqlite":
        for table, last in marks.items():
            if table not in TABLES:
                continue
            # A row exists for each AUTOINCREMENT table that received rows; one that received none gets one here.
            if not await db.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", (last, table)):
                if await _autoincrement(db, table):
                    await db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, last))
        return
    rows = await db.fetch_all(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND column_name = 'id' AND is_identity = 'YES'")
    for row in rows:
        table = str(row[0])
        await db.fetch_all(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" GREATEST(COALESCE(MAX(id), 0), ?) + 1, false) FROM {table}", (marks.get(table, 0),))


async def _autoincrement(db: Database, table: str) -> bool:
    row = await db.fetch_one("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    return row is not None and "AUTOINCREMENT" in str(row[0]).upper()
