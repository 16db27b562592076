"""Resource search benchmark: the library's real search path beside a bare FTS5 MATCH, on the same data.

    .venv/bin/python bench/search.py            # 100,000 resources
    .venv/bin/python bench/search.py --n 20000  # a quicker run

Generates resources whose words follow a Zipf-like distribution (a few very common words, a long tail),
loads them through the real schema (triggers fill the FTS5 index), then times each query type through
``SqliteResources`` exactly as ``resource search`` runs it — visibility scope and filters in SQL, bm25
ranking, and for typos the "did you mean" correction and second query. Prints a table and writes
``bench/results/search.json``. Not part of the test suite: timings are not tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sqlite3
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.resources.model import ResourceFilter, ResourceKind, ResourceScope, fold  # noqa: E402
from bot.resources.query import match_expression, parse_query  # noqa: E402
from bot.resources.search import run_search  # noqa: E402
from storage.database import Database, to_db_time  # noqa: E402
from storage.resources import SqliteResources  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "search.json"
VOCABULARY = 30_000
TOPICS = ("disinformation", "elections", "cybersecurity", "research", "whrd-safety", "incident-response")
LANGUAGES = ("en", "en", "en", "fr", "es")
PAGE = 5


def make_vocabulary(rng: random.Random) -> list[str]:
    syllables = [a + b for a in "bcdfghjklmnprstvz" for b in "aeiou"] + ["ø", "æ", "é", "ß"]
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(syllables) for _ in range(rng.choice((2, 3, 3, 4, 4, 5)))))
    # Sorted first: a set's order changes with hash randomisation, and the run must be the same every time.
    return sorted(sorted(words), key=lambda _w: rng.random())


def zipf_weights(n: int, s: float = 1.07) -> list[float]:
    return [1.0 / (rank ** s) for rank in range(1, n + 1)]


async def build(db: Database, n: int, rng: random.Random, vocab: list[str]) -> tuple[float, float]:
    weights = zipf_weights(len(vocab))
    cumulative = list(__import__("itertools").accumulate(weights))

    def text(count: int) -> str:
        return " ".join(rng.choices(vocab, cum_weights=cumulative, k=count))

    await db.execute_many(
        "INSERT INTO topics (id, slug, title, visibility, policy, created_at) VALUES (?, ?, ?, ?, 'open', ?)",
        [(i + 1, slug, slug, "public" if i < 2 else "members", "2026-01-01T00:00:00.000000Z")
         for i, slug in enumerate(TOPICS)])
    rows, links = [], []
    for i in range(1, n + 1):
        title, tags, summary = text(rng.randint(5, 10)), text(3), text(rng.randint(20, 40))
        rows.append((i, f"https://example.org/r/{i}", f"example.org/r/{i}", title, summary,
                     rng.choice(list(ResourceKind)).value, tags.replace(" ", ","), rng.choice(LANGUAGES),
                     "public" if rng.random() < 0.7 else "members", to_db_time(_now()), to_db_time(_now()),
                     fold(title), fold(tags), fold(summary)))
        for topic in rng.sample(range(1, len(TOPICS) + 1), rng.choice((1, 1, 2))):
            links.append((i, topic))
    started = time.perf_counter()
    await db.execute_many(
        "INSERT INTO resources (id, url, url_key, title, summary, kind, tags, language, visibility, created_at,"
        " updated_at, search_title, search_tags, search_summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows)
    await db.execute_many("INSERT INTO resource_topics (resource_id, topic_id) VALUES (?, ?)", links)
    load = time.perf_counter() - started
    started = time.perf_counter()
    await db.execute("INSERT INTO resources_fts (resources_fts) VALUES ('rebuild')")
    rebuild = time.perf_counter() - started
    await db.execute("INSERT INTO resources_fts (resources_fts) VALUES ('optimize')")
    return load, rebuild


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 1, 1, tzinfo=UTC)


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:] if rng.random() < 0.5 else \
        word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1:]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of resources (default 100000)")
    parser.add_argument("--queries", type=int, default=200, help="queries per type (default 200)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    vocab = make_vocabulary(rng)
    with tempfile.TemporaryDirectory() as directory:
        async with Database.open(Path(directory) / "bench.db") as db:
            print(f"generating and loading {args.n:,} resources …")
            load, rebuild = await build(db, args.n, rng, vocab)
            store = SqliteResources(db)
            member = ResourceScope(include_members=True, topic_ids=frozenset(range(1, 6)))
            outsider = ResourceScope(include_members=False, topic_ids=frozenset({1, 2}))
            nothing = ResourceFilter()
            folded = [fold(w) for w in vocab]
            started = time.perf_counter()
            index = await store.terms()
            vocabulary_load = time.perf_counter() - started

            async def service(query: str, scope: ResourceScope, filters: ResourceFilter) -> int:
                """What ``resource search`` does for page 1 (bot.resources.run_search)."""
                result = await run_search(store, parse_query(query), scope, filters, 1)
                return len(result.page.items)

            async def bare(query: str) -> int:
                rows = await db.fetch_all("SELECT rowid FROM resources_fts WHERE resources_fts MATCH ?"
                                          " ORDER BY rank LIMIT 6", (match_expression(parse_query(query)),))
                return len(rows)

            # Drawn with the run's own generator (not SQL random()), so every run asks the same questions.
            sources = rng.sample(range(1, args.n + 1), min(args.n, args.queries))
            rows = await db.fetch_all(f"SELECT search_title FROM resources WHERE id IN ({','.join('?' * len(sources))})"
                                      " ORDER BY id", sources)
            # Phrases as people type them ("election observation"): two adjacent title words, not both among
            # the 50 most common words (a phrase of stop words is not a search anyone makes).
            common = set(folded[:50])
            pairs = [r[0].split() for r in rows]
            phrases = [" ".join(p[i:i + 2]) for p in pairs for i in range(len(p) - 1)
                       if not {p[i], p[i + 1]} <= common][:args.queries]
            queries: dict[str, tuple[list[str], ResourceScope, ResourceFilter]] = {
                "selective word": ([folded[rng.randrange(3000, 12000)] for _ in range(args.queries)], member,
                                   nothing),
                "common word": ([folded[rng.randrange(0, 3)] for _ in range(args.queries)], member, nothing),
                "phrase": ([f"“{p}”" for p in phrases], member, nothing),
                "typo": ([typo(folded[rng.randrange(200, 3000)], rng) for _ in range(args.queries)], member,
                         nothing),
                "filtered": ([folded[rng.randrange(20, 400)] for _ in range(args.queries)], outsider,
                             ResourceFilter(topic_id=1, language="fr")),
            }
            report: dict[str, object] = {
                "resources": args.n, "queries_per_type": args.queries, "load_seconds": round(load, 2),
                "fts_rebuild_seconds": round(rebuild, 2), "vocabulary_terms": len(index),
                "vocabulary_load_ms": round(vocabulary_load * 1000, 1), "sqlite": sqlite3.sqlite_version,
                "python": platform.python_version(), "machine": platform.machine(), "types": {},
            }
            print(f"load with triggers: {load:.2f} s · FTS rebuild: {rebuild:.2f} s · "
                  f"term counts: {report['vocabulary_terms']:,} words loaded in {vocabulary_load * 1000:.0f} ms")
            # "p99 ratio": our p99 over the bare MATCH's p99 in this run — how much the full search path (scope,
            # filters, correction, window) costs relative to FTS5 alone on the same machine and data. "hits":
            # the share of queries with a result the reader may see (a phrase's source resource may be in the
            # one topic the benchmark's member cannot see).
            print(f"{'query type':<16}{'search p50':>12}{'p99':>9}{'bare p50':>11}{'p99':>9}{'p99 ratio':>11}  hits")
            for name, (texts, scope, filters) in queries.items():
                ours = await _time(lambda q, s=scope, f=filters: service(q, s, f), texts)
                baseline = await _time(bare, texts)
                hits = sum(1 for count in ours[1] if count) / len(texts)
                report["types"][name] = {  # type: ignore[index]
                    "search_p50_ms": ours[0][0], "search_p99_ms": ours[0][1],
                    "bare_fts_p50_ms": baseline[0][0], "bare_fts_p99_ms": baseline[0][1],
                    "p99_ratio": round(ours[0][1] / baseline[0][1], 2), "share_with_results": round(hits, 2)}
                print(f"{name:<16}{ours[0][0]:>10.2f}ms{ours[0][1]:>7.2f}ms{baseline[0][0]:>9.2f}ms"
                      f"{baseline[0][1]:>7.2f}ms{ours[0][1] / baseline[0][1]:>11.2f}  {hits:.0%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


async def _time(run: Callable[[str], Awaitable[int]], texts: list[str]
                ) -> tuple[tuple[float, float], list[int]]:
    for text in texts:  # warm the page cache, so neither side pays for cold pages
        await run(text)
    samples, counts = [], []
    for text in texts:
        started = time.perf_counter()
        counts.append(await run(text))
        samples.append((time.perf_counter() - started) * 1000)
    return (round(statistics.median(samples), 2), round(percentile(samples, 0.99), 2)), counts


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
