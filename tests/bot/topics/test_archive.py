"""Archiving is not a one-way trap: a topic can be brought back, its coordinator still finds and manages it,
and what waited on it (requests, invitations) is closed and the people concerned are told (issue 15, item 10)."""

from __future__ import annotations

import dataclasses

from bot.model import Identity
from bot.subscriptions.model import DeliveryMode, RequestStatus
from tests.support import Harness


async def _person(h: Harness, name: str, platform: str = "console") -> int:
    record = await h.app.store.people.identity(Identity(platform, name))
    assert record is not None
    return record.person_id


async def _topic_id(h: Harness, slug: str) -> int:
    topic = await h.app.store.topics.by_slug(slug)
    assert topic is not None
    return topic.id


async def _mode(h: Harness, name: str, slug: str) -> DeliveryMode | None:
    found = await h.app.store.subscriptions.get(await _person(h, name), await _topic_id(h, slug))
    return found.mode if found else None


async def _status(h: Harness, request_id: int) -> RequestStatus:
    request = await h.app.store.requests.get(request_id)
    assert request is not None
    return request.status


async def test_unarchive_brings_a_topic_back_audited_and_listed(h: Harness) -> None:
    await h.say("demo-coordinator", "topic archive disinformation")
    assert "disinformation" not in await h.text("demo-member", "topics")
    reply = await h.text("demo-coordinator", "topic unarchive disinformation")
    assert "is active again" in reply and "Its 1 follower receives its posts again." in reply
    assert "disinformation — Countering disinformation (public)" in await h.text("demo-member", "topics")
    assert (await h.app.store.topics.by_slug("disinformation")).archived is False  # type: ignore[union-attr]
    actions = [entry.action for entry in await h.app.store.audit.recent()]
    assert actions[:2] == ["topic.unarchive", "topic.archive"]
    assert "is not archived. Nothing changed." in await h.text("demo-coordinator", "topic unarchive disinformation")


async def test_unarchive_is_for_that_topics_coordinators(h: Harness) -> None:
    await h.say("demo-admin", "topic archive elections")
    refused = await h.say("demo-coordinator", "topic unarchive elections")
    assert refused.message.is_error and "Only a coordinator of “elections”" in refused.message.plain_text()
    refused = await h.say("demo-member", "topic unarchive elections")
    assert refused.message.is_error
    assert (await h.app.store.topics.by_slug("elections")).archived is True  # type: ignore[union-attr]


async def test_an_archived_topic_stays_listed_and_editable_for_its_coordinator(h: Harness) -> None:
    await h.say("demo-coordinator", "topic archive disinformation")
    listing = await h.text("demo-coordinator", "topics")
    assert "1 archived topic you coordinate" in listing
    assert "• disinformation — Countering disinformation (public) — archived" in listing
    assert "topic unarchive <topic>" in listing
    assert "Subscribe to disinformation" not in listing
    assert "archived" not in await h.text("demo-member", "topics")  # only its coordinators see it
    assert "updated" in await h.text("demo-coordinator", "topic edit disinformation title:Fact-checking")
    assert (await h.app.store.topics.by_slug("disinformation")).title == "Fact-checking"  # type: ignore[union-attr]


async def test_archiving_closes_waiting_requests_and_invitations_and_tells_each_person(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety")
    assert "is invited" in await h.text("demo-admin", "topic invite whrd-safety demo-coordinator")
    await h.app.run_due()
    reply = await h.text("demo-admin", "topic archive whrd-safety")
    assert "1 waiting request was closed and its requester told." in reply
    assert "1 open invitation was withdrawn and the invitee told." in reply
    assert await _status(h, 1) is RequestStatus.EXPIRED
    assert not await h.app.store.subscriptions.is_invited(await _person(h, "demo-coordinator"),
                                                          await _topic_id(h, "whrd-safety"))
    await h.app.run_due()
    out = h.console_output()
    assert "[DM → demo-member] == Request closed ==" in out and "has been archived" in out
    assert "[DM → demo-coordinator] == Invitation withdrawn ==" in out
    # Housekeeping again, and a second archive, tell nobody twice.
    await h.say("demo-admin", "topic archive whrd-safety")
    await h.app.run_due()
    assert h.console_output().count("== Request closed ==") == 1
    assert h.console_output().count("== Invitation withdrawn ==") == 1


async def test_a_request_for_an_archived_topic_cannot_be_answered(h: Harness) -> None:
    """A request left waiting on a topic archived before archiving closed requests (an older database)."""
    await h.say("demo-member", "subscribe whrd-safety")
    topic = await h.app.store.topics.by_slug("whrd-safety")
    assert topic is not None
    await h.app.store.topics.update(dataclasses.replace(topic, archived=True))
    for command in ("approve 1", "deny 1"):
        reply = await h.say("demo-admin", command)
        assert reply.message.is_error
        assert "“whrd-safety” is archived, so request #1 can no longer be approved or denied" in \
            reply.message.plain_text()
    assert await _mode(h, "demo-member", "whrd-safety") is None
    assert await _status(h, 1) is RequestStatus.PENDING
    await h.app.run_due()  # housekeeping closes it and tells the requester
    assert await _status(h, 1) is RequestStatus.EXPIRED
    assert "[DM → demo-member] == Request closed ==" in h.console_output()
    assert "You may ask again" not in h.console_output()


async def test_subscribing_to_an_archived_topic_is_refused_clearly(h: Harness) -> None:
    await h.say("demo-admin", "topic archive elections")
    for person in ("demo-member", "demo-outsider"):
        reply = await h.say(person, "subscribe elections")
        assert reply.message.is_error
        assert reply.message.plain_text() == "“elections” is archived: nothing is sent to it any more."
    assert "topic unarchive elections" in await h.text("demo-admin", "subscribe elections")
    assert "“elections” is archived" in await h.text("demo-admin", "announce new elections Hello")
    assert "“elections” is archived" in await h.text("demo-admin", "topic invite elections demo-member")
    # Someone who could never see the topic learns nothing, archived or not.
    await h.say("demo-admin", "topic archive incident-response")
    hidden = await h.text("demo-member", "subscribe incident-response")
    missing = await h.text("demo-member", "subscribe no-such-topic")
    assert hidden.replace("incident-response", "X") == missing.replace("no-such-topic", "X")


async def test_an_archived_name_points_its_coordinator_to_unarchive(h: Harness) -> None:
    await h.say("demo-admin", "topic archive incident-response")
    assert "is the name of an archived topic" in await h.text("demo-admin", "topic create incident-response IR")
    # demo-coordinator may create topics but cannot see this private one: the neutral answer.
    neutral = await h.text("demo-coordinator", "topic create incident-response IR")
    assert neutral.startswith("The topic name “incident-response” is taken")


async def test_archived_topics_resources_can_still_be_filtered_by_those_who_saw_it(h: Harness) -> None:
    await h.say("demo-admin", "topic archive disinformation")
    for command in ("resources disinformation", "resource search disinformation topic:disinformation"):
        reply = await h.say("demo-outsider", command)
        assert not reply.message.is_error, reply.message.plain_text()


async def test_opening_an_approval_topic_closes_its_waiting_requests(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety mode:weekly")
    reply = await h.text("demo-admin", "topic edit whrd-safety policy:open")
    assert "1 waiting request no longer needs an answer" in reply
    assert await _status(h, 1) is RequestStatus.EXPIRED
    await h.app.run_due()
    out = h.console_output()
    assert "[DM → demo-member] == No approval needed ==" in out
    assert "/subscribe whrd-safety mode:weekly" in out
    assert "No requests are waiting" in await h.text("demo-admin", "requests")
