"""The outbox worker: retries with backoff, Retry-After, permanent failures, access re-checks, recovery."""

from __future__ import annotations

from datetime import timedelta

from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.model import DeliveryStatus
from bot.i18n import _
from bot.messages import Message
from bot.model import Identity, Role
from tests.support import Harness, english


async def _person(h: Harness, user: str, role: Role = Role.MEMBER) -> int:
    reply = await h.say(user, "whoami", platform="test", platform_role=role)
    return reply.person_id


async def _notify(h: Harness, person_id: int, key: str, topic_id: int | None = None) -> None:
    await h.app.services.notifier.to_people([person_id], Message(body=(_("Welcome"),)), key=key,
                                            topic_id=topic_id)


async def _status(h: Harness) -> list[tuple[DeliveryStatus, str | None]]:
    return [(d.status, english(d.reason) or None) for d in await h.app.store.outbox.by_kind("notice")]


async def test_a_notice_is_sent_once_in_the_readers_language(h: Harness) -> None:
    alice = await _person(h, "alice")
    await h.say("alice", "settings language fr", platform="test", platform_role=Role.MEMBER)
    await _notify(h, alice, "k1")
    await _notify(h, alice, "k1")  # the same key again is ignored, not sent twice
    await h.app.run_due()
    assert [s.key for s in h.adapter.sent] == ["k1:person:" + str(alice)]
    assert h.adapter.sent[0].message.body == ("Bienvenue",)
    assert await _status(h) == [(DeliveryStatus.SENT, None)]


async def test_transient_failures_back_off_and_honour_retry_after(h: Harness) -> None:
    alice = await _person(h, "alice")
    h.adapter.failures.append(TransientDeliveryError("rate limited", retry_after=120))
    await _notify(h, alice, "k")
    await h.app.run_due()
    [row] = await h.app.store.outbox.by_kind("notice")
    assert row.status is DeliveryStatus.PENDING and english(row.reason) == "rate limited"
    assert row.not_before >= h.clock.now() + timedelta(seconds=120)
    h.clock.advance(seconds=60)
    await h.app.run_due()
    assert h.adapter.sent == []
    h.clock.advance(seconds=61)
    await h.app.run_due()
    assert len(h.adapter.sent) == 1
    assert await _status(h) == [(DeliveryStatus.SENT, None)]


async def test_gives_up_after_retrying_for_a_day_with_a_reason_and_may_be_retried(h: Harness) -> None:
    alice = await _person(h, "alice")
    h.adapter.failures.extend(TransientDeliveryError("server error 500") for _attempt in range(100))
    await _notify(h, alice, "k")
    for _round in range(23):
        await h.app.run_due()
        h.clock.advance(hours=1)
    [row] = await h.app.store.outbox.by_kind("notice")
    assert row.status is DeliveryStatus.PENDING  # 23 hours of failures: still trying
    for _round in range(3):
        h.clock.advance(hours=1)
        await h.app.run_due()
    [row] = await h.app.store.outbox.by_kind("notice")
    assert row.status is DeliveryStatus.FAILED and row.retryable
    assert english(row.reason) == "gave up after retrying for 24 hours: server error 500"
    assert row.attempt_platform == "test"


async def test_closed_dms_are_marked_and_not_retried_until_they_talk_again(h: Harness) -> None:
    alice = await _person(h, "alice")
    h.adapter.failures.append(PermanentDeliveryError("cannot send messages to this user", dm_closed=True))
    await _notify(h, alice, "first")
    await h.app.run_due()
    await _notify(h, alice, "second")
    await h.app.run_due()
    assert await _status(h) == [
        (DeliveryStatus.FAILED, "cannot send messages to this user"),
        (DeliveryStatus.SKIPPED, "direct messages closed: cannot send messages to this user"),
    ]
    assert h.adapter.sent == []
    record = await h.app.store.people.identity(Identity("test", "alice"))
    assert record is not None and record.dm_closed_reason
    await h.say("alice", "mysubs", platform="test", platform_role=Role.MEMBER)  # talks to the bot again
    await _notify(h, alice, "third")
    await h.app.run_due()
    assert len(h.adapter.sent) == 1


async def test_access_is_rechecked_when_the_delivery_goes_out(h: Harness) -> None:
    bob = await _person(h, "bob", Role.MEMBER)
    research = await h.app.store.topics.by_slug("research")
    assert research is not None
    await h.say("bob", "subscribe research", platform="test", platform_role=Role.MEMBER)
    await _notify(h, bob, "members-only", topic_id=research.id)
    await h.say("bob", "whoami", platform="test", platform_role=Role.OUTSIDER)  # left the organisation
    await h.app.run_due()
    assert h.adapter.sent == []
    assert await _status(h) == [(DeliveryStatus.SKIPPED, "the recipient may no longer see this topic")]


async def test_rows_left_in_flight_by_a_crash_are_retried_on_start(h: Harness) -> None:
    alice = await _person(h, "alice")
    await _notify(h, alice, "k")
    claimed = await h.app.store.outbox.claim_due(h.clock.now(), 10)
    assert [d.status for d in claimed] == [DeliveryStatus.SENDING]
    assert await h.app.worker.run_due() == 0  # a row being sent is not claimed twice
    assert await h.app.worker.recover() == 1
    await h.app.run_due()
    assert len(h.adapter.sent) == 1


async def test_an_adapter_bug_does_not_lose_the_row(h: Harness) -> None:
    alice = await _person(h, "alice")
    h.adapter.failures.append(RuntimeError("adapter bug"))  # type: ignore[arg-type]
    await _notify(h, alice, "k")
    await h.app.run_due()
    assert await _status(h) == [(DeliveryStatus.PENDING, "unexpected error: RuntimeError")]
    h.clock.advance(minutes=5)
    await h.app.run_due()
    assert len(h.adapter.sent) == 1


async def test_person_without_a_running_platform_is_skipped_with_a_reason(h: Harness) -> None:
    ghost = await h.app.store.people.ensure_identity(Identity("matrix", "@x:example.org"), "x", h.clock.now())
    await _notify(h, ghost.person_id, "k")
    await h.app.run_due()
    assert await _status(h) == [(DeliveryStatus.SKIPPED, "no running platform reaches this person")]
