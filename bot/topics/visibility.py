"""Which topics a caller may see, for every feature: one store query per command, the rule from
:mod:`bot.topics.access`.

Topics, resources, meetings and announcements each used to fetch every topic and then ask for an invitation per
private topic; they all ask here now, so the rule is applied in one place and costs one query whatever the
number of topics. A command often asks more than once (the resource library: for the topic names, the scope of
the page, and the counts per topic), so the rows are kept for the command's caller until anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from bot.commands.context import Caller
from bot.topics.access import can_see, knows_of
from bot.topics.model import SeenTopic, Topic
from bot.topics.store import TopicStore


@dataclass(frozen=True, slots=True)
class KnownTopic:
    """A topic the caller may name (:func:`~bot.topics.access.knows_of`), and whether they may see it as it is
    now (:func:`~bot.topics.access.can_see`): an archived topic is named, to be refused clearly, but not seen."""

    topic: Topic
    visible: bool
    subscribed: bool
    invited: bool


@dataclass(frozen=True, slots=True)
class _Seen:
    caller: Caller
    writes: int
    rows: tuple[SeenTopic, ...]


# The rows last read for a caller in this task (one command): reused only for that very caller object and while the
# store's write count has not moved, so a command sees its own writes and every other, and the rows never outlive
# the command (the next one brings a new caller).
_seen: ContextVar[_Seen | None] = ContextVar("seen_topics", default=None)


async def _seen_by(topics: TopicStore, caller: Caller) -> tuple[SeenTopic, ...]:
    writes = topics.writes()  # before the read: a write during it makes the rows suspect
    memo = _seen.get()
    if memo is not None and memo.caller is caller and memo.writes == writes:
        return memo.rows
    rows = tuple(await topics.seen_by(caller.person.id))
    _seen.set(_Seen(caller, writes, rows))
    return rows


def _reusable(topics: TopicStore, caller: Caller) -> tuple[SeenTopic, ...] | None:
    memo = _seen.get()
    return memo.rows if memo is not None and memo.caller is caller and memo.writes == topics.writes() else None


def judge(caller: Caller, seen: SeenTopic) -> KnownTopic | None:
    """The rule applied to one row of :meth:`TopicStore.seen_by`; ``None`` when the caller may not know of it."""
    flags = {"subscribed": seen.subscribed, "invited": seen.invited}
    if not knows_of(seen.topic, caller.role, caller.coordinated, **flags):
        return None
    return KnownTopic(seen.topic, can_see(seen.topic, caller.role, caller.coordinated, **flags), **flags)


async def known_topics(topics: TopicStore, caller: Caller, *, slug: str | None = None) -> list[KnownTopic]:
    """Every topic the caller may name (or only the one called ``slug``), ordered by slug."""
    if slug is None:
        rows: Sequence[SeenTopic] = await _seen_by(topics, caller)
    else:
        kept = _reusable(topics, caller)
        rows = [seen for seen in kept if seen.topic.slug == slug.lower()] if kept is not None \
            else await topics.seen_by(caller.person.id, slug=slug)
    judged = (judge(caller, seen) for seen in rows)
    return [known for known in judged if known is not None]


async def known_topic(topics: TopicStore, caller: Caller, topic_id: int) -> KnownTopic | None:
    """The topic ``topic_id`` if the caller may name it; ``None`` when it does not exist or they may not."""
    kept = _reusable(topics, caller)
    seen = [row for row in kept if row.topic.id == topic_id] if kept is not None \
        else await topics.seen_by(caller.person.id, topic_id=topic_id)
    return judge(caller, seen[0]) if seen else None
