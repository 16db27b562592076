"""CSV import: bad rows are reported with line and reason, good rows imported, a second run changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from app.cli import main
from bot.errors import UserError
from bot.i18n import Translator
from bot.resources.csv_import import Malformed, import_resources, read_rows
from bot.resources.fields import parse_url
from storage.database import Database
from tests.postgres_server import storage_settings, storage_target
from tests.support import FixedClock, Harness, console_settings, harness

FIXTURE = Path(__file__).parent / "data" / "resources.csv"


async def test_import_reports_bad_rows_and_is_idempotent(h: Harness) -> None:
    before = len(await h.app.db.fetch_all("SELECT id FROM resources"))
    rows = read_rows(FIXTURE.read_text(encoding="utf-8"))
    report = await import_resources(h.app.store, rows, h.clock.now(), default_language="en", source="test.csv")
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    text = report.render(Translator.load(), "en")
    assert "line 3: missing title." in text
    assert "line 4: “ftp://example.org/report.pdf” is not a web link" in text
    assert "line 5: unknown topic “climate”." in text
    assert "line 6: the same link as line 2." in text
    assert "line 8: “podcast-ish” is not a kind of resource" in text
    assert len(await h.app.db.fetch_all("SELECT id FROM resources")) == before + 3
    multiline = await h.text("demo-member", "resource search verificacion")
    assert "Guía de verificación" in multiline and "es" in multiline

    again = await import_resources(h.app.store, rows, h.clock.now(), default_language="en", source="test.csv")
    assert (again.added, again.updated, again.unchanged, len(again.rejected)) == (0, 0, 3, 5)
    assert len(await h.app.db.fetch_all("SELECT id FROM resources")) == before + 3

    changed = [(line, {**row, "summary": "New summary"}) for line, row in rows]
    third = await import_resources(h.app.store, changed, h.clock.now(), default_language="en", source="test.csv")
    assert third.updated == 3 and third.added == 0
    assert "New summary" in await h.text("demo-member", "resource search doppelganger case")
    french = report.render(Translator.load(), "fr")
    assert "ligne 3" in french


async def test_import_updates_a_demo_resource_by_normalised_link(h: Harness) -> None:
    rows = read_rows("url,title,kind,topics\nhttp://WWW.disinfo.eu/doppelganger?utm_campaign=x,Doppelganger,"
                     "report,disinformation\n")
    report = await import_resources(h.app.store, rows, h.clock.now(), default_language="en", source="x.csv")
    assert report.updated == 1 and report.added == 0


async def test_reimporting_without_topic_or_visibility_columns_never_widens_who_sees_a_resource(h: Harness) -> None:
    first = read_rows("url,title,topics,visibility\nhttps://example.org/secret,Secret playbook zebrafinch,"
                      "incident-response,members\n")
    await import_resources(h.app.store, first, h.clock.now(), default_language="en", source="a.csv")
    assert "No resources match" in await h.text("demo-member", "resource search zebrafinch")
    again = read_rows("url,title\nhttps://example.org/secret,Secret playbook zebrafinch (v2)\n")
    report = await import_resources(h.app.store, again, h.clock.now(), default_language="en", source="b.csv")
    assert report.updated == 1
    assert "No resources match" in await h.text("demo-member", "resource search zebrafinch")
    assert "(v2)" in await h.text("demo-admin", "resource search zebrafinch")


def test_header_must_name_url_and_title() -> None:
    with pytest.raises(UserError):
        read_rows("link_only\nhttps://example.org\n")
    with pytest.raises(UserError):
        read_rows("")


def test_cli_imports_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    async def create_demo() -> None:
        async with harness(console_settings(tmp_path)):
            pass

    asyncio.run(create_demo())
    use_test_storage(tmp_path, monkeypatch)
    config = tmp_path / "none.toml"
    assert main(["--config", str(config), "import-resources", str(FIXTURE)]) == 1
    out = capsys.readouterr().out
    assert "Imported: 3 new, 0 updated, 0 unchanged, 5 rejected." in out and "line 5: unknown topic" in out
    assert main(["--config", str(config), "import-resources", str(FIXTURE)]) == 1
    assert "Imported: 0 new, 0 updated, 3 unchanged, 5 rejected." in capsys.readouterr().out
    assert main(["--config", str(config), "import-resources", str(tmp_path / "missing.csv")]) == 2


def use_test_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Points the command line at this test's database (the demo's), on either engine."""
    for key, value in storage_settings(tmp_path).items():
        monkeypatch.setenv(f"BOT_STORAGE__{key.upper()}", str(value))


