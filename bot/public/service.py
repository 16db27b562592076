"""Read-only queries for anonymous readers (the public web pages and feeds).

An anonymous reader sees exactly what an outsider with no grants, subscriptions or invitations sees in chat: the
caller below is such an outsider, and every query goes through the same services and the one rule
(:mod:`bot.topics.access` applied by :mod:`bot.topics.visibility`) — this module never states who may see what.
Anything the rule hides answers ``None``, exactly like something that does not exist, so a URL cannot tell a
private item from a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import bidi
from bot.announcements.model import AnnouncementState
from bot.clock import Clock
from bot.commands.context import Caller, ZoneSource
from bot.errors import UserError
from bot.i18n import Text, _
from bot.meetings.model import Meeting, MeetingState, Occurrence
from bot.meetings.service import MeetingService
from bot.model import Identity, IdentityRecord, Person, Role, RoleSources
from bot.ports import Store
from bot.public.model import (
    PUBLIC_ID,
    Home,
    PublicAnnouncement,
    PublicMeeting,
    ResourceResults,
    TopicPage,
    UpcomingMeeting,
)
from bot.resources.model import ResourceFilter
from bot.resources.query import describe
from bot.resources.search import PAGE_SIZE
from bot.resources.service import ResourceService
from bot.topics.model import Topic
from bot.topics.service import TopicService
from bot.topics.visibility import known_topics

ANONYMOUS_ID = 0
"""Person 0 is nobody (SQLite ids start at 1) or, after an erasure, the placeholder "former member" that erased
authors' announcements point to (:data:`bot.privacy.model.FORMER_PERSON_ID`), which never holds a subscription,
grant or invitation: either way nothing of anyone's applies to an anonymous reader."""

