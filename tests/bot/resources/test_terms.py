"""Word counts kept in memory for search, the tokenizer the index and the queries share, and the ranking
window: all against the real schema, on either storage engine."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.bidi import stripped
from bot.resources import query as resource_search
from bot.resources.model import (
    ResourceFields,
    ResourceFilter,
    ResourceKind,
    ResourceScope,
    ResourceVisibility,
    fold,
    words,
)
from bot.resources.query import match_expression, parse_query
from bot.resources.terms import TermIndex
from storage.database import Database
from storage.resources import SqliteResources
from storage.resources_postgres import MAX_LEXEME, to_tsquery
from tests.postgres_server import storage_target
from tests.support import Harness

NOW = datetime(2026, 11, 24, tzinfo=UTC)
EVERYTHING = ResourceScope(include_members=True, topic_ids=frozenset())


def _fields(key: str, title: str, summary: str = "", tags: tuple[str, ...] = (),
            visibility: ResourceVisibility = ResourceVisibility.PUBLIC) -> ResourceFields:
    return ResourceFields(url=f"https://example.org/{key}", url_key=f"example.org/{key}", title=title,
                          summary=summary, kind=ResourceKind.REPORT, topic_ids=(), tags=tags, language="en",
                          visibility=visibility)


async def _reloaded(db: Database) -> TermIndex:
    """The counts as a fresh load from the index computes them."""
    return await SqliteResources(db).terms()


# --- the in-memory index ------------------------------------------------------------------------------

def test_term_index_counts_prefixes_and_lengths() -> None:
    index = TermIndex([("election", 3), ("elections", 2), ("electoral", 1), ("monitor", 4), ("gone", 0)])
    assert index.frequency("election", prefix=False) == 3
    assert index.frequency("elect", prefix=True) == 6
    assert index.has("electo", prefix=True) and not index.has("electo", prefix=False)
    assert not index.has("gone", prefix=False) and not index.has("zz", prefix=True)
    assert list(index.by_length()[9]) == ["elections", "electoral"]
    index.count(["monitor", "monitor", "zebra"], 1)  # a word twice in one resource counts once
    assert index.frequency("monitor", prefix=False) == 5 and index.has("zebra", prefix=False)
    index.count(["zebra", "electoral"], -1)
    assert not index.has("zebra", prefix=False) and not index.has("electo", prefix=True)
    assert list(index.by_length()[9]) == ["elections"] and "zebra" not in index.by_length().get(5, ())


async def test_deltas_after_writes_equal_a_fresh_load(tmp_path: Path) -> None:
    """Random adds, edits and removals with multilingual text: the counts kept by deltas match a reload."""
    samples = ["Election observation in Kenya", "चुनाव निगरानी रिपोर्ट सत्य", "নির্বাচন পর্যবেক্ষণ", "தேர்தல் கண்காணிப்பு",
               "\u2067الانتخابات\u2069 والتضليل", "København og Straße", "ǣsir co\u00adoperation",
               "deepfakes🗳️monitoring", "e-mail_safety x² ½", "Выборы и дезинформация", "选举 观察", "ሰብአዊ መብቶች"]
    rng = random.Random(24)
    async with Database.open(storage_target(tmp_path, "terms.db")) as db:
        resources = SqliteResources(db)
        await resources.terms()  # loaded first, so every write below is applied as a delta
        ids: list[int] = []
        for step in range(60):
            text = " ".join(rng.sample(samples, 3))
            action = rng.random()
            if ids and action < 0.25:
                assert await resources.remove(ids.pop(rng.randrange(len(ids))))
            elif ids and action < 0.55:
                target = rng.choice(ids)
                await resources.update(target, _fields(f"e{target}", text, rng.choice(samples),
                                                       tuple(rng.sample(["osint", "whrd", "ǣ"], 2))), NOW)
            else:
                ids.append((await resources.add(_fields(f"n{step}", text, rng.choice(samples)), None, NOW)).id)
        kept = await resources.terms()
        assert kept == await _reloaded(db)
        assert kept == await resources.terms(EVERYTHING)  # the index holds exactly the words ``words`` makes
        assert len(kept) > 20 and kept.has("चुनाव", prefix=False) in {True, False}


async def test_a_rolled_back_write_leaves_the_counts_alone(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "terms.db")) as db:
        resources = SqliteResources(db)
        await resources.add(_fields("a", "Zebrafinch notes"), None, NOW)
        before = await resources.terms()
        assert before.frequency("zebrafinch", prefix=False) == 1
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await resources.add(_fields("b", "Zebrafinch field guide"), None, NOW)
                raise RuntimeError("the audit write failed")
        after = await resources.terms()
        assert after.frequency("zebrafinch", prefix=False) == 1 and not after.has("field", prefix=False)
        assert after == await _reloaded(db)


async def test_another_connections_write_is_seen(tmp_path: Path) -> None:
    """The command-line import runs in its own process: its rows must reach the running bot's counts."""
    async with Database.open(storage_target(tmp_path, "terms.db")) as bot_db:
        running = SqliteResources(bot_db)
        assert not (await running.terms()).has("zebrafinch", prefix=False)
        async with Database.open(storage_target(tmp_path, "terms.db")) as import_db:
            await SqliteResources(import_db).add(_fields("a", "Zebrafinch notes"), None, NOW)
            async with import_db.transaction():  # the importer holds the write lock: reading must not wait
                counts = await asyncio.wait_for(running.terms(), timeout=2)
        assert counts.frequency("zebrafinch", prefix=False) == 1


