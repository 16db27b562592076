"""PostgreSQL's baseline and SQLite's migrations describe one schema: the repositories' single body of SQL reads
and writes the same tables and columns on both, and relies on the same keys (an ``ON CONFLICT`` target, a unique
index that refuses a duplicate, a cascade).

Compared: tables, column names (and NOT NULL), primary keys, unique constraints and indexes (partial or not), and
foreign keys with their ON DELETE action. Where the engines differ on purpose, the difference is named below; a
column added to one engine only fails here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage.database import Database
from tests.postgres_server import fresh_database_url

pytestmark = pytest.mark.postgresql_only

SQLITE_ONLY_TABLES = frozenset({"resources_fts", "resources_vocab"})
"""Full-text search: FTS5 tables on SQLite (their shadow tables are left out by type); a tsvector column there."""
POSTGRESQL_ONLY_TABLES = frozenset({"schema_version", "data_changes"})
"""PostgreSQL keeps its schema version in a table (SQLite: ``PRAGMA user_version``) and counts changes for
:meth:`Database.data_version` (SQLite: ``PRAGMA data_version``)."""
POSTGRESQL_ONLY_COLUMNS = frozenset({("resources", "search_document")})
"""The generated tsvector that stands for SQLite's ``resources_fts``."""

EXPRESSION = "<expression>"
ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True, slots=True, order=True)
class ForeignKey:
    columns: tuple[str, ...]
    references: str
    referenced: tuple[str, ...]
    on_delete: str


@dataclass(frozen=True, slots=True, order=True)
class Unique:
    columns: tuple[str, ...]
    partial: bool


@dataclass(slots=True)
class Table:
    columns: set[str] = field(default_factory=set)
    not_null: set[str] = field(default_factory=set)
    primary_key: tuple[str, ...] = ()
    unique: set[Unique] = field(default_factory=set)
    foreign_keys: set[ForeignKey] = field(default_factory=set)


Schema = dict[str, Table]


