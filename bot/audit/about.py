"""Whom an audit entry is about, read from its subject and its before/after values.

Why: ``audit <person>``, ``mydata`` and erasure need every entry about a person, and the features write their
entries in their own shapes — ``person:<id>`` for a role, the topic's slug with ``{"person": id}`` after it for an
invitation, ``request:<id>`` for an approval (about whoever asked), a resource's JSON with ``added_by``. This is
the one reading of those shapes; the store records its answer with each entry, so the readers are an index
lookup (migration 0021 reads the older entries the same way). A new kind of entry about a person needs nothing
here when it says ``person:<id>`` or carries ``{"person": id}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PERSON_SUBJECT = "person:"
REQUEST_SUBJECT = "request:"
PERSON_KEYS = ("person", "added_by")
"""The keys of a JSON object before or after that hold a person's id, in the order they are looked for."""


@dataclass(frozen=True, slots=True)
class About:
    """The person an entry is about (``person_id``), or the request whose requester it is about
    (``request_id``, resolved by the store); both ``None``: about nobody in particular (a topic, a channel)."""

    person_id: int | None = None
    request_id: int | None = None


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _person_in(value: str | None) -> int | None:
    if not value:
        return None
    try:
        document: Any = json.loads(value)
    except ValueError:
        return None  # a plain value ("cancelled", a role's name): names nobody
    if not isinstance(document, dict):
        return None
    for key in PERSON_KEYS:
        found = document.get(key)
        if isinstance(found, int) and not isinstance(found, bool):
            return found
    return None


def about(subject: str, before: str | None, after: str | None) -> About:
    """Whom the entry is about: a ``person:<id>`` subject, else a ``request:<id>`` subject's requester, else the
    first person id in ``after`` then ``before`` (see :data:`PERSON_KEYS`). Raises nothing."""
    if subject.startswith(PERSON_SUBJECT):
        number = _number(subject[len(PERSON_SUBJECT):])
        if number is not None:
            return About(person_id=number)
    if subject.startswith(REQUEST_SUBJECT):
        number = _number(subject[len(REQUEST_SUBJECT):])
        if number is not None:
            return About(request_id=number)
    for value in (after, before):
        found = _person_in(value)
        if found is not None:
            return About(person_id=found)
    return About()


def with_person_replaced(value: str | None, person_id: int, replacement: int | None) -> str | None:
    """An audit value (``before`` / ``after``) with ``person_id`` in its person keys (:data:`PERSON_KEYS`)
    replaced by ``replacement``: the survivor's id when two people are linked, ``None`` when one is erased. Any
    other value, or one that names nobody, comes back as it is (not re-serialised), so untouched entries stay
    byte for byte what was written."""
    if not value:
        return value
    try:
        document: Any = json.loads(value)
    except ValueError:
        return value
    if not isinstance(document, dict):
        return value
    changed = {key: replacement if key in PERSON_KEYS and item == person_id and not isinstance(item, bool) else item
               for key, item in document.items()}
    return value if changed == document else json.dumps(changed, ensure_ascii=False, sort_keys=True)
