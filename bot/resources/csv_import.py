"""Bulk import of resources from CSV: every row checked with the same rules as ``resource add``.

Valid rows are written in one transaction; rejected rows are reported with their line number and reason.
Importing the same file again changes nothing: a row whose link (normalised) is already in the library
updates that resource instead of adding a second one.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from bot.audit import AuditAction
from bot.errors import UserError
from bot.i18n import Msg, Text, Translator, _, _n
from bot.ports import Store
from bot.resources.fields import (
    LIST_SPLIT,
    parse_kind,
    parse_language,
    parse_summary,
    parse_tags,
    parse_title,
    parse_url,
    parse_visibility,
)
from bot.resources.model import ResourceFields, ResourceKind, ResourceVisibility

COLUMNS = ("url", "title", "summary", "kind", "topics", "tags", "lang", "visibility")
ALIASES = {"language": "lang", "link": "url", "topic": "topics", "type": "kind"}
REQUIRED = ("url", "title")
SEPARATORS = (",", ";", "\t")


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    reason: Msg


@dataclass(frozen=True, slots=True)
class Malformed:
    """A data row whose cells do not line up with the first line; :func:`import_resources` rejects it."""

    reason: Text


Row = tuple[int, dict[str, str] | Malformed]
"""The line where a data row starts, and its cells by column name or why they could not be matched."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def render(self, translator: Translator, language: str) -> str:
        # One count per plural-aware piece: a sentence with four counts cannot agree with all of them.
        lines = [translator.render(_("Imported: {new_part}, {updated_part}, {unchanged_part}, {rejected_part}.",
                                     new_part=_n("{n} new", "{n} new", self.added),
                                     updated_part=_n("{n} updated", "{n} updated", self.updated),
                                     unchanged_part=_n("{n} unchanged", "{n} unchanged", self.unchanged),
                                     rejected_part=_n("{n} rejected", "{n} rejected", len(self.rejected))),
                                   language)]
        if self.rejected:
            lines.append(translator.render(_n("{n} row was rejected:", "{n} rows were rejected:",
                                              len(self.rejected)), language))
            lines += [translator.render(_("line {line}: {reason}", line=r.line, reason=r.reason), language)
                      for r in self.rejected]
        return "\n".join(lines)


def read_rows(data: str | bytes) -> list[Row]:
    """``(line where the row starts, row)`` for every non-empty data row of a CSV file.

    ``data`` is the file's bytes (which must be UTF-8) or its decoded text. A UTF-8 byte-order mark and CRLF
    line ends are accepted. The separator is the one the first line uses most of ``,``, ``;`` and tab (Excel
    writes ``;`` or tabs in some locales). Column names are matched ignoring case and surrounding spaces.

    Raises :class:`UserError`, refusing the whole file, when it is not UTF-8; when it cannot be parsed as CSV
    (a quote never closed or in the wrong place, a cell over the csv module's field size limit): the rows
    after the fault would be unreliable; or when its first line names an unknown column, names a column
    twice, or lacks ``url`` or ``title``. The field size limit (131,072 characters by default) is left as
    it is: no valid cell comes near it, the longest allowed is a 2,000-character summary.

    A row whose cells do not line up with the first line comes back as :class:`Malformed`, to be reported
    with the other rejected rows: a non-empty cell beyond the named columns (usually a separator inside an
    unquoted cell, which shifts every later cell), a non-empty cell under a column whose name is empty, or
    a row that ends before a required column. A row may end before optional columns: their cells count as
    empty, so an update keeps the stored values. Empty cells beyond the named columns are ignored
    (spreadsheets write them).
    """
    text = _decode(data) if isinstance(data, bytes) else data
    text = text.removeprefix("\ufeff")
    separator = _separator(text)
    records = _records(text, separator)
    try:
        _line, header = next(records)
    except StopIteration:
        raise UserError(_("The file is empty. The first line names the columns: {columns}.",
                          columns=",".join(COLUMNS))) from None
    names = _column_names(header)
    return [(start, _row(cells, names, separator)) for start, cells in records if any(c.strip() for c in cells)]


def _decode(data: bytes) -> str:
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = len((data[:error.start] + b"x").splitlines())
        raise UserError(_("The file is not saved as UTF-8: line {line} has a character in another encoding. "
                          "Save it as “CSV UTF-8” (in Excel: Save As, CSV UTF-8) and import it again. "
                          "Nothing was imported.", line=line)) from None


