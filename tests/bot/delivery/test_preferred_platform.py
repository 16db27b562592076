"""One copy per person on their preferred platform (issue 21, point 2): ``settings platform``, falling back to
another account when one refuses for good, pinned rows, email for public topics only, ``all``, and reports that
count people. The real app on a SQLite file, with recording adapters named after the platforms."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.errors import PermanentDeliveryError
from bot.delivery.model import DeliveryKind, DeliveryStatus
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from tests.bot.delivery.platforms import (
    CANNOT_DM,
    UNKNOWN_USER,
    Platforms,
    announce,
    dms,
    follow,
    notice,
    person,
    row,
)
from tests.support import english

# --- settings platform -------------------------------------------------------------------------------------


async def test_a_platform_without_an_account_is_refused_naming_the_accounts_and_nothing_changes(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"))
    answer = await p.h.text("U1", "settings platform discord", platform="slack")
    assert "You have no Discord account with the bot" in answer
    assert "Your accounts: Slack." in answer and "“link”" in answer
    stored = await p.h.app.store.people.get(ana)
    assert stored is not None and stored.preferred_platform is None
    assert "must be one of" in await p.h.text("U1", "settings platform pigeon", platform="slack")


async def test_the_choice_is_stored_shown_by_whoami_and_a_duplicate_answers_alike(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    first, second = await asyncio.gather(p.h.text("U1", "settings platform discord", platform="slack"),
                                         p.h.text("U1", "settings platform discord", platform="slack"))
    assert first == second and "now go through Discord" in first
    assert second == await p.h.text("U1", "settings platform discord", platform="slack")
    stored = await p.h.app.store.people.get(ana)
    assert stored is not None and stored.preferred_platform == "discord"
    assert "Direct messages: through Discord" in await p.h.text("D1", "whoami", platform="discord")
    assert "every account" in await p.h.text("U1", "settings platform all", platform="slack")
    assert "Direct messages: to every account" in await p.h.text("U1", "whoami", platform="slack")


# --- the preferred platform, and falling back ----------------------------------------------------------------


async def test_a_dm_goes_through_the_preferred_platform_only(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.say("U1", "settings platform slack", platform="slack")
    await notice(p, ana, "n1")
    assert dms(p.slack) == ["U1"] and dms(p.discord) == []
    assert await row(p, "n1") == (DeliveryStatus.SENT, "slack", "")


async def test_closed_dms_fall_back_to_the_next_account_and_the_report_shows_where_it_went(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await follow(p, ana)
    p.discord.failures.append(PermanentDeliveryError(CANNOT_DM, dm_closed=True))
    announcement = await announce(p)  # no preference: Discord first (platform order), which refuses
    assert dms(p.discord) == [] and dms(p.slack) == ["U1"]
    counted = await p.h.app.store.outbox.by_key(f"ann:{announcement}:person:{ana}")
    assert counted is not None and counted.status is DeliveryStatus.SENT and counted.sent is not None
    assert counted.sent.platform == "slack" and counted.attempts == 1  # the refusal was not counted
    discord = await p.h.app.store.people.identity(Identity("discord", "D1"))
    assert discord is not None and english(discord.dm_closed_reason) == CANNOT_DM
    counts = await p.h.app.store.delivery_reports.announcement_counts(announcement)
    assert [(c.platform, c.status, c.count) for c in counts] == [("slack", DeliveryStatus.SENT, 1)]
    report = await p.h.text("demo-admin", f"announce status {announcement}")
    assert "Delivered 1 / 1" in report and "Slack: 1 sent" in report


async def test_a_user_gone_from_one_platform_falls_back_too(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.say("D1", "settings platform discord", platform="discord")
    p.discord.failures.append(PermanentDeliveryError(UNKNOWN_USER, account_level=True))  # as the adapter maps 10013
    await notice(p, ana, "n1")
    assert await row(p, "n1") == (DeliveryStatus.SENT, "slack", "")
    await notice(p, ana, "n2")  # the gone account is not tried again until it talks to the bot
    assert dms(p.discord) == [] and dms(p.slack) == ["U1", "U1"]


async def test_only_when_every_account_refused_does_it_fail_naming_each(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    p.discord.failures.append(PermanentDeliveryError(CANNOT_DM, dm_closed=True))
    p.slack.failures.append(PermanentDeliveryError("Slack: this person's account is deactivated.", dm_closed=True))
    await notice(p, ana, "n1")
    status, platform, reason = await row(p, "n1")
    assert status is DeliveryStatus.FAILED and platform is None
    assert reason == (f"every account of this person refused it: Discord: {CANNOT_DM} and "
                      "Slack: Slack: this person's account is deactivated.")
    await notice(p, ana, "n2")
    status, _platform, reason = await row(p, "n2")
    assert status is DeliveryStatus.SKIPPED and reason.startswith("every account of this person has direct")


async def test_a_single_account_fails_as_before(p: Platforms) -> None:
    ana = await person(p, ("discord", "D1"))
    p.discord.failures.append(PermanentDeliveryError(CANNOT_DM, dm_closed=True))
    await notice(p, ana, "n1")
    assert await row(p, "n1") == (DeliveryStatus.FAILED, None, CANNOT_DM)


# --- pinned rows -------------------------------------------------------------------------------------------


async def test_a_pinned_row_goes_through_that_account_only_and_never_falls_back(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.say("U1", "settings platform slack", platform="slack")
    await notice(p, ana, "confirm", platform="discord", channel_id="D1")
    assert dms(p.discord) == ["D1"] and dms(p.slack) == []
    p.discord.failures.append(PermanentDeliveryError(CANNOT_DM, dm_closed=True))
    await notice(p, ana, "confirm-again", platform="discord")
    assert await row(p, "confirm-again") == (DeliveryStatus.FAILED, None, CANNOT_DM)
    assert dms(p.slack) == []
    await notice(p, ana, "closed", platform="discord")
    assert await row(p, "closed") == (DeliveryStatus.SKIPPED, None, f"direct messages closed: {CANNOT_DM}")
    await notice(p, ana, "elsewhere", platform="discord", channel_id="D2")
    assert await row(p, "elsewhere") == (
        DeliveryStatus.SKIPPED, None, "the Discord account it was meant for is gone, or Discord is not running")
    assert dms(p.slack) == []


# --- email carries public topics only -------------------------------------------------------------------------


async def test_email_is_never_picked_for_a_members_topic(p: Platforms) -> None:
    ana = await person(p, ("email", "ana@example.org"), ("slack", "U1"))
    await p.h.say("U1", "settings platform email", platform="slack")
    await follow(p, ana, "inner")
    await follow(p, ana, "news")
    await notice(p, ana, "members", slug="inner")
    assert await row(p, "members") == (DeliveryStatus.SENT, "slack", "")
    await notice(p, ana, "public", slug="news")
    assert await row(p, "public") == (DeliveryStatus.SENT, "email", "")
    only_mail = await person(p, ("email", "bo@example.org"))
    await follow(p, only_mail, "inner")
    await notice(p, only_mail, "mail-only", slug="inner")
    assert await row(p, "mail-only") == (
        DeliveryStatus.SKIPPED, None,
        "email carries public topics only, and no other account of this person can receive it")
    assert dms(p.email) == ["ana@example.org"]


# --- all, and reports that count people -------------------------------------------------------------------------


async def test_all_reaches_every_account_counts_one_person_and_an_edit_reaches_every_copy(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.say("U1", "settings platform all", platform="slack")
    await follow(p, ana)
    announcement = await announce(p)
    assert dms(p.discord) == ["D1"] and dms(p.slack) == ["U1"]
    counts = await p.h.app.store.delivery_reports.live_counts(announcement)
    assert [(c.status, c.count) for c in counts] == [(DeliveryStatus.SENT, 1)]
    report = await p.h.text("demo-admin", f"announce status {announcement}")
    assert "Delivered 1 / 1" in report and "And 1 more copy on their other accounts." in report
    edited = await p.h.text("demo-admin", f"announce edit {announcement} Hello again")
    assert "2 delivered copies are being updated" in edited
    await p.h.app.run_due()
    assert [(sent.platform, message.body) for sent, message in p.discord.edits + p.slack.edits] == [
        ("discord", ("Hello again",)), ("slack", ("Hello again",))]


async def test_all_takes_no_email_copy_of_a_members_topic(p: Platforms) -> None:
    ana = await person(p, ("discord", "D1"), ("email", "ana@example.org"), ("slack", "U1"))
    await p.h.say("U1", "settings platform all", platform="slack")
    await follow(p, ana, "inner")
    announcement = await announce(p, "inner")
    assert dms(p.discord) == ["D1"] and dms(p.slack) == ["U1"] and dms(p.email) == []
    copies = await p.h.app.store.outbox.of_announcement(announcement, DeliveryKind.ANNOUNCEMENT_COPY)
    assert [c.platform for c in copies] == ["slack"]


async def test_an_all_person_whose_first_account_refuses_gets_one_message_per_platform(p: Platforms) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.say("U1", "settings platform all", platform="slack")
    await follow(p, ana)
    p.discord.failures.append(PermanentDeliveryError(CANNOT_DM, dm_closed=True))
    announcement = await announce(p)
    assert dms(p.discord) == [] and dms(p.slack) == ["U1"]
    counts = await p.h.app.store.delivery_reports.live_counts(announcement)
    assert [(c.status, c.count) for c in counts] == [(DeliveryStatus.SENT, 1)]


@pytest.mark.parametrize("preference", [None, "all"])
async def test_the_live_report_counts_one_person_with_two_accounts(p: Platforms, preference: str | None) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.app.store.people.set_preferred_platform(ana, preference)
    await follow(p, ana)
    announcement = await announce(p)
    counts = await p.h.app.store.delivery_reports.live_counts(announcement)
    assert sum(c.count for c in counts) == 1
    assert "Delivered 1 / 1" in await p.h.text("demo-admin", f"announce status {announcement}")


@pytest.mark.parametrize("preference", [None, "all"])
async def test_a_person_with_two_accounts_gets_each_digest_once(p: Platforms, preference: str | None) -> None:
    ana = await person(p, ("slack", "U1"), ("discord", "D1"))
    await p.h.app.store.people.set_preferred_platform(ana, preference)
    await follow(p, ana, mode=DeliveryMode.DAILY)
    await announce(p)
    assert dms(p.slack) == [] and dms(p.discord) == []
    p.h.clock.advance(days=1)
    await p.h.app.run_due()
    digests = await p.h.app.store.outbox.by_kind(DeliveryKind.DIGEST)
    assert [(d.person_id, d.status) for d in digests] == [(ana, DeliveryStatus.SENT)]
    assert len(dms(p.slack) + dms(p.discord)) == 1
