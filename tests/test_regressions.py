"""Regression tests, each named after the defect it guards against (found in review)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from bot.announcements.model import AnnouncementState
from bot.delivery.model import SentMessage
from bot.messages import RenderedMessage
from bot.model import IdentityRecord, Role
from tests.support import Harness, RecordingAdapter, console_settings, harness


async def test_a_non_ascii_digit_is_a_usage_error_not_a_crash(h: Harness) -> None:
    assert "must be a number" in await h.text("demo-admin", "approve ²")
    assert "Topics" in await h.text("demo-admin", "topics")


async def test_a_second_decision_on_a_request_changes_nothing(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety")
    assert "Denied" in await h.text("demo-admin", "deny 1")
    assert "already denied" in await h.text("demo-admin", "approve 1")
    assert "whrd-safety" not in await h.text("demo-member", "mysubs")


async def test_an_expired_request_cannot_be_approved_before_housekeeping_runs(h: Harness) -> None:
    await h.say("demo-member", "subscribe whrd-safety")
    h.clock.advance(days=15)
    assert "already expired" in await h.text("demo-admin", "approve 1")


async def test_announcements_of_a_hidden_topic_do_not_reveal_it(h: Harness) -> None:
    await h.say("demo-admin", "announce new incident-response Server compromised, rotate keys")
    for command in ("announce status 1", "announce cancel 1", "announce confirm 1"):
        reply = await h.text("demo-coordinator", command)
        assert reply == "There is no announcement #1.", reply
    await h.say("demo-admin", "announce new elections Observers needed")
    assert "Only a coordinator of “elections”" in await h.text("demo-coordinator", "announce status 2")


async def test_creating_a_topic_with_a_hidden_topics_name_does_not_reveal_it(h: Harness) -> None:
    reply = await h.text("demo-coordinator", "topic create incident-response Something")
    assert "is taken" in reply and "exists" not in reply


async def test_command_words_cannot_be_topic_names(h: Harness) -> None:
    assert "choose another topic name" in await h.text("demo-admin", "topic create all Everything")


async def test_group_usage_lists_only_subcommands_the_caller_may_run(h: Harness) -> None:
    text = await h.text("demo-outsider", "setup")
    assert "public-channel" not in text


async def test_report_says_finished_only_after_sending(h: Harness) -> None:
    await h.say("demo-coordinator", "announce new disinformation when:“in 2h” Later")
    await h.say("demo-coordinator", "announce confirm 1")
    assert "Finished" not in await h.text("demo-coordinator", "announce status 1")


async def test_a_draft_confirmed_after_its_time_is_refused(h: Harness) -> None:
    await h.say("demo-coordinator", "announce new disinformation when:“in 1h” Webinar starts")
    h.clock.advance(hours=3)
    assert "has passed" in await h.text("demo-coordinator", "announce confirm 1")
    assert (await h.app.store.announcements.get(1)).state is AnnouncementState.DRAFT  # type: ignore[union-attr]


async def test_an_archived_topic_gets_no_more_announcements(h: Harness) -> None:
    await h.say("demo-admin", "setup topic-channel disinformation #wg")
    await h.say("demo-coordinator", "announce new disinformation when:“in 1h” Scheduled before archiving")
    await h.say("demo-coordinator", "announce confirm 1")
    await h.say("demo-coordinator", "topic archive disinformation")
    h.clock.advance(hours=2)
    await h.app.run_due()
    out = h.console_output()
    assert "[#wg]" not in out
    assert "[DM → demo-coordinator] == Announcement #1 was not sent ==" in out
    assert (await h.app.store.announcements.get(1)).state is AnnouncementState.CANCELLED  # type: ignore[union-attr]


async def test_subscribers_can_leave_an_archived_topic(h: Harness) -> None:
    await h.say("demo-member", "subscribe research")
    await h.say("demo-admin", "topic archive research")
    assert "no longer follow “research”" in await h.text("demo-member", "unsubscribe research")


async def test_an_invitation_is_used_up_by_joining(h: Harness) -> None:
    await h.say("demo-admin", "topic invite incident-response demo-outsider")
    await h.say("demo-outsider", "subscribe incident-response")
    await h.say("demo-outsider", "unsubscribe incident-response")
    assert "incident-response" not in await h.text("demo-outsider", "topics")
    assert "There is no topic" in await h.text("demo-outsider", "subscribe incident-response")


async def test_unsubscribing_removes_the_topic_from_the_next_digest(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation mode:daily")
    await h.say("demo-coordinator", "announce new disinformation Digest item")
    await h.say("demo-coordinator", "announce confirm 1")
    await h.app.run_due()
    await h.say("demo-member", "unsubscribe disinformation")
    h.clock.advance(days=1)
    await h.app.run_due()
    assert "Your daily digest" not in h.console_output()


@dataclass
class GatedAdapter(RecordingAdapter):
    """Blocks the send to one user until the test opens the gate: a send in flight during an edit."""

    blocked_user: str = "bob"
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        if recipient.identity.external_id == self.blocked_user and not self.gate.is_set():
            self.entered.set()
            await self.gate.wait()
        return await super().send_direct(recipient, message, delivery_key=delivery_key)


async def _change_while_in_flight(tmp_path: Path, text: str, change: str) -> tuple[Harness, GatedAdapter]:
    """Announce ``text`` to bob, run ``change`` while bob's copy is blocked in the adapter, then settle."""
    adapter = GatedAdapter()
    async with harness(console_settings(tmp_path), adapter=adapter) as h:
        await h.say("bob", "subscribe disinformation", platform="test", platform_role=Role.MEMBER)
        await h.say("demo-coordinator", f"announce new disinformation {text}")
        await h.say("demo-coordinator", "announce confirm 1")
        sending = asyncio.create_task(h.app.worker.run_due())
        async with asyncio.timeout(5):
            await adapter.entered.wait()
        await h.say("demo-coordinator", change)
        adapter.gate.set()
        async with asyncio.timeout(5):
            await sending
        for _ in range(6):
            h.clock.advance(minutes=5)
            await h.app.run_due()
        return h, adapter


async def test_cancel_while_a_copy_is_in_flight_still_deletes_it(tmp_path: Path) -> None:
    _h, adapter = await _change_while_in_flight(tmp_path, "Wrong date", "announce cancel 1")
    assert len(adapter.dms_to("bob")) == 1  # it had left before the cancel…
    assert [d.channel_id for d in adapter.deletes] == ["D-bob"]  # …and was removed after it landed


async def test_edit_while_a_copy_is_in_flight_still_edits_it(tmp_path: Path) -> None:
    _h, adapter = await _change_while_in_flight(tmp_path, "Meeting at 10", "announce edit 1 Meeting at 11")
    edits_to_bob = [m for sent, m in adapter.edits if sent.channel_id == "D-bob"]
    assert edits_to_bob and "Meeting at 11" in edits_to_bob[-1].plain_text()


async def test_a_topic_posting_to_an_open_channel_cannot_become_members_only(h: Harness) -> None:
    h.adapter.public_channels.add("open")
    assert "now also go to #open" in await h.text("root", "setup topic-channel disinformation #open", platform="test")
    refused = await h.text("demo-admin", "topic edit disinformation visibility:members")
    assert "can be read by everyone" in refused
    topic = await h.app.store.topics.by_slug("disinformation")
    assert topic is not None and topic.visibility.value == "public"
    assert "can be read by everyone" in await h.text(
        "root", "setup topic-channel research #open", platform="test")