def _separator(text: str) -> str:
    """The separator the first line uses most; a comma when it uses none, or on a tie."""
    first = re.split(r"[\r\n]", text, maxsplit=1)[0]
    return max(SEPARATORS, key=first.count) if any(s in first for s in SEPARATORS) else ","


def _records(text: str, separator: str) -> Iterator[tuple[int, list[str]]]:
    """``(line where the record starts, cells)``; a :class:`csv.Error` becomes a :class:`UserError`."""
    # skipinitialspace: `a, "b, c"` is a quoted cell after the separator's space, as people type it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True, skipinitialspace=True)
    line = 0
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise UserError(_csv_problem(str(error), start, separator)) from None
        line = reader.line_num
        # A NUL means nothing in a cell and PostgreSQL's text cannot hold one: it shows as "�", as in a name.
        yield start, [cell.replace("\x00", "\ufffd") for cell in cells]


def _csv_problem(detail: str, line: int, separator: str) -> Text:
    if detail.startswith("field larger than field limit"):
        return _n("The row that starts on line {line} has a cell longer than {n} character, often because a "
                  "quote (\") is never closed. Nothing was imported.",
                  "The row that starts on line {line} has a cell longer than {n} characters, often because a "
                  "quote (\") is never closed. Nothing was imported.", csv.field_size_limit(), line=line)
    if detail == "unexpected end of data":
        return _("The row that starts on line {line} opens a quote (\") that is never closed, so every later line "
                 "would be read into one cell. Close the quote, or write a quote inside a cell as two quotes "
                 "(\"\"). Nothing was imported.", line=line)
    if "expected after" in detail:
        return _("The row that starts on line {line} has a quote (\") in the wrong place: a quoted cell must end "
                 "with a quote followed by the separator ({separator}) or the end of the line, and a quote inside "
                 "a cell is written as two quotes (\"\"). Nothing was imported.", line=line,
                 separator=_separator_name(separator))
    return _("The row that starts on line {line} cannot be read as CSV ({detail}). Nothing was imported.",
             line=line, detail=detail)


def _separator_name(separator: str) -> Msg:
    return _("tab") if separator == "\t" else separator


def _column_names(header: list[str]) -> list[str | None]:
    """The column of each cell of the first line, ``None`` for a cell left empty; raises :class:`UserError`
    for a name that is unknown or given twice, and when ``url`` or ``title`` is missing."""
    spelled = [cell.strip() for cell in header]
    names = [ALIASES.get(cell.lower(), cell.lower()) if cell else None for cell in spelled]
    unknown = [cell for cell, name in zip(spelled, names, strict=True) if name is not None and name not in COLUMNS]
    if unknown:
        raise UserError(_("The first line names columns this import does not know: {unknown}. "
                          "Known columns: {columns}.", unknown=", ".join(unknown), columns=",".join(COLUMNS)))
    for column in COLUMNS:
        same = [cell for cell, name in zip(spelled, names, strict=True) if name == column]
        if len(same) > 1:
            raise UserError(_("The first line names the column “{column}” more than once ({names}).",
                              column=column, names=", ".join(same)))
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise UserError(_("The first line must name the columns; missing: {missing}. Known columns: {columns}.",
                          missing=", ".join(missing), columns=",".join(COLUMNS)))
    return names


def _row(cells: list[str], names: list[str | None], separator: str) -> dict[str, str] | Malformed:
    filled = max((i + 1 for i, cell in enumerate(cells) if cell.strip()), default=0)
    if filled > len(names):
        return Malformed(_n("{n} cell where the first line names {columns} columns; the extra cells would be "
                            "lost. Put a cell that contains the separator ({separator}) in double quotes.",
                            "{n} cells where the first line names {columns} columns; the extra cells would be "
                            "lost. Put a cell that contains the separator ({separator}) in double quotes.",
                            filled, columns=len(names), separator=_separator_name(separator)))
    unnamed = [i + 1 for i, (name, cell) in enumerate(zip(names, cells, strict=False)) if name is None and cell.strip()]
    if unnamed:
        return Malformed(_("cell {position} is under a column with no name in the first line; name the column "
                           "or empty the cell.", position=unnamed[0]))
    absent = [name for name in names[len(cells):] if name in REQUIRED]
    if absent:
        return Malformed(_n("the row ends after {n} cell, before the required column “{column}” (the first line "
                            "names {columns} columns).",
                            "the row ends after {n} cells, before the required column “{column}” (the first line "
                            "names {columns} columns).", len(cells), column=absent[0], columns=len(names)))
    return {name: cell for name, cell in zip(names, cells, strict=False) if name is not None}