def sqlite_schema(path: Path) -> Schema:
    """Read through SQLite's own PRAGMAs, as the file is after every migration."""
    schema: Schema = {}
    with closing(sqlite3.connect(path)) as conn:
        names = [row[1] for row in conn.execute("PRAGMA main.table_list")
                 if row[2] == "table" and not row[1].startswith("sqlite_")]
        for name in names:
            table = schema[name] = Table()
            info = conn.execute(f"PRAGMA table_info({name})").fetchall()
            table.columns = {row[1] for row in info}
            table.primary_key = tuple(row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            table.not_null = {row[1] for row in info if row[3] or row[1] in table.primary_key}
            for _seq, index, unique, origin, partial in conn.execute(f"PRAGMA index_list({name})"):
                if unique and origin != "pk":
                    columns = tuple(row[2] or EXPRESSION for row in conn.execute(f"PRAGMA index_info({index})"))
                    table.unique.add(Unique(columns, bool(partial)))
            keys: dict[int, list[tuple[str, str, str | None, str]]] = {}
            for key_id, _seq, target, column, to, _update, on_delete, _match in conn.execute(
                    f"PRAGMA foreign_key_list({name})"):
                keys.setdefault(key_id, []).append((target, column, to, on_delete))
            for parts in keys.values():
                target = parts[0][0]
                referenced = tuple(to for _, _, to, _ in parts)
                if None in referenced:  # REFERENCES t without columns: t's primary key
                    referenced = tuple(row[1] for row in sorted(
                        (r for r in conn.execute(f"PRAGMA table_info({target})") if r[5]), key=lambda r: r[5]))
                table.foreign_keys.add(ForeignKey(tuple(column for _, column, _, _ in parts), target,
                                                  tuple(str(c) for c in referenced), parts[0][3]))
    return schema


async def postgres_schema(db: Database) -> Schema:
    """Read from information_schema and pg_catalog, in the public schema."""
    schema: Schema = {}
    for row in await db.fetch_all("SELECT table_name FROM information_schema.tables"
                                  " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"):
        schema[row[0]] = Table()
    for row in await db.fetch_all("SELECT table_name, column_name, is_nullable FROM information_schema.columns"
                                  " WHERE table_schema = 'public'"):
        if row[0] in schema:
            schema[row[0]].columns.add(row[1])
            if row[2] == "NO":
                schema[row[0]].not_null.add(row[1])

    def names(table: str, numbers: Iterable[int], columns: dict[tuple[str, int], str]) -> tuple[str, ...]:
        return tuple(columns.get((table, number), EXPRESSION) for number in numbers)

    column_of = {(row[0], int(row[1])): row[2] for row in await db.fetch_all(
        "SELECT c.relname, a.attnum, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND a.attnum > 0"
        " AND NOT a.attisdropped")}
    for table, primary, keys, partial in await db.fetch_all(
            "SELECT c.relname, i.indisprimary, i.indkey::int2[], i.indpred IS NOT NULL FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND i.indisunique"):
        if table not in schema:
            continue
        columns = names(table, keys, column_of)
        if primary:
            schema[table].primary_key = columns
        else:
            schema[table].unique.add(Unique(columns, bool(partial)))
    for table, keys, target, referenced, action in await db.fetch_all(
            "SELECT c.relname, k.conkey, t.relname, k.confkey, k.confdeltype FROM pg_constraint k"
            " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class t ON t.oid = k.confrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND k.contype = 'f'"):
        schema[table].foreign_keys.add(ForeignKey(names(table, keys, column_of), target,
                                                  names(target, referenced, column_of), ON_DELETE[action]))
    return schema


def differences(lite: Schema, pg: Schema) -> list[str]:
    """Every way the two schemas differ, beyond the named exceptions; empty when they agree."""
    found = []
    tables_lite, tables_pg = set(lite) - SQLITE_ONLY_TABLES, set(pg) - POSTGRESQL_ONLY_TABLES
    found += [f"table {t} only on SQLite" for t in sorted(tables_lite - tables_pg)]
    found += [f"table {t} only on PostgreSQL" for t in sorted(tables_pg - tables_lite)]
    for name in sorted(tables_lite & tables_pg):
        a, b = lite[name], pg[name]
        b_columns = {c for c in b.columns if (name, c) not in POSTGRESQL_ONLY_COLUMNS}
        found += [f"{name}.{c} only on SQLite" for c in sorted(a.columns - b_columns)]
        found += [f"{name}.{c} only on PostgreSQL" for c in sorted(b_columns - a.columns)]
        shared = a.columns & b_columns
        found += [f"{name}.{c} NOT NULL only on SQLite" for c in sorted((a.not_null - b.not_null) & shared)]
        found += [f"{name}.{c} NOT NULL only on PostgreSQL" for c in sorted((b.not_null - a.not_null) & shared)]
        if a.primary_key != b.primary_key:
            found.append(f"{name} primary key: SQLite {a.primary_key}, PostgreSQL {b.primary_key}")
        found += [f"{name} unique {u} only on SQLite" for u in sorted(a.unique - b.unique)]
        found += [f"{name} unique {u} only on PostgreSQL" for u in sorted(b.unique - a.unique)]
        found += [f"{name} foreign key {k} only on SQLite" for k in sorted(a.foreign_keys - b.foreign_keys)]
        found += [f"{name} foreign key {k} only on PostgreSQL" for k in sorted(b.foreign_keys - a.foreign_keys)]
    return found


async def both_schemas(tmp_path: Path) -> tuple[Path, Schema]:
    path = tmp_path / "lite.db"
    async with Database.open(path) as lite:
        assert lite.dialect == "sqlite"
    async with Database.open(fresh_database_url(migrated=False)) as pg:
        assert pg.dialect == "postgresql"
        return path, await postgres_schema(pg)


async def test_the_postgresql_baseline_has_sqlites_tables_columns_and_keys(tmp_path: Path) -> None:
    path, pg = await both_schemas(tmp_path)
    lite = sqlite_schema(path)
    assert len(lite) > 30 and lite.keys() - SQLITE_ONLY_TABLES == pg.keys() - POSTGRESQL_ONLY_TABLES
    assert differences(lite, pg) == []


async def test_a_column_key_or_table_added_to_one_engine_only_is_found(tmp_path: Path) -> None:
    """The comparison itself: each kind of drift on the SQLite side shows."""
    path, pg = await both_schemas(tmp_path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("ALTER TABLE people ADD COLUMN nickname TEXT")
        conn.execute("CREATE UNIQUE INDEX people_nickname ON people (nickname)")
        conn.execute("CREATE TABLE extras (id INTEGER PRIMARY KEY, person_id INTEGER REFERENCES people(id))")
        conn.commit()
    found = differences(sqlite_schema(path), pg)
    assert found == ["table extras only on SQLite", "people.nickname only on SQLite",
                     "people unique Unique(columns=('nickname',), partial=False) only on SQLite"]
    pg["topics"].columns.add("colour")
    pg["topics"].foreign_keys.add(ForeignKey(("colour",), "people", ("id",), "CASCADE"))
    assert "topics.colour only on PostgreSQL" in differences(sqlite_schema(path), pg)
    assert any("topics foreign key" in line for line in differences(sqlite_schema(path), pg))
