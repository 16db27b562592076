"""Database round trips per command, so they cannot creep back (issue 23, item 5).

Why: every command used to cost 27–45 hops to aiosqlite's thread (~0.2 ms each on a busy machine) and two or three
write transactions even when it only read: the caller was looked up table by table, twice, and contact was recorded
on every command. The bounds below are what the commands cost now; a change that needs more should raise them
knowingly. Counted at the one door every aiosqlite call goes through (the connection's ``_execute``), wrapped here
and never in product code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
import pytest

from bot.model import Identity, Role
from bot.subscriptions.model import DeliveryMode
from bot.topics.visibility import KnownTopic, known_topic, known_topics
from tests.support import Harness


@dataclass
class Trips:
    hops: int = 0
    statements: list[str] = field(default_factory=list)

    @property
    def write_transactions(self) -> int:
        return sum(sql.upper().startswith("BEGIN") for sql in self.statements)

    def __str__(self) -> str:
        counted = Counter(" ".join(sql.split())[:70] for sql in self.statements)
        return f"{self.hops} hops:\n" + "\n".join(f"  {n} × {sql}" for sql, n in counted.items())


def _connection(h: Harness) -> Any:
    """The database's one connection: aiosqlite's, or psycopg's on a PostgreSQL run."""
    kinds: tuple[type, ...] = (aiosqlite.Connection,)
    if h.app.db.dialect == "postgresql":
        import psycopg

        kinds = (psycopg.AsyncConnection,)
    found = [value for value in vars(h.app.db).values() if isinstance(value, kinds)]
    assert len(found) == 1
    return found[0]


@contextmanager
def counting(h: Harness) -> Iterator[Trips]:
    """aiosqlite: every call hops to its thread through ``_execute``. psycopg: every ``execute`` is one round trip
    to the server (its rows come with it, so reading them is none), the engine's ``_run_many`` one more (an
    ``executemany``, pipelined), and its ``_run_alone`` one (a write statement sent with its transaction)."""
    connection = _connection(h)
    trips = Trips()
    door = "_execute" if isinstance(connection, aiosqlite.Connection) else "execute"
    original: Callable[..., Awaitable[Any]] = getattr(connection, door)

    async def hop(*args: Any, **kwargs: Any) -> Any:
        trips.hops += 1
        # aiosqlite: execute, execute_fetchall, executemany pass the SQL after the function; psycopg: first.
        sql = next((arg for arg in args[:2] if isinstance(arg, (str, bytes))), None)
        if sql is not None:
            trips.statements.append(sql.decode() if isinstance(sql, bytes) else sql)
        return await original(*args, **kwargs)

    patched = [(connection, door, hop)]
    if door == "execute":
        from storage.postgres_database import PostgresDatabase

        assert isinstance(h.app.db, PostgresDatabase)
        many = h.app.db._run_many
        alone = h.app.db._run_alone

        async def run_many(sql: str, rows: Any) -> None:
            trips.hops += 1
            trips.statements.append(sql)
            await many(sql, rows)

        async def run_alone(sql: str, params: Any) -> int:
            trips.hops += 1  # the statement goes with its BEGIN and COMMIT, in one round trip
            trips.statements.append(f"BEGIN; {sql}; COMMIT")
            return await alone(sql, params)

        patched += [(h.app.db, "_run_many", run_many), (h.app.db, "_run_alone", run_alone)]
    for target, name, replacement in patched:
        vars(target)[name] = replacement
    try:
        yield trips
    finally:
        for target, name, _ in patched:
            vars(target).pop(name)


async def _measure(h: Harness, user: str, text: str, **kwargs: Any) -> Trips:
    with counting(h) as trips:
        reply = await h.say(user, text, **kwargs)
    assert not reply.message.is_error, reply.message.plain_text()
    return trips


# (command, at most this many hops, write transactions). Each hop here is one SQL statement.
BOUNDS = [
    ("help", 1, 0),
    ("whoami", 2, 0),
    ("topics", 4, 0),
    ("mysubs", 4, 0),
    ("resource search election", 4, 0),
    ("resources", 4, 0),
    ("meetings", 3, 0),
    ("subscribe research", 10, 1),
    ("settings language fr", 5, 1),
    ("settings timezone Africa/Nairobi", 5, 1),
]


@pytest.mark.parametrize(("text", "hops", "transactions"), BOUNDS, ids=[b[0] for b in BOUNDS])
async def test_a_common_command_costs_at_most_its_round_trips(h: Harness, text: str, hops: int,
                                                              transactions: int) -> None:
    # Contact recorded, and what is loaded once (the search's term counts, the resource counts per topic) loaded:
    # what follows is the steady state.
    await h.say("demo-member", text)
    if text.startswith("subscribe"):
        await h.say("demo-member", "unsubscribe research")
    trips = await _measure(h, "demo-member", text)
    assert trips.hops <= hops, str(trips)
    assert len(trips.statements) == trips.hops, str(trips)  # no cursor closes or row fetches of their own
    assert trips.write_transactions == transactions, str(trips)


