"""How the audit listing says an action and a subject: translated words, never the stored values
(``role.grant`` reads "gave a role", ``announcement:12`` reads "announcement #12")."""

from __future__ import annotations

from bot.audit import AuditAction
from bot.delivery.status import platform_name
from bot.i18n import Text, _, listing

ACTION_WORDS: dict[AuditAction, Text] = {
    AuditAction.ANNOUNCE_CANCEL: _("cancelled an announcement"),
    AuditAction.ANNOUNCE_DRAFT: _("drafted an announcement"),
    AuditAction.ANNOUNCE_EDIT: _("edited an announcement"),
    AuditAction.ANNOUNCE_RETRY: _("retried an announcement's failed copies"),
    AuditAction.ANNOUNCE_SCHEDULE: _("scheduled an announcement"),
    AuditAction.ANNOUNCE_SEND: _("confirmed an announcement"),
    AuditAction.MEETING_CANCEL: _("cancelled a meeting"),
    AuditAction.MEETING_CANCEL_OCCURRENCE: _("cancelled one meeting date"),
    AuditAction.MEETING_CREATE: _("created a meeting"),
    AuditAction.MEETING_MOVE_OCCURRENCE: _("moved one meeting date"),
    AuditAction.MEETING_RESCHEDULE: _("rescheduled a meeting"),
    AuditAction.PERSON_ERASE: _("erased someone's data at their request"),
    AuditAction.PERSON_LINK: _("linked accounts into one person"),
    AuditAction.PERSON_UNLINK: _("unlinked an account"),
    AuditAction.REQUEST_APPROVE: _("approved a request to join"),
    AuditAction.REQUEST_DENY: _("declined a request to join"),
    AuditAction.RESOURCE_ADD: _("added a resource"),
    AuditAction.RESOURCE_EDIT: _("edited a resource"),
    AuditAction.RESOURCE_IMPORT: _("imported resources"),
    AuditAction.RESOURCE_REMOVE: _("removed a resource"),
    AuditAction.ROLE_GRANT: _("gave a role"),
    AuditAction.ROLE_REVOKE: _("took back a role"),
    AuditAction.SETUP_PUBLIC_CHANNEL: _("set the public channel"),
    AuditAction.SETUP_TOPIC_CHANNEL: _("set a topic's channel"),
    AuditAction.TOPIC_ARCHIVE: _("archived a topic"),
    AuditAction.TOPIC_CREATE: _("created a topic"),
    AuditAction.TOPIC_EDIT: _("changed a topic"),
    AuditAction.TOPIC_INVITE: _("invited someone to a topic"),
    AuditAction.TOPIC_UNARCHIVE: _("brought back a topic"),
}
"""Every action has its words (a test checks): a new :class:`AuditAction` member must add its own here."""

_PLATFORM_CHANGES = frozenset({AuditAction.PERSON_LINK, AuditAction.PERSON_UNLINK})
"""The actions whose before and after are a person's platforms joined by ``+`` (``console+slack``), as
:mod:`bot.linking.service` records them: platform names only, so an erasure leaves nothing naming anybody."""


def _platforms(stored: str) -> Text:
    return listing([platform_name(platform) for platform in stored.split("+") if platform])


def change_words(action: AuditAction | str, before: str | None, after: str | None) -> Text | None:
    """What changed, in words, for an entry whose before and after a reader needs and can read (which platforms
    a person's accounts were on, then are on, for a link or an unlink); ``None`` for every other entry, whose
    values are stored for the record and the export, not shown as they are stored."""
    if action not in _PLATFORM_CHANGES or not before or not after:
        return None
    return _("from {before} to {after}", before=_platforms(before), after=_platforms(after))


def action_words(action: AuditAction | str) -> Text | str:
    """The action in words; an action this version does not know (a newer version's) as stored."""
    return ACTION_WORDS[action] if isinstance(action, AuditAction) else action


def numbered_subject(subject: str) -> Text | None:
    """``announcement:12`` and the like in words, ``None`` for any other subject (a person is named by the
    caller, a topic by its slug)."""
    kind, _sep, raw = subject.partition(":")
    if not (raw.isascii() and raw.isdigit()):
        return None
    number = int(raw)
    words = {"announcement": lambda: _("announcement #{id}", id=number),
             "meeting": lambda: _("meeting #{id}", id=number),
             "request": lambda: _("request #{id}", id=number),
             "resource": lambda: _("resource #{id}", id=number)}.get(kind)
    return words() if words is not None else None
