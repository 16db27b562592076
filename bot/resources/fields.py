"""Checking what people and CSV files say about a resource: one set of rules for commands and import.

Each function returns the clean value or raises :class:`UserError` with a translated reason. A language is
checked by :func:`bot.commands.values.parse_language`, as for every language argument.
"""

from __future__ import annotations

import re

from bot.commands.values import parse_language as parse_language  # a CSV cell: the rule of every argument
from bot.errors import UserError
from bot.i18n import Text, _, _n
from bot.resources.model import ResourceKind, ResourceVisibility, normalise_url

KINDS = tuple(k.value for k in ResourceKind)
VISIBILITIES = tuple(v.value for v in ResourceVisibility)
LIST_SPLIT = re.compile(r"[,;|]+")
MAX_TAGS = 20
MAX_TAG = 40
MAX_TITLE = 300
MAX_SUMMARY = 2000


def too_long(name: str, limit: int) -> Text:
    """A field over its limit: a count of characters, so plural-aware (Arabic has six forms)."""
    return _n("“{name}” is too long: at most {n} character.", "“{name}” is too long: at most {n} characters.",
              limit, name=name)


def parse_url(raw: str) -> tuple[str, str]:
    try:
        return normalise_url(raw)
    except ValueError:
        raise UserError(_("“{url}” is not a web link. Give a full address starting with http:// or https://.",
                          url=raw[:200])) from None


def parse_kind(raw: str) -> ResourceKind:
    try:
        return ResourceKind(raw.strip().lower())
    except ValueError:
        raise UserError(_("“{kind}” is not a kind of resource. Use one of: {kinds}.", kind=raw[:40],
                          kinds=", ".join(KINDS))) from None


def parse_visibility(raw: str) -> ResourceVisibility:
    try:
        return ResourceVisibility(raw.strip().lower())
    except ValueError:
        raise UserError(_("“{visibility}” is not a visibility. Use public or members.",
                          visibility=raw[:40])) from None


def parse_tags(raw: str) -> tuple[str, ...]:
    tags = tuple(dict.fromkeys(t.strip().lower() for t in LIST_SPLIT.split(raw) if t.strip()))
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        raise UserError(_("Use at most {tags} of at most {characters} each.",
                          tags=_n("{n} tag", "{n} tags", MAX_TAGS),
                          characters=_n("{n} character", "{n} characters", MAX_TAG)))
    return tags


def parse_title(raw: str) -> str:
    title = " ".join(raw.split())
    if not title:
        raise UserError(_("A resource needs a title."))
    if len(title) > MAX_TITLE:
        raise UserError(too_long("title", MAX_TITLE))
    return title


def parse_summary(raw: str) -> str:
    summary = raw.strip()
    if len(summary) > MAX_SUMMARY:
        raise UserError(too_long("summary", MAX_SUMMARY))
    return summary
