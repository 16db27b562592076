"""Demo coalition data for the console: people, roles and topics drawn from real coalition working groups.

Loaded only into an empty database and only when the console is the only adapter, so it can never reach a
Slack or Discord deployment (the composition root enforces both conditions).
"""

from __future__ import annotations

from datetime import datetime

from app.demo.meetings import load_demo_meetings
from app.demo.resources import load_demo_resources
from bot.model import Identity, Role
from bot.ports import Store
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility

DEMO_PEOPLE = ("demo-admin", "demo-coordinator", "demo-member", "demo-outsider")

DEMO_TOPICS: tuple[tuple[str, str, str, Visibility, Policy], ...] = (
    ("disinformation", "Countering disinformation",
     "Monitoring, debunking and pre-bunking disinformation campaigns; shared fact-checks and research.",
     Visibility.PUBLIC, Policy.OPEN),
    ("elections", "Information integrity in elections",
     "Election observation, platform accountability and information integrity around elections.",
     Visibility.PUBLIC, Policy.OPEN),
    ("cybersecurity", "Cybersecurity for civil society",
     "Digital security for organisations and activists: trainings, alerts and tools.",
     Visibility.MEMBERS, Policy.OPEN),
    ("research", "Research and reports",
     "Coordinating research, sharing reports and data across working groups.",
     Visibility.MEMBERS, Policy.OPEN),
    ("whrd-safety", "Online harassment of women human-rights defenders",
     "Documenting and responding to online harassment of women human-rights defenders.",
     Visibility.MEMBERS, Policy.APPROVAL),
    ("incident-response", "Incident response",
     "Rapid response to attacks on coalition members. Invitation only.",
     Visibility.PRIVATE, Policy.OPEN),
)


async def is_empty(store: Store) -> bool:
    return await store.people.count() == 0 and not await store.topics.all(include_archived=True)


async def load_demo(store: Store, now: datetime) -> None:
    """Create the demo coalition in one transaction."""
    async with store.transaction():
        people = {}
        for name in DEMO_PEOPLE:
            record = await store.people.ensure_identity(Identity("console", name), name, now)
            people[name] = record.person_id
        topics = {}
        for slug, title, description, visibility, policy in DEMO_TOPICS:
            topic = await store.topics.create(slug, title, description, visibility, policy, now)
            topics[slug] = topic.id
        await store.grants.add(people["demo-member"], Role.MEMBER, None, None, now)
        await store.grants.add(people["demo-coordinator"], Role.MEMBER, None, None, now)
        await store.grants.add(people["demo-coordinator"], Role.COORDINATOR, topics["disinformation"], None, now)
        await store.subscriptions.put(people["demo-coordinator"], topics["disinformation"], DeliveryMode.IMMEDIATE,
                                      now)
        await store.subscriptions.put(people["demo-member"], topics["elections"], DeliveryMode.DAILY, now)
        await store.subscriptions.put(people["demo-outsider"], topics["elections"], DeliveryMode.IMMEDIATE, now)
        await store.subscriptions.put(people["demo-admin"], topics["incident-response"], DeliveryMode.IMMEDIATE,
                                      now)
        await load_demo_resources(store, now, topics, people["demo-admin"])
        await load_demo_meetings(store, now, topics["disinformation"], people["demo-coordinator"])