PUBLISHED = (AnnouncementState.SENDING, AnnouncementState.SENT)
"""What a reader may see: from the moment it goes out (the public channel has it then), edits included; never a
draft, a scheduled, a cancelled or a missed one."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

HEADLINE_LENGTH = 100


def headline(item: PublicAnnouncement, length: int = HEADLINE_LENGTH) -> str | Text:
    """What a page or feed entry is titled: announcements have no title of their own, so the first line with
    words (cut to ``length``), else a sentence naming the topic — never the row number, which would count the
    members-only announcements between two public ones."""
    text = item.text.replace("\r\n", "\n").replace("\r", "\n")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return bidi.cut(first, length) if first else _("Announcement in {topic}", topic=item.topic.title)


@dataclass(frozen=True, slots=True)
class PublicConfig:
    home_announcements: int = 5
    home_meetings: int = 5
    archive_page: int = 10
    topic_meetings: int = 10
    meeting_occurrences: int = 8
    ahead: timedelta = timedelta(days=60)
    """How far ahead pages list meetings (the reminder queue materialises occurrences about as far)."""
    feed_entries: int = 50
    max_page: int = 1000
    """Pages beyond this answer "not found": a crawler cannot make the site count through millions of rows."""


class PublicService:
    def __init__(self, store: Store, clock: Clock, topics: TopicService, meetings: MeetingService,
                 resources: ResourceService, config: PublicConfig | None = None,
                 language: str = "en") -> None:
        self._store = store
        self._clock = clock
        self._topics = topics
        self._meetings = meetings
        self._resources = resources
        self._config = config or PublicConfig()
        self._language = language

    @property
    def config(self) -> PublicConfig:
        return self._config

    def anonymous(self) -> Caller:
        """A fresh outsider for one query: a new object each time, so the visibility memo (kept per caller object)
        never outlives one call."""
        person = Person(ANONYMOUS_ID, "", None, None, None, None, None, None, _EPOCH)
        identity = IdentityRecord(Identity("web", "anonymous"), ANONYMOUS_ID, "", Role.OUTSIDER, None, None)
        return Caller(person, identity, RoleSources(Role.OUTSIDER, Role.OUTSIDER, Role.OUTSIDER), frozenset(),
                      self._language, "UTC", ZoneSource.DEFAULT)

    # --- topics ---------------------------------------------------------------------------------------

    async def topics(self) -> list[Topic]:
        """Every topic an outsider may see now (archived ones are not), by slug."""
        return await self._topics.visible(self.anonymous())

    async def topic(self, slug: str) -> Topic | None:
        """The topic called ``slug`` if an outsider may see it now; ``None`` otherwise, as for no topic."""
        slug = slug.strip().lower()
        if not slug or len(slug) > 40:
            return None
        for known in await known_topics(self._store.topics, self.anonymous(), slug=slug):
            if known.visible:
                return known.topic
        return None

    # --- pages ----------------------------------------------------------------------------------------

    async def home(self) -> Home:
        topics = await self.topics()
        announcements = await self._published(topics, limit=self._config.home_announcements, offset=0)
        meetings = await self.upcoming(topics, limit=self._config.home_meetings)
        return Home(tuple(topics), tuple(meetings), tuple(announcements))

    async def topic_page(self, slug: str, page: int = 1) -> TopicPage | None:
        """``None`` for a topic an outsider may not see, and for a page past the last one (page 1 always exists)."""
        topic = await self.topic(slug)
        if topic is None or not 1 <= page <= self._config.max_page:
            return None
        size = self._config.archive_page
        rows = await self._published([topic], limit=size + 1, offset=(page - 1) * size)
        if page > 1 and not rows:
            return None
        meetings = await self.upcoming([topic], limit=self._config.topic_meetings)
        return TopicPage(topic, tuple(rows[:size]), page, len(rows) > size, tuple(meetings))

    async def announcement(self, public_id: str) -> PublicAnnouncement | None:
        """A published announcement of a topic an outsider may see, by its public id; ``None`` for a draft, a
        scheduled, cancelled or missed one, one of a hidden topic, and an unknown id alike."""
        if PUBLIC_ID.fullmatch(public_id) is None:
            return None
        announcement = await self._store.announcements.by_public_id(public_id)
        if announcement is None or announcement.state not in PUBLISHED:
            return None
        topic = await self._visible_topic(announcement.topic_id)
        return PublicAnnouncement(announcement, topic) if topic is not None else None

    async def announcements(self, slug: str | None = None, limit: int | None = None) -> list[PublicAnnouncement] | None:
        """The newest published announcements of one public topic (``None`` when an outsider may not see it) or of
        every one (``slug`` ``None``), newest first: what a feed lists."""
        topics = await self.topics() if slug is None else [t for t in [await self.topic(slug)] if t is not None]
        if slug is not None and not topics:
            return None
        return await self._published(topics, limit=limit or self._config.feed_entries, offset=0)

    async def upcoming(self, topics: list[Topic] | None = None, limit: int = 10) -> list[UpcomingMeeting]:
        """The coming occurrences of these topics' active meetings (every public topic for ``None``), soonest
        first. The topics must come from this service (they are not checked again)."""
        topics = await self.topics() if topics is None else topics
        if not topics:
            return []
        now = self._clock.now()
        by_id = {t.id: t for t in topics}
        found = await self._meetings.upcoming(topics, now, now + self._config.ahead)
        return [UpcomingMeeting(m, by_id[m.topic_id], o) for m, o in found[:limit]]

    async def meeting(self, public_id: str) -> PublicMeeting | None:
        """A meeting series of a topic an outsider may see, with its next occurrences; ``None`` otherwise. A
        cancelled series still answers (with no occurrences), so a shared link says "cancelled" rather than 404."""
        found = await self._meeting(public_id)
        if found is None:
            return None
        meeting, topic = found
        nexts: tuple[Occurrence, ...] = ()
        if meeting.state is MeetingState.ACTIVE:
            since = self._clock.now() - meeting.duration
            nexts = tuple(await self._meetings.occurrences(meeting, since, self._config.meeting_occurrences))
        return PublicMeeting(meeting, topic, nexts)

    async def calendar(self, slug: str | None = None, cancelled_since: datetime | None = None,
                       ) -> list[tuple[Meeting, list[Occurrence]]] | None:
        """Series and their stored occurrences for a calendar file: one public topic's (``None`` when an outsider
        may not see it) or every public topic's; series cancelled since ``cancelled_since`` (default: 30 days ago)
        are included so subscribed calendars learn of the cancellation."""
        topics = await self.topics() if slug is None else [t for t in [await self.topic(slug)] if t is not None]
        if slug is not None and not topics:
            return None
        since = cancelled_since or self._clock.now() - timedelta(days=30)
        series: list[tuple[Meeting, list[Occurrence]]] = []
        for topic in topics:
            series += await self._meetings.for_calendar(topic, since)
        return series

    async def meeting_calendar(self, public_id: str) -> tuple[Meeting, list[Occurrence]] | None:
        """One series and all its stored occurrences, for ``/meetings/{public_id}.ics``; ``None`` as
        :meth:`meeting`."""
        found = await self._meeting(public_id)
        if found is None:
            return None
        return found[0], await self._meetings.occurrences(found[0])

    # --- resources ------------------------------------------------------------------------------------

    async def resources(self, query: str, filters: ResourceFilter, page: int = 1) -> ResourceResults | None:
        """One page of the library as an outsider sees it: the chat's search (typos, accents, corrections) when
        ``query`` has words, else the newest first. ``None`` for a page out of range. A filter naming a topic
        an outsider may not see finds nothing, as for an empty topic. A page after the last is ``None`` too."""
        if not 1 <= page <= self._config.max_page:
            return None
        caller = self.anonymous()
        topics = {t.id: t for t in await self._topics.visible(caller)}
        if query.strip():
            try:
                # Its own vocabulary: timing must not tell which words hidden resources hold.
                result = await self._resources.search(caller, query, filters, page, own_vocabulary=True)
            except UserError:  # the only refusal: no words in it (the chat's sentence names a chat command)
                return ResourceResults((), False, page, topics, no_words=True)
            if page > 1 and not result.page.items:
                return None
            suggestion = describe(result.suggestion) if result.suggestion is not None else None
            return ResourceResults(result.page.items, result.page.has_more, page, topics,
                                   describe(result.terms), suggestion, result.corrected)
        found = await self._store.resources.browse(await self._resources.scope_for(caller), filters,
                                                   limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        if page > 1 and not found.items:
            return None
        return ResourceResults(found.items, found.has_more, page, topics)

    # --- internals ------------------------------------------------------------------------------------

    async def _visible_topic(self, topic_id: int) -> Topic | None:
        topics = await self.topics()
        return next((t for t in topics if t.id == topic_id), None)

    async def _meeting(self, public_id: str) -> tuple[Meeting, Topic] | None:
        if PUBLIC_ID.fullmatch(public_id) is None:
            return None
        meeting = await self._store.meetings.by_public_id(public_id)
        if meeting is None:
            return None
        topic = await self._visible_topic(meeting.topic_id)
        return (meeting, topic) if topic is not None else None

    async def _published(self, topics: list[Topic], *, limit: int, offset: int) -> list[PublicAnnouncement]:
        if not topics:
            return []
        by_id = {t.id: t for t in topics}
        rows = await self._store.announcements.published(sorted(by_id), limit=limit, offset=offset)
        return [PublicAnnouncement(a, by_id[a.topic_id]) for a in rows]
