"""One visibility rule, checked once for every feature (issue 17, item 4).

Seven callers × three visibilities × live or archived. The expected table is written out by hand; the pure rule
(:mod:`bot.topics.access`), the store's one query (:meth:`SqliteTopics.seen_by` through
:mod:`bot.topics.visibility`) and one command of each feature (topics, resources, meetings, announcements) must
all agree with it, so a feature that keeps its own copy of the rule, or bypasses it, fails here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from bot.commands.context import Caller
from bot.model import Identity, Role
from bot.subscriptions.model import DeliveryMode
from bot.topics.access import can_see, coordinates, knows_of, may_receive
from bot.topics.model import Policy, Topic, Visibility
from bot.topics.visibility import known_topic, known_topics
from tests.support import Harness

# (slug, visibility, archived, a word only its resource's title holds)
TOPICS = (
    ("vis-public-live", Visibility.PUBLIC, False, "aardvark"),
    ("vis-public-gone", Visibility.PUBLIC, True, "buffalo"),
    ("vis-members-live", Visibility.MEMBERS, False, "cheetah"),
    ("vis-members-gone", Visibility.MEMBERS, True, "dolphin"),
    ("vis-private-live", Visibility.PRIVATE, False, "elephant"),
    ("vis-private-gone", Visibility.PRIVATE, True, "flamingo"),
)
ELSEWHERE = "vis-elsewhere"

# For each caller, one character per topic in TOPICS order (1 = yes): can see it now, knows of it (may name it:
# "it is archived" rather than "no such topic"), and may receive its posts (as they follow it or not).
EXPECTED: dict[str, tuple[str, str, str]] = {
    "v-outsider": ("100000", "110000", "100000"),
    "v-member": ("101000", "111100", "101000"),
    "v-coordinator": ("111111", "111111", "101010"),  # coordinates every matrix topic
    "v-coordinator-elsewhere": ("101000", "111100", "101000"),  # coordinates only ELSEWHERE
    "v-admin": ("111111", "111111", "101010"),
    "v-invitee": ("100010", "110011", "100000"),  # an outsider invited to every topic
    "v-subscriber": ("100010", "110011", "100010"),  # an outsider who follows every topic
}
ADMIN = "demo-admin"  # "v-admin" in the table: an admin named in settings
COORDINATING = {"v-coordinator", "v-admin"}  # of every matrix topic
MAY_COORDINATE = {"v-coordinator", "v-coordinator-elsewhere", "v-admin"}  # pass the coordinator commands' gate


@dataclass(frozen=True)
class World:
    topics: dict[str, Topic]
    callers: dict[str, Caller]
    meetings: dict[str, int]
    announcements: dict[str, int]


def user(name: str) -> str:
    return ADMIN if name == "v-admin" else name


def expected(name: str, column: int, slug: str) -> bool:
    index = [t[0] for t in TOPICS].index(slug)
    return EXPECTED[name][column][index] == "1"


@pytest.fixture
async def world(h: Harness) -> World:
    """The matrix topics, each with a resource, a meeting and a draft announcement, then archived where the
    matrix says; callers granted, invited and subscribed straight in the store."""
    store, now = h.app.store, h.clock.now()
    people = {}
    for name in EXPECTED:
        if name != "v-admin":
            people[name] = (await store.people.ensure_identity(Identity("console", name), name, now)).person_id
    topics: dict[str, Topic] = {}
    meetings: dict[str, int] = {}
    for slug, visibility, _archived, word in TOPICS:
        await h.say(ADMIN, f"topic create {slug} Topic {word} visibility:{visibility.value}")
        for_topic = await store.topics.by_slug(slug)
        assert for_topic is not None
        topics[slug] = for_topic
        added = await h.text(ADMIN, f"resource add https://example.org/{word} Dossier {word} topics:{slug}"
                                    " visibility:public")
        assert "added" in added.lower(), added
        created = await h.text(ADMIN, f"meeting create {slug} Meet{word} 2026-11-23 13:00 zone:UTC")
        [meeting] = await store.meetings.active([for_topic.id])
        assert meeting.title == f"Meet{word}", created
        meetings[slug] = meeting.id
    elsewhere = await store.topics.create(ELSEWHERE, "Elsewhere", "", Visibility.PUBLIC, Policy.OPEN, now)
    admin = await store.people.identity(Identity("console", ADMIN))
    assert admin is not None
    announcements = {slug: (await store.announcements.create(t.id, admin.person_id, f"News {slug}", None, now)).id
                     for slug, t in topics.items()}
    async with store.transaction():
        for name in ("v-member", "v-coordinator", "v-coordinator-elsewhere"):
            await store.grants.add(people[name], Role.MEMBER, None, None, now)
        for topic in topics.values():
            await store.grants.add(people["v-coordinator"], Role.COORDINATOR, topic.id, None, now)
            await store.subscriptions.add_invitation(people["v-invitee"], topic.id, admin.person_id, now)
            await store.subscriptions.put(people["v-subscriber"], topic.id, DeliveryMode.IMMEDIATE, now)
        await store.grants.add(people["v-coordinator-elsewhere"], Role.COORDINATOR, elsewhere.id, None, now)
        for slug, _visibility, archived, _word in TOPICS:
            if archived:
                topics[slug] = dataclasses.replace(topics[slug], archived=True)
                await store.topics.update(topics[slug])
    people["v-admin"] = admin.person_id
    callers = {name: await h.app.services.people.caller_for_person(person) for name, person in people.items()}
    return World(topics, callers, meetings, announcements)


def test_the_table_is_complete() -> None:
    assert all(len(column) == len(TOPICS) for row in EXPECTED.values() for column in row)


async def test_the_rule_and_the_store_agree_with_the_table(h: Harness, world: World) -> None:
    """The pure rule over the flags the store joins in, and what :mod:`bot.topics.visibility` answers."""
    wrong = []
    for name, caller in world.callers.items():
        known = {k.topic.slug: k for k in await known_topics(h.app.store.topics, caller)}
        for seen in await h.app.store.topics.seen_by(caller.person.id):
            if seen.topic.slug not in world.topics:
                continue
            slug, topic = seen.topic.slug, seen.topic
            assert seen.subscribed is (name == "v-subscriber") and seen.invited is (name == "v-invitee")
            flags = {"subscribed": seen.subscribed, "invited": seen.invited}
            by_rule = (can_see(topic, caller.role, caller.coordinated, **flags),
                       knows_of(topic, caller.role, caller.coordinated, **flags),
                       may_receive(topic, caller.role, caller.coordinated, subscribed=seen.subscribed))
            by_store = (slug in known and known[slug].visible, slug in known, by_rule[2])
            one = await known_topic(h.app.store.topics, caller, topic.id)
            by_id = (one is not None and one.visible, one is not None, by_rule[2])
            table = tuple(expected(name, column, slug) for column in range(3))
            if not by_rule == by_store == by_id == table:
                wrong.append((name, slug, table, by_rule, by_store, by_id))
            assert coordinates(caller.role, caller.coordinated, topic) is (name in COORDINATING)
    assert wrong == []


async def test_topics_lists_what_the_caller_may_see(h: Harness, world: World) -> None:
    wrong = []
    for name in world.callers:
        listing = await h.text(user(name), "topics")
        wrong += [(name, slug) for slug in world.topics if (slug in listing) is not expected(name, 0, slug)]
    assert wrong == []


async def test_naming_a_topic_answers_by_knows_of(h: Harness, world: World) -> None:
    """Browsing one topic's resources: whoever may name it is shown it (archived too), anyone else is told
    there is no such topic."""
    wrong = []
    for name in world.callers:
        for slug in world.topics:
            reply = await h.text(user(name), f"resources {slug}")
            if ("There is no topic" not in reply) is not expected(name, 1, slug):
                wrong.append((name, slug, reply))
    assert wrong == []


async def test_resource_search_finds_resources_of_topics_the_caller_knows_of(h: Harness, world: World) -> None:
    wrong = []
    for name in world.callers:
        for slug, _visibility, _archived, word in TOPICS:
            reply = await h.text(user(name), f"resource search {word}")
            if (f"Dossier {word}" in reply) is not expected(name, 1, slug):
                wrong.append((name, slug, reply))
    assert wrong == []


async def test_meetings_follow_can_see(h: Harness, world: World) -> None:
    """``meetings`` lists live topics the caller may see; ``meeting show`` answers for what they may see,
    archived topics included for their coordinators."""
    wrong = []
    for name in world.callers:
        listing = await h.text(user(name), "meetings")
        for slug, _visibility, archived, word in TOPICS:
            if (f"Meet{word}" in listing) is not (expected(name, 0, slug) and not archived):
                wrong.append((name, slug, "meetings", listing))
            shown = await h.text(user(name), f"meeting show {world.meetings[slug]}")
            if ("There is no meeting" not in shown) is not expected(name, 0, slug):
                wrong.append((name, slug, "meeting show", shown))
    assert wrong == []


async def test_announcements_answer_coordinators_and_hide_unseen_topics(h: Harness, world: World) -> None:
    """``announce list`` shows a topic's announcements to its coordinators; ``announce status`` refuses a
    coordinator of another topic plainly when they may see the topic, and as if it did not exist otherwise."""
    wrong = []
    for name in world.callers:
        listing = await h.text(user(name), "announce list")
        for slug in world.topics:
            if (f" {slug} — " in listing) is not (name in COORDINATING):
                wrong.append((name, slug, "list", listing))
            status = await h.say(user(name), f"announce status {world.announcements[slug]}")
            text = status.message.plain_text()
            if name in COORDINATING:
                ok = not status.message.is_error
            elif name in MAY_COORDINATE and not expected(name, 0, slug):
                ok = "There is no announcement" in text
            else:
                ok = status.message.is_error and "There is no announcement" not in text
            if not ok:
                wrong.append((name, slug, "status", text))
    assert wrong == []