# --- Files that used to lose or move data silently ---------------------------------------------------------

KNOWN = "url,title,summary,kind,topics,tags,lang,visibility"


def refusal(data: str | bytes) -> str:
    """The English message with which :func:`read_rows` refuses ``data``."""
    with pytest.raises(UserError) as caught:
        read_rows(data)
    return Translator.load().render(caught.value.message, "en")


def test_an_unclosed_quote_refuses_the_file_instead_of_swallowing_later_rows() -> None:
    message = refusal('url,title\nhttps://example.org/q1,"Unclosed quote title\nhttps://example.org/q2,Second row\n')
    assert "line 2" in message and "never closed" in message and "Nothing was imported." in message
    later_quote = 'url,title,summary\nhttps://example.org/q1,"Unclosed\nhttps://example.org/q2,"Second",x\n'
    assert "line 2 has a quote (\") in the wrong place" in refusal(later_quote)
    text_after_quote = 'url,title\nhttps://example.org/ok,Fine\nhttps://example.org/q3,"Quoted" and more\n'
    assert "line 3 has a quote (\") in the wrong place" in refusal(text_after_quote)
    assert "separator (;)" in refusal('url;title\nhttps://example.org/q4;"Quoted" and more\n')
    assert read_rows('url,title\nhttps://example.org/q5,He said "hi"\n') == [
        (2, {"url": "https://example.org/q5", "title": 'He said "hi"'})]


async def test_a_row_with_more_cells_than_columns_is_rejected_not_shifted(h: Harness) -> None:
    rows = read_rows("url,title,summary\n"
                     "https://example.org/e1,Elections,Fine\n"
                     "https://example.org/e2,Elections, a guide,Summary text\n"
                     "https://example.org/e3,Short row without a summary\n"
                     "https://example.org/e4\n"
                     "https://example.org/e5,Trailing empty cells,Kept,,\n")
    report = await import_resources(h.app.store, rows, h.clock.now(), default_language="en", source="e.csv")
    assert (report.added, len(report.rejected)) == (3, 2)
    text = report.render(Translator.load(), "en")
    assert ("line 3: 4 cells where the first line names 3 columns; the extra cells would be lost. "
            "Put a cell that contains the separator (,) in double quotes.") in text
    assert "line 5: the row ends after 1 cell, before the required column “title” (the first line names 3" in text
    assert await h.app.store.resources.by_url_key(parse_url("https://example.org/e2")[1]) is None
    kept = await h.app.store.resources.by_url_key(parse_url("https://example.org/e5")[1])
    assert kept is not None and kept.fields.summary == "Kept"

    shorter = read_rows("url,title,summary\nhttps://example.org/e1,Elections (v2)\n")
    again = await import_resources(h.app.store, shorter, h.clock.now(), default_language="en", source="e.csv")
    assert again.updated == 1
    updated = await h.app.store.resources.by_url_key(parse_url("https://example.org/e1")[1])
    assert updated is not None and (updated.fields.title, updated.fields.summary) == ("Elections (v2)", "Fine")


async def test_a_value_under_a_column_without_a_name_is_rejected(h: Harness) -> None:
    rows = read_rows("url,title,,\nhttps://example.org/u1,Unnamed,stray,\nhttps://example.org/u2,Empty,,\n")
    report = await import_resources(h.app.store, rows, h.clock.now(), default_language="en", source="u.csv")
    assert report.added == 1
    assert ("line 2: cell 3 is under a column with no name in the first line; name the column or empty the cell."
            in report.render(Translator.load(), "en"))