async def test_unsubscribe_costs_at_most_its_round_trips(h: Harness) -> None:
    await h.say("demo-member", "subscribe research")
    trips = await _measure(h, "demo-member", "unsubscribe research")
    assert trips.hops <= 9 and trips.write_transactions == 1, str(trips)


async def test_contact_is_recorded_only_when_something_changed(h: Harness) -> None:
    first = await _measure(h, "newcomer", "help")
    assert first.write_transactions == 1, str(first)  # first contact: a person and an identity
    assert (await _measure(h, "newcomer", "help")).write_transactions == 0
    person = await h.app.store.people.profile_of(Identity("console", "newcomer"))
    assert person is not None and person.last_seen_at == h.clock.now()

    # The platform says something new: it is stored, in one write transaction, and used at once.
    with counting(h) as trips:
        reply = await h.say("newcomer", "whoami", platform_role=Role.MEMBER)
    assert trips.write_transactions == 1, str(trips)
    assert "member" in reply.message.plain_text().lower()
    record = await h.app.store.people.identity(Identity("console", "newcomer"))
    assert record is not None and record.platform_role is Role.MEMBER
    assert (await _measure(h, "newcomer", "help", platform_role=Role.MEMBER)).write_transactions == 0

    # DMs marked closed are open again once the person writes.
    await h.app.store.people.set_dm_closed(Identity("console", "newcomer"), "blocked")
    assert (await _measure(h, "newcomer", "help", platform_role=Role.MEMBER)).write_transactions == 1
    record = await h.app.store.people.identity(Identity("console", "newcomer"))
    assert record is not None and record.dm_closed_reason is None

    # The last contact is refreshed at most once an hour.
    h.clock.advance(minutes=59)
    assert (await _measure(h, "newcomer", "help", platform_role=Role.MEMBER)).write_transactions == 0
    h.clock.advance(minutes=2)
    assert (await _measure(h, "newcomer", "help", platform_role=Role.MEMBER)).write_transactions == 1
    person = await h.app.store.people.profile_of(Identity("console", "newcomer"))
    assert person is not None and person.last_seen_at == h.clock.now()


async def test_a_write_is_seen_by_the_same_and_the_next_command(h: Harness) -> None:
    # The caller is not read again after a read-only handler, but is after one that wrote.
    await h.say("demo-member", "help")
    reply = await h.say("demo-member", "settings language fr")
    assert reply.language == "fr"
    assert (await h.say("demo-member", "help")).language == "fr"
    assert (await h.say("demo-member", "settings language en")).language == "en"
    assert "coordinator" not in (await h.text("demo-member", "whoami")).lower()
    await h.say("demo-admin", "role grant demo-member coordinator")
    assert "coordinator" in (await h.text("demo-member", "whoami")).lower()


async def test_a_write_by_another_task_during_a_command_is_seen_in_its_reply(h: Harness) -> None:
    """The caller read before the handler is reused only while nothing at all was committed since."""
    await h.say("demo-member", "help")
    person = await h.app.store.people.profile_of(Identity("console", "demo-member"))
    assert person is not None
    with counting(h) as trips:
        caller = await h.app.services.people.caller_for_person(person.person.id)
    assert trips.hops == 1  # no caller of this task to reuse: read
    await h.app.store.people.set_language(person.person.id, "fr")
    assert (await h.app.services.people.caller_for_person(person.person.id)).language == "fr" != caller.language


async def test_topics_read_once_per_command_still_show_every_write(h: Harness) -> None:
    """A command's caller reuses the topics it read until anything is written, even uncommitted or rolled back."""
    profile = await h.app.store.people.profile_of(Identity("console", "demo-member"))
    assert profile is not None
    caller = await h.app.services.people.caller_for_person(profile.person.id)
    topics, subscriptions = h.app.store.topics, h.app.store.subscriptions
    research = await topics.by_slug("research")
    assert research is not None

    def subscribed(known: list[KnownTopic]) -> bool:
        return next(k for k in known if k.topic.id == research.id).subscribed

    with counting(h) as trips:
        assert not subscribed(await known_topics(topics, caller))
        assert not subscribed(await known_topics(topics, caller))
        assert (await known_topic(topics, caller, research.id)) is not None
        assert [k.topic.slug for k in await known_topics(topics, caller, slug="RESEARCH")] == ["research"]
    assert trips.hops == 1, str(trips)

    await subscriptions.put(caller.person.id, research.id, DeliveryMode.IMMEDIATE, h.clock.now())
    assert subscribed(await known_topics(topics, caller))
    with pytest.raises(RuntimeError):
        async with h.app.store.transaction():
            await subscriptions.remove(caller.person.id, research.id)
            assert not subscribed(await known_topics(topics, caller))  # its own uncommitted write
            raise RuntimeError("rolled back")
    assert subscribed(await known_topics(topics, caller))