BATCH = 500
"""Rows written per transaction: a running bot shares the database, and waits at most seconds for a lock."""


async def import_resources(store: Store, rows: Iterable[Row], now: datetime, *,
                           default_language: str, source: str) -> ImportReport:
    """Check and write every row, :data:`BATCH` rows a transaction.

    Why batches: the bot may be running on the same database, and one transaction for a large file would
    hold the write lock for a minute, longer than the bot waits for it. An interrupted import leaves the
    batches before the interruption written; running it again finishes the job, since a link already in the
    library is updated, never added twice.
    """
    report = ImportReport()
    slugs = {topic.slug: topic.id for topic in await store.topics.all(include_archived=True)}
    seen: dict[str, int] = {}
    pending = list(rows)
    for start in range(0, len(pending), BATCH):
        async with store.transaction():
            for line, row in pending[start:start + BATCH]:
                await _import_row(store, line, row, slugs, seen, report, now, default_language)
    if report.added or report.updated:
        summary = {"added": report.added, "updated": report.updated, "rejected": len(report.rejected)}
        await store.audit.record(None, AuditAction.RESOURCE_IMPORT, source, None, json.dumps(summary), now)
    return report


async def _import_row(store: Store, line: int, row: dict[str, str] | Malformed, slugs: dict[str, int],
                      seen: dict[str, int], report: ImportReport, now: datetime, default_language: str) -> None:
    if isinstance(row, Malformed):
        report.rejected.append(Rejected(line, row.reason))
        return
    try:
        fields = _fields(row, slugs, default_language)
    except UserError as error:
        report.rejected.append(Rejected(line, error.message))
        return
    if fields.url_key in seen:
        report.rejected.append(Rejected(line, _("the same link as line {line}.", line=seen[fields.url_key])))
        return
    seen[fields.url_key] = line
    existing = await store.resources.by_url_key(fields.url_key)
    if existing is not None:
        fields = _keep_unstated(fields, existing.fields, row)
    if existing is None:
        await store.resources.add(fields, None, now)
        report.added += 1
    elif existing.fields == fields:
        report.unchanged += 1
    else:
        await store.resources.update(existing.id, fields, now)
        report.updated += 1


_OPTIONAL = {"summary": "summary", "kind": "kind", "topics": "topic_ids", "tags": "tags", "lang": "language",
             "visibility": "visibility"}


def _keep_unstated(new: ResourceFields, old: ResourceFields, row: dict[str, str]) -> ResourceFields:
    """On update, a column the file lacks (or leaves empty) keeps the stored value: re-importing a list
    without a topics or visibility column must never move a resource out of its topic or widen who sees it."""
    kept = {attribute: getattr(old, attribute) for column, attribute in _OPTIONAL.items()
            if not (row.get(column) or "").strip()}
    return dataclasses.replace(new, **kept) if kept else new


def _fields(row: dict[str, str], slugs: dict[str, int], default_language: str) -> ResourceFields:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    if not cell("title"):
        raise UserError(_("missing title."))
    if not cell("url"):
        raise UserError(_("missing link (url)."))
    url, key = parse_url(cell("url"))
    topic_ids = []
    for slug in (s.strip().lstrip("#").lower() for s in LIST_SPLIT.split(cell("topics"))):
        if not slug:
            continue
        if slug not in slugs:
            raise UserError(_unknown_topic(slug))
        topic_ids.append(slugs[slug])
    return ResourceFields(
        url=url, url_key=key, title=parse_title(cell("title")), summary=parse_summary(cell("summary")),
        kind=parse_kind(cell("kind")) if cell("kind") else ResourceKind.REPORT,
        topic_ids=tuple(sorted(set(topic_ids))), tags=parse_tags(cell("tags")),
        language=parse_language(cell("lang") or default_language),
        visibility=parse_visibility(cell("visibility")) if cell("visibility") else ResourceVisibility.MEMBERS)


def _unknown_topic(slug: str) -> Text:
    return _("unknown topic “{topic}”.", topic=slug)
