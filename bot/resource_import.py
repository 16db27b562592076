"""Bulk import of resources from CSV: every row checked with the same rules as ``resource add``.

Valid rows are written in one transaction; rejected rows are reported with their line number and reason.
Importing the same file again changes nothing: a row whose link (normalised) is already in the library
updates that resource instead of adding a second one.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.errors import UserError
from bot.i18n import Msg, Text, Translator, _, _n
from bot.ports import Store
from bot.resource_fields import (
    LIST_SPLIT,
    parse_kind,
    parse_language,
    parse_summary,
    parse_tags,
    parse_title,
    parse_url,
    parse_visibility,
)
from bot.resource_model import ResourceFields, ResourceKind, ResourceVisibility

COLUMNS = ("url", "title", "summary", "kind", "topics", "tags", "lang", "visibility")
ALIASES = {"language": "lang", "link": "url", "topic": "topics", "type": "kind"}
REQUIRED = ("url", "title")


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    reason: Msg


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def render(self, translator: Translator, language: str) -> str:
        lines = [translator.render(_("Imported: {added} new, {updated} updated, {unchanged} unchanged, "
                                     "{rejected} rejected.", added=self.added, updated=self.updated,
                                     unchanged=self.unchanged, rejected=len(self.rejected)), language)]
        if self.rejected:
            lines.append(translator.render(_n("{n} row was rejected:", "{n} rows were rejected:",
                                              len(self.rejected)), language))
            lines += [translator.render(_("line {line}: {reason}", line=r.line, reason=r.reason), language)
                      for r in self.rejected]
        return "\n".join(lines)


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` for every non-empty data row; raises :class:`UserError` for a bad header."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(_("The file is empty. The first line names the columns: {columns}.",
                          columns=",".join(COLUMNS))) from None
    names = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise UserError(_("The first line must name the columns; missing: {missing}. Known columns: {columns}.",
                          missing=", ".join(missing), columns=",".join(COLUMNS)))
    rows = []
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        rows.append((start, {name: cell for name, cell in zip(names, cells, strict=False) if name in COLUMNS}))
    return rows


async def import_resources(store: Store, rows: Iterable[tuple[int, dict[str, str]]], now: datetime, *,
                           default_language: str, source: str) -> ImportReport:
    report = ImportReport()
    slugs = {topic.slug: topic.id for topic in await store.topics.all(include_archived=True)}
    seen: dict[str, int] = {}
    async with store.transaction():
        for line, row in rows:
            try:
                fields = _fields(row, slugs, default_language)
            except UserError as error:
                report.rejected.append(Rejected(line, error.message))
                continue
            if fields.url_key in seen:
                report.rejected.append(Rejected(line, _("the same link as line {line}.", line=seen[fields.url_key])))
                continue
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
        if report.added or report.updated:
            summary = {"added": report.added, "updated": report.updated, "rejected": len(report.rejected)}
            await store.audit.record(None, "resource.import", source, None, json.dumps(summary), now)
    return report


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