async def test_after_commit_runs_only_after_a_commit(tmp_path: Path) -> None:
    ran: list[str] = []
    async with Database.open(storage_target(tmp_path, "hooks.db")) as db:
        db.after_commit(lambda: ran.append("outside"))
        assert ran == ["outside"]
        async with db.transaction():
            db.after_commit(lambda: ran.append("committed"))
            async with db.transaction():  # a nested block joins the outer transaction
                db.after_commit(lambda: ran.append("nested"))
            assert ran == ["outside"]
        assert ran == ["outside", "committed", "nested"]
        with pytest.raises(RuntimeError):
            async with db.transaction():
                db.after_commit(lambda: ran.append("rolled back"))
                raise RuntimeError
        assert "rolled back" not in ran


async def test_a_failing_after_commit_callback_does_not_undo_the_write(tmp_path: Path) -> None:
    async with Database.open(storage_target(tmp_path, "hooks.db")) as db:
        resources = SqliteResources(db)
        await resources.terms()

        def broken() -> None:
            raise ValueError("a bug in some mirror")

        async with db.transaction():
            db.after_commit(broken)
            added = await resources.add(_fields("a", "Zebrafinch notes"), None, NOW)  # its delta still runs
        assert added.id == 1 and db.commits_in_doubt == 1
        assert (await resources.terms()).frequency("zebrafinch", prefix=False) == 1


async def test_a_task_started_inside_a_transaction_does_not_join_it(tmp_path: Path) -> None:
    """It inherits the context; writing after the outer block committed must still count its words."""
    async with Database.open(storage_target(tmp_path, "tasks.db")) as db:
        resources = SqliteResources(db)
        await resources.terms()
        release = asyncio.Event()

        async def later() -> None:
            await release.wait()
            await resources.add(_fields("late", "Quokka almanac"), None, NOW)

        async with db.transaction():
            task = asyncio.create_task(later())
        release.set()
        await task
        assert (await resources.terms()).frequency("quokka", prefix=False) == 1
        assert await resources.terms() == await _reloaded(db)
        with pytest.raises(RuntimeError, match="inside a transaction"):
            async with db.transaction(), db.settled():
                pass


# --- one tokenizer for the index and the query ---------------------------------------------------------

