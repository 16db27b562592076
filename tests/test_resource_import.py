"""CSV import: bad rows are reported with line and reason, good rows imported, a second run changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.errors import UserError
from bot.i18n import Translator
from bot.resource_import import import_resources, read_rows
from tests.support import Harness, console_settings, harness

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
    monkeypatch.setenv("BOT_STORAGE__PATH", str(tmp_path / "bot.db"))
    config = tmp_path / "none.toml"
    assert main(["--config", str(config), "import-resources", str(FIXTURE)]) == 1
    out = capsys.readouterr().out
    assert "Imported: 3 new, 0 updated, 0 unchanged, 5 rejected." in out and "line 5: unknown topic" in out
    assert main(["--config", str(config), "import-resources", str(FIXTURE)]) == 1
    assert "Imported: 0 new, 0 updated, 3 unchanged, 5 rejected." in capsys.readouterr().out
    assert main(["--config", str(config), "import-resources", str(tmp_path / "missing.csv")]) == 2