def test_unknown_or_duplicate_column_names_refuse_the_file() -> None:
    message = refusal("url,title,description,topcs, Visiblity \nhttps://example.org/h1,Title,a,b,c\n")
    assert f"does not know: description, topcs, Visiblity. Known columns: {KNOWN}." in message
    assert "“title” more than once (title, title)" in refusal("url,title,title\nhttps://example.org/h2,A,B\n")
    assert "“url” more than once (URL, Link)" in refusal("URL,Link,title\nhttps://example.org/h3,x,A\n")
    assert read_rows(" URL , Title ,Language\nhttps://example.org/h4,Case,fr\n") == [
        (2, {"url": "https://example.org/h4", "title": "Case", "lang": "fr"})]


def test_a_cell_over_the_csv_field_limit_is_reported_with_its_line() -> None:
    huge = "url,title,summary\nhttps://example.org/a,A,ok\nhttps://example.org/b,B," + "x" * 200_000 + "\n"
    message = refusal(huge)
    assert "line 3 has a cell longer than 131072 characters" in message
    unclosed = 'url,title\nhttps://example.org/a,"Unclosed\n' + "https://example.org/n,Row\n" * 10_000
    assert "line 2 has a cell longer than 131072 characters, often because a quote" in refusal(unclosed)


async def test_semicolon_and_tab_separated_files_from_excel_are_read(h: Harness) -> None:
    excel = ("\ufeffURL;Title;Summary;Topics;Tags\r\n"
             "https://example.org/fr1;Guide électoral;\"Résumé; avec point-virgule, et virgule\";elections;\"a,b\"\r\n"
             "\r\n"
             "https://example.org/fr2;Deuxième;\"Deux\r\nlignes\";;\r\n").encode()
    rows = read_rows(excel)
    assert rows == [
        (2, {"url": "https://example.org/fr1", "title": "Guide électoral",
             "summary": "Résumé; avec point-virgule, et virgule", "topics": "elections", "tags": "a,b"}),
        (4, {"url": "https://example.org/fr2", "title": "Deuxième", "summary": "Deux\r\nlignes", "topics": "",
             "tags": ""})]
    report = await import_resources(h.app.store, rows, h.clock.now(), default_language="fr", source="fr.csv")
    assert (report.added, report.rejected) == (2, [])
    stored = await h.app.store.resources.by_url_key(parse_url("https://example.org/fr1")[1])
    assert stored is not None and stored.fields.tags == ("a", "b") and stored.fields.language == "fr"
    assert read_rows("url\ttitle\tsummary\nhttps://example.org/t1\tTab, separated\tSum; mary\n") == [
        (2, {"url": "https://example.org/t1", "title": "Tab, separated", "summary": "Sum; mary"})]
    [(_line, shifted)] = read_rows("url\ttitle\nhttps://example.org/t2\tA\textra\n")
    assert isinstance(shifted, Malformed) and "separator (tab)" in Translator.load().render(shifted.reason, "en")


def test_a_file_that_is_not_utf8_asks_for_utf8_with_the_line() -> None:
    message = refusal("url,title\nhttps://example.org/a,Ok\r\nhttps://example.org/b,Café\n".encode("latin-1"))
    assert message == ("The file is not saved as UTF-8: line 3 has a character in another encoding. Save it as "
                       "“CSV UTF-8” (in Excel: Save As, CSV UTF-8) and import it again. Nothing was imported.")
    assert read_rows("\ufeffurl,title\nhttps://example.org/c,Café\n".encode()) == [
        (2, {"url": "https://example.org/c", "title": "Café"})]


@pytest.fixture
def import_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[bytes], int]:
    """Runs ``python -m bot import-resources`` on the given file content against a demo database."""
    async def create_demo() -> None:
        async with harness(console_settings(tmp_path)):
            pass

    asyncio.run(create_demo())
    use_test_storage(tmp_path, monkeypatch)

    def run(content: bytes) -> int:
        (tmp_path / "in.csv").write_bytes(content)
        return main(["--config", str(tmp_path / "none.toml"), "import-resources", str(tmp_path / "in.csv")])

    return run


def resource_count(tmp_path: Path) -> int:
    async def count() -> int:
        async with Database.open(storage_target(tmp_path), migrate=False) as db:
            row = await db.fetch_one("SELECT count(*) FROM resources")
            assert row is not None
            return int(row[0])

    return asyncio.run(count())