async def test_python_and_the_index_split_every_character_alike(tmp_path: Path) -> None:
    """Every code point up to U+2FFFF between two letters: ``words`` must cut exactly where the index does,
    whatever Unicode version SQLite's tables come from, whatever PostgreSQL's locale (or the counts and the
    queries would drift)."""
    code_points = [c for c in range(0x20, 0x30000) if not 0xD800 <= c < 0xE000]
    documents = ["".join(f"xq{chr(c)}zq " for c in code_points[i:i + 64]) for i in range(0, len(code_points), 64)]
    async with Database.open(storage_target(tmp_path, "tokens.db")) as db:
        await db.execute_many(
            "INSERT INTO resources (id, url, url_key, title, kind, language, visibility, created_at, updated_at,"
            " search_title) VALUES (?, ?, ?, '', 'report', 'en', 'public', '', '', ?)",
            [(i + 1, f"u{i}", f"u{i}", fold(text)) for i, text in enumerate(documents)])
        if db.dialect == "sqlite":
            await db.execute("CREATE VIRTUAL TABLE temp.instances USING fts5vocab(main, resources_fts, instance)")
            instances = "SELECT doc, term FROM temp.instances ORDER BY doc, offset"
        else:  # each lexeme once per position of it in the document
            instances = ("SELECT r.id, w.lexeme FROM resources r CROSS JOIN LATERAL unnest(r.search_document) w"
                         " CROSS JOIN LATERAL unnest(w.positions) p ORDER BY r.id, p")
        indexed: dict[int, list[str]] = {}
        for row in await db.fetch_all(instances):
            indexed.setdefault(row[0], []).append(row[1])
        differences = [(hex(code_points[i * 64]), indexed.get(i + 1, [])[:3], words(text)[:3])
                       for i, text in enumerate(documents) if indexed.get(i + 1, []) != words(text)]
        assert differences == []
    # Storage recounts a row's old words from its stored folded text: folding twice must change nothing.
    assert [fold(fold(text)) for text in documents] == [fold(text) for text in documents]


@pytest.mark.parametrize(("title", "query"), [
    ("चुनाव निगरानी पर रिपोर्ट", "चुनाव"),             # Hindi: vowel signs are part of the word
    ("चुनाव निगरानी पर रिपोर्ट", "निगरा"),              # … and a prefix of it finds it
    ("নির্বাচন পর্যবেক্ষণ নির্দেশিকা", "নির্বাচন"),       # Bengali, with virama
    ("தேர்தல் கண்காணிப்பு கையேடு", "தேர்தல்"),           # Tamil
    ("\u2067دليل الانتخابات\u2069", "الانتخابات"),       # Arabic pasted with bidi isolates
    ("Tool\u00adkit for co\u00adoperation", "toolkit cooperation"),  # soft hyphens
    ("Ǣsir archive", "aesir"),                           # a ligature under an accent
    ("Deepfakes🗳️monitoring guide", "monitoring"),       # an emoji glued to a word
])
async def test_words_in_many_scripts_are_found_whole(h: Harness, title: str, query: str) -> None:
    reply = await h.text("demo-admin", f'resource add https://example.org/s "{title}" visibility:public')
    assert reply.startswith("Added #"), reply
    # Bidi controls typed with a command are dropped (bot.bidi.stripped): a reader's own isolates come back at
    # rendering, and an override (U+202E) must not survive into what others read.
    assert stripped(title) in await h.text("demo-outsider", f"resource search {query}")


