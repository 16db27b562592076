"""Which topics a caller may see, for every feature: one store query per call, the rule from
:mod:`bot.topics.access`.

Topics, resources, meetings and announcements each used to fetch every topic and then ask for an invitation per
private topic; they all ask here now, so the rule is applied in one place and costs one query whatever the
number of topics.
"""

from __future__ import annotations

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


def judge(caller: Caller, seen: SeenTopic) -> KnownTopic | None:
    """The rule applied to one row of :meth:`TopicStore.seen_by`; ``None`` when the caller may not know of it."""
    flags = {"subscribed": seen.subscribed, "invited": seen.invited}
    if not knows_of(seen.topic, caller.role, caller.coordinated, **flags):
        return None
    return KnownTopic(seen.topic, can_see(seen.topic, caller.role, caller.coordinated, **flags), **flags)


async def known_topics(topics: TopicStore, caller: Caller, *, slug: str | None = None) -> list[KnownTopic]:
    """Every topic the caller may name (or only the one called ``slug``), ordered by slug."""
    judged = (judge(caller, seen) for seen in await topics.seen_by(caller.person.id, slug=slug))
    return [known for known in judged if known is not None]


async def known_topic(topics: TopicStore, caller: Caller, topic_id: int) -> KnownTopic | None:
    """The topic ``topic_id`` if the caller may name it; ``None`` when it does not exist or they may not."""
    seen = await topics.seen_by(caller.person.id, topic_id=topic_id)
    return judge(caller, seen[0]) if seen else None