@pytest.mark.parametrize(("content", "expected"), [
    (b'url,title\nhttps://example.org/q1,"Unclosed quote title\nhttps://example.org/q2,Second row\n',
     "line 2 opens a quote"),
    (b"url,title,summary\nhttps://example.org/big,Big," + b"x" * 140_000 + b"\n", "line 2 has a cell longer"),
    (b"url,title,description\nhttps://example.org/d,Title,Words\n", "does not know: description."),
    (b"url,title,title\nhttps://example.org/d,Title,Again\n", "“title” more than once"),
], ids=["unclosed-quote", "huge-cell", "unknown-column", "duplicate-column"])
def test_cli_refuses_an_unreadable_file_with_status_2_and_writes_nothing(
        import_cli: Callable[[bytes], int], tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes,
        expected: str) -> None:
    before = resource_count(tmp_path)
    assert import_cli(content) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and "Traceback" not in captured.err and captured.out == ""
    assert resource_count(tmp_path) == before


def test_cli_imports_a_semicolon_file_and_rejects_a_shifted_row_with_status_1(
        import_cli: Callable[[bytes], int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = resource_count(tmp_path)
    content = "\ufeffurl;title\r\nhttps://example.org/s1;Un\r\nhttps://example.org/s2;Deux;trois\r\n".encode()
    assert import_cli(content) == 1
    out = capsys.readouterr().out
    assert "Imported: 1 new, 0 updated, 0 unchanged, 1 rejected." in out
    assert "line 3: 3 cells where the first line names 2 columns" in out
    assert resource_count(tmp_path) == before + 1


def test_cli_asks_for_utf8_when_the_file_is_latin1(import_cli: Callable[[bytes], int],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert import_cli("url,title\nhttps://example.org/l,Café\n".encode("latin-1")) == 2
    assert "line 2 has a character in another encoding" in capsys.readouterr().err


def test_a_space_before_a_quoted_cell_is_allowed() -> None:
    assert read_rows('url, title, summary\nhttps://example.org/s, "Elections, a guide", "Short, sweet"\n') == [
        (2, {"url": "https://example.org/s", "title": "Elections, a guide", "summary": "Short, sweet"})]


async def test_a_large_file_is_written_in_batches_of_500_rows(tmp_path: Path) -> None:
    """One transaction per 500 rows: a bot on the same database never waits for the whole file."""
    from bot.resources.csv_import import BATCH
    from storage.store import SqliteStore

    class CountingStore(SqliteStore):
        opened = 0

        def transaction(self):  # type: ignore[no-untyped-def]
            CountingStore.opened += 1
            return super().transaction()

    lines = "".join(f"https://example.org/bulk/{n},Bulk report {n}\n" for n in range(2 * BATCH + 7))
    async with Database.open(storage_target(tmp_path, "bulk.db")) as db:
        store = CountingStore(db)
        report = await import_resources(store, read_rows("url,title\n" + lines), FixedClock().now(),
                                        default_language="en", source="bulk.csv")
        assert (report.added, CountingStore.opened) == (2 * BATCH + 7, 3)
        again = await import_resources(store, read_rows("url,title\n" + lines), FixedClock().now(),
                                       default_language="en", source="bulk.csv")
        assert (again.added, again.unchanged) == (0, 2 * BATCH + 7)


async def test_a_nul_character_in_a_cell_imports_alike_on_both_engines(h: Harness) -> None:
    """PostgreSQL's text cannot hold NUL (SQLite's can): a cell's NUL is shown as "�" on both, never a crash."""
    rows = read_rows("url,title,summary\nhttps://nul.example.org/a,Before\x00after,Sum\x00mary\n")
    report = await import_resources(h.app.store, rows, h.clock.now(), default_language="en", source="nul.csv")
    assert (report.added, len(report.rejected)) == (1, 0)
    found = await h.app.db.fetch_one("SELECT title, summary FROM resources WHERE url_key LIKE '%nul.example.org%'")
    assert found is not None and (found["title"], found["summary"]) == ("Before\ufffdafter", "Sum\ufffdmary")