def test_an_fts5_expression_becomes_the_same_tsquery() -> None:
    """PostgreSQL gets the caller's quoted tokens as tsquery literals: phrases, prefixes, every term required."""
    terms = parse_query('"field guide" monitor e-mail x kenya')
    assert to_tsquery(match_expression(terms)) == "('field' <-> 'guide') & 'monitor':* & ('e' <-> 'mail':*) & 'x'" \
        " & 'kenya':*"
    assert to_tsquery('"it\'s"') == "'it''s'"  # never produced (words hold no quotes), still never syntax
    assert to_tsquery('"' + "字" * (MAX_LEXEME // 3 + 1) + '"') is None  # longer than any indexed word
    for broken in ("", "kenya", '"kenya" OR "x"', '""', '"kenya"**'):
        with pytest.raises(ValueError):
            to_tsquery(broken)


async def test_phrases_stay_inside_one_column_and_overlong_words_are_harmless(tmp_path: Path) -> None:
    """As in FTS5, a phrase never runs from the title into the tags; a word too long for a PostgreSQL lexeme
    (a long run of Chinese without punctuation) neither breaks a write nor the counts, on either engine."""
    long_word = "选" * 800  # 2,400 bytes in UTF-8
    async with Database.open(storage_target(tmp_path, "columns.db")) as db:
        resources = SqliteResources(db)
        await resources.terms()
        added = await resources.add(_fields("a", "Field guide Kenya", f"观察 {long_word}", ("elections",)),
                                    None, NOW)

        async def found(query: str) -> list[int]:
            page = await resources.search(match_expression(parse_query(query)), EVERYTHING, ResourceFilter(),
                                          limit=5)
            return [r.id for r in page.items]

        assert await found("kenya elections") == [added.id] and await found('"kenya elections"') == []
        assert await found('"guide kenya"') == [added.id] and await found("观察") == [added.id]
        assert await resources.terms() == await _reloaded(db)
        assert (await resources.terms(EVERYTHING)).has("观察", prefix=False)


@pytest.mark.sqlite_only  # SQLite's migrations and its FTS5 vocabulary table
async def test_a_version_6_library_is_reindexed_by_the_upgrade(tmp_path: Path) -> None:
    """Rows folded and indexed the old way are refolded and found whole afterwards; counts stay exact."""
    title = "Tool\u00adkit 🗳️monitoring ǣsir चुनाव सत्य"

    def old_fold(text: str) -> str:  # the folding of version 6: accents off, everything else kept
        decomposed = unicodedata.normalize("NFKD", text.translate(str.maketrans({"ø": "o", "æ": "ae"})))
        return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()

    path = tmp_path / "old.db"
    async with Database.open(path, target_version=6) as db:
        await db.execute(
            "INSERT INTO resources (id, url, url_key, title, kind, language, visibility, created_at, updated_at,"
            " search_title) VALUES (1, 'u', 'u', ?, 'report', 'hi', 'public', '2026-01-01T00:00:00.000000Z',"
            " '2026-01-01T00:00:00.000000Z', ?)", (title, old_fold(title)))
        assert await db.fetch_one("SELECT 1 FROM resources_vocab WHERE term = 'चुनाव'") is None  # split apart
    async with Database.open(path) as db:
        resources = SqliteResources(db)
        for query in ("चुनाव", "सत्य", "aesir", "toolkit", "monitoring"):
            page = await resources.search(match_expression(parse_query(query)), EVERYTHING, ResourceFilter(),
                                          limit=5)
            assert [r.id for r in page.items] == [1], query
        await resources.terms()
        await resources.update(1, _fields("u", "Another title"), NOW)
        assert await resources.terms() == await _reloaded(db)
        assert await resources.remove(1)
        assert len(await resources.terms()) == 0 and len(await _reloaded(db)) == 0


# --- the ranking window ------------------------------------------------------------------------------

async def test_the_window_holds_the_newest_matches_the_reader_may_see(h: Harness,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the window, only the newest matches are ranked: those the reader may see, after filters."""
    monkeypatch.setattr(resource_search, "RANK_WINDOW", 3)
    for n in range(4):  # older: public, French
        await h.text("demo-admin", f"resource add https://example.org/p{n} Quokka public brief {n} "
                                   "topics:disinformation visibility:public lang:fr")
    for n in range(5):  # newer: members only
        await h.text("demo-admin", f"resource add https://example.org/m{n} Quokka members brief {n} "
                                   "topics:disinformation")
    index = await h.app.store.resources.terms()
    assert resource_search.ranking_window(parse_query("quokka"), index) == 3
    outsider = await h.text("demo-outsider", "resource search quokka")
    assert outsider.count("Quokka public brief") == 3 and "members brief" not in outsider
    french = await h.text("demo-member", "resource search quokka lang:fr")
    assert french.count("Quokka public brief") == 3
    member = await h.text("demo-member", "resource search quokka")
    assert member.count("Quokka members brief") == 3 and "Quokka public brief" not in member


async def test_a_failed_commit_is_rolled_back_and_reloads_the_counts(tmp_path: Path) -> None:
    """A deferred foreign key fails at COMMIT: the write is undone, the connection stays usable, and the
    counts, which cannot know what happened, are loaded again."""
    async with Database.open(storage_target(tmp_path, "commit.db")) as db:
        resources = SqliteResources(db)
        await resources.terms()
        if db.dialect == "postgresql":  # a foreign key is checked at COMMIT only if declared deferrable
            await db.execute("ALTER TABLE resources ALTER CONSTRAINT resources_added_by_fkey DEFERRABLE")
        with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
            async with db.transaction():
                await db.execute("PRAGMA defer_foreign_keys = ON" if db.dialect == "sqlite"
                                 else "SET CONSTRAINTS ALL DEFERRED")
                await resources.add(_fields("a", "Zebrafinch notes"), 999, NOW)  # no person 999
        assert db.commits_in_doubt == 1
        assert await db.fetch_one("SELECT 1 FROM resources") is None
        assert not (await resources.terms()).has("zebrafinch", prefix=False)
        await resources.add(_fields("b", "Quokka notes"), None, NOW)  # the next transaction starts fine
        assert await resources.terms() == await _reloaded(db)
