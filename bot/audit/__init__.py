"""The audit log every feature writes to: what an entry records, which actions there are, and the store.

Every feature appends to the one log, so it belongs to none of them; its values live here rather than in
:mod:`bot.model` (who someone is) or :mod:`bot.ports` (the platform ports). ``storage/audit.py`` implements
:class:`AuditStore`. Reading it back for admins (the ``audit`` command) is in :mod:`bot.audit.commands`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class AuditAction(StrEnum):
    """What an audit entry records. The values are the strings stored in ``audit_log.action`` since the first
    version, so they must never change: a renamed member keeps its old value."""

    ANNOUNCE_CANCEL = "announce.cancel"
    ANNOUNCE_DRAFT = "announce.draft"
    ANNOUNCE_EDIT = "announce.edit"
    ANNOUNCE_RETRY = "announce.retry"
    ANNOUNCE_SCHEDULE = "announce.schedule"
    ANNOUNCE_SEND = "announce.send"
    MEETING_CANCEL = "meeting.cancel"
    MEETING_CANCEL_OCCURRENCE = "meeting.cancel-occurrence"
    MEETING_CREATE = "meeting.create"
    MEETING_MOVE_OCCURRENCE = "meeting.move-occurrence"
    MEETING_RESCHEDULE = "meeting.reschedule"
    PERSON_ERASE = "person.erase"
    """A person erased themselves (``forget me``): the entry says that it happened, never who."""
    PERSON_LINK = "person.link"
    PERSON_UNLINK = "person.unlink"
    REQUEST_APPROVE = "request.approve"
    REQUEST_DENY = "request.deny"
    RESOURCE_ADD = "resource.add"
    RESOURCE_EDIT = "resource.edit"
    RESOURCE_IMPORT = "resource.import"
    RESOURCE_REMOVE = "resource.remove"
    ROLE_GRANT = "role.grant"
    ROLE_REVOKE = "role.revoke"
    SETUP_PUBLIC_CHANNEL = "setup.public-channel"
    SETUP_TOPIC_CHANNEL = "setup.topic-channel"
    TOPIC_ARCHIVE = "topic.archive"
    TOPIC_CREATE = "topic.create"
    TOPIC_EDIT = "topic.edit"
    TOPIC_INVITE = "topic.invite"
    TOPIC_UNARCHIVE = "topic.unarchive"


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries an admin asks for. ``person_id``: entries they made or that are about them, whatever the
    subject says (a grant to them, an invitation, a request of theirs decided, a resource they added: see
    :mod:`bot.audit.about`); ``topic_id`` with its current ``topic_slug``: the topic's own changes and those of
    its announcements, meetings, requests and resources; ``since``: entries at or after that instant. Empty:
    every entry."""

    person_id: int | None = None
    topic_id: int | None = None
    topic_slug: str = ""
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the log. ``action`` is a plain ``str`` only for a row whose action this version does not know
    (written by a newer version, or by hand): reading the log must never fail on history."""

    id: int
    actor_id: int | None
    action: AuditAction | str
    subject: str
    before: str | None
    after: str | None
    at: datetime
    actor_name: str | None = None
    """The actor's display name when the entry was read for a listing (``None``: the bot, or not read)."""


def parse_action(stored: str) -> AuditAction | str:
    """The :class:`AuditAction` named by a stored value, or the value itself when no member has it; raises
    nothing."""
    try:
        return AuditAction(stored)
    except ValueError:
        return stored


class AuditStore(Protocol):
    """The audit log: who changed what, with the value before and after. Append only."""

    async def record(self, actor_id: int | None, action: AuditAction, subject: str, before: str | None,
                     after: str | None, now: datetime) -> None:
        """Append one entry (``actor_id`` ``None``: the bot itself); returns nothing. Raises nothing of its own."""
        ...

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """Returns the newest ``limit`` entries, newest first (an unknown stored action as a plain ``str``, see
        :class:`AuditEntry`). Raises nothing of its own."""
        ...

    async def listing(self, only: AuditFilter, offset: int, limit: int) -> list[AuditEntry]:
        """Returns the entries matching ``only``, newest first, skipping ``offset`` and at most ``limit``, each
        with its actor's display name. Every filter is served by an index (the cost follows the page, not the
        log). Raises nothing of its own."""
        ...
