"""What an anonymous reader of the public web pages and feeds is shown: frozen values built only from what the
one visibility rule lets an outsider with no grants see (public, live topics). Adapters render them; they never
receive a row the rule did not pass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.announcements.model import Announcement
from bot.meetings.model import Meeting, Occurrence
from bot.resources.model import Resource
from bot.topics.model import Topic

PUBLIC_ID: Final = re.compile("[0-9a-f]{16}")
"""How announcements and meetings are named on the public web (their ``public_id``, 64 random bits): a row
number in a URL, an Atom id or a calendar UID would count the rows a stranger may not see (a gap between two
public announcements is members-only work), and could be stepped through."""


@dataclass(frozen=True, slots=True)
class PublicAnnouncement:
    """A published announcement (sent, or being sent) of a public topic, as it reads now: an edit replaced
    ``text`` and stamped ``edited_at``; a cancelled one is never built."""

    announcement: Announcement
    topic: Topic

    @property
    def public_id(self) -> str:
        return self.announcement.public_id

    @property
    def text(self) -> str:
        return self.announcement.text

    @property
    def published_at(self) -> datetime:
        """When it went out (``sent_at``; its creation for a row from before that was stamped)."""
        return self.announcement.sent_at or self.announcement.created_at

    @property
    def edited_at(self) -> datetime | None:
        return self.announcement.edited_at

    @property
    def updated_at(self) -> datetime:
        """The newest change a reader could notice: the last edit, else publication (Atom's ``updated``)."""
        return max(self.published_at, self.edited_at or self.published_at)


@dataclass(frozen=True, slots=True)
class UpcomingMeeting:
    """One coming occurrence of an active series of a public topic."""

    meeting: Meeting
    topic: Topic
    occurrence: Occurrence


@dataclass(frozen=True, slots=True)
class PublicMeeting:
    """A meeting series of a public topic with its next occurrences (cancelled ones included, marked by their
    state, so a page can say "cancelled" rather than silently skip a date)."""

    meeting: Meeting
    topic: Topic
    next: tuple[Occurrence, ...]


@dataclass(frozen=True, slots=True)
class Home:
    topics: tuple[Topic, ...]
    meetings: tuple[UpcomingMeeting, ...]
    announcements: tuple[PublicAnnouncement, ...]


@dataclass(frozen=True, slots=True)
class TopicPage:
    """A public topic: one page (1-based) of its announcement archive, newest first, and its coming meetings."""

    topic: Topic
    announcements: tuple[PublicAnnouncement, ...]
    page: int
    has_more: bool
    meetings: tuple[UpcomingMeeting, ...]


@dataclass(frozen=True, slots=True)
class ResourceResults:
    """One page of the public library: the chat's search when words were typed (``searched``: the words as read;
    ``suggestion``: a correction, and ``corrected`` when the page holds its results because the words found
    nothing; ``no_words`` when it had none to search for), else the newest first. ``topics`` names each public
    topic a resource may list."""

    items: tuple[Resource, ...]
    has_more: bool
    page: int
    topics: dict[int, Topic]
    searched: str | None = None
    suggestion: str | None = None
    corrected: bool = False
    no_words: bool = False
    """The query had nothing to search for (only punctuation, say): the page says so and lists nothing, rather
    than silently showing the whole library as if it were the answer."""
