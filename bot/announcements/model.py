"""An announcement and the states it moves through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AnnouncementState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Announcement:
    id: int
    topic_id: int
    author_id: int
    text: str
    state: AnnouncementState
    send_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    edited_at: datetime | None
    revision: int
    public_id: str
    """16 random hex digits naming it on the public web (URLs, feed ids): a row number there would tell a
    stranger how many members-only announcements exist."""
