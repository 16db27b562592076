"""Account linking across the real Slack and Discord adapters (issue 21 point 6): the real slack_bolt / slack_sdk
and discord.py clients in one app against both loopback fakes, every command and click sent as a person would.

A Slack account gives a code, the Discord account claims it, the Slack account confirms with the button in its
DM; then one announcement reaches the person once, on the platform they prefer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.interactions import ACTION_PREFIX
from adapters.discord.tokens import token_of
from bot.model import Identity
from storage.database import Database
from tests.adapters.both_platforms import (
    BothPlatforms,
    JsonDict,
    both_platforms,
    buttons,
    discord_buttons,
    discord_text,
    text_of,
)
from tests.fakes.discord_server import ALICE

CODE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b")
"""A link code as shown: 8 characters of Crockford's base32 (no I, L, O, U), hyphenated."""
NOT_VALID = "That code is not valid. Codes work once, for 10 minutes."
ANNOUNCER = "U3"

# --- the harness itself --------------------------------------------------------------------------------------


async def assert_follows(both: BothPlatforms, slug: str, following: Sequence[tuple[str, str]],
                         not_following: Sequence[tuple[str, str]] = ()) -> None:
    """Which identities' people follow the topic, read from the store (not from the replies)."""
    topic = await both.app.store.topics.by_slug(slug)
    assert topic is not None
    for platform, external_id, expected in [*((p, e, True) for p, e in following),
                                            *((p, e, False) for p, e in not_following)]:
        record = await both.app.store.people.identity(Identity(platform, external_id))
        assert record is not None
        found = await both.app.store.subscriptions.get(record.person_id, topic.id)
        assert (found is not None) is expected, (platform, external_id)


async def test_whoami_answers_a_slack_and_a_discord_person_in_one_app(tmp_path: Path) -> None:
    async with both_platforms(tmp_path) as both:
        on_slack = text_of(await both.on_slack("U1", "whoami"))
        on_discord = discord_text(await both.on_discord(ALICE, "whoami"))

        assert "Who you are" in on_slack and "slack:U1" in on_slack
        assert "Who you are" in on_discord and f"discord:{ALICE.id}" in on_discord
        slack_person = await both.person_of("slack", "U1")
        discord_person = await both.person_of("discord", ALICE.id)
        assert slack_person is not None and discord_person is not None and slack_person != discord_person


async def test_a_button_renders_with_its_command_and_a_click_runs_as_the_clicker_on_both(tmp_path: Path) -> None:
    async with both_platforms(tmp_path) as both:
        # ``forget me`` without confirming only asks, with the button that confirms: rendered on each platform.
        [erase] = buttons(await both.on_slack("U2", "forget me"))
        assert erase["value"] == "forget me confirm"
        asked = await both.on_discord(ALICE, "forget me")
        assert list(discord_buttons(asked).values()) == [ACTION_PREFIX + token_of("forget me confirm")]

        # A harmless button, clicked on each platform: ``topics`` offers "subscribe climate".
        created = await both.on_slack("U1", "topic create climate Climate")
        assert "Topic “climate” created" in text_of(created)
        listed = await both.on_slack("U2", "topics")
        [subscribe] = [b for b in buttons(listed) if b["value"] == "subscribe climate"]
        assert "You now follow “climate”" in text_of(await both.click_on_slack("U2", subscribe))

        on_discord = await both.on_discord(ALICE, "topics")
        custom_id = discord_buttons(on_discord)["Subscribe to climate"]
        assert "You now follow “climate”" in discord_text(await both.click_on_discord(ALICE, custom_id, on_discord))

        await assert_follows(both, "climate", [("slack", "U2"), ("discord", str(ALICE.id))],
                             not_following=[("slack", "U1")])


# --- linking, end to end -------------------------------------------------------------------------------------


@asynccontextmanager
async def linking(tmp_path: Path) -> AsyncIterator[BothPlatforms]:
    """Both platforms; U1 (Slack) and Alice (Discord) are the same human, U3 announces (an admin, as U1 is)."""
    async with both_platforms(tmp_path, admins=("slack:U1", f"slack:{ANNOUNCER}")) as both:
        yield both


async def code_from_slack(both: BothPlatforms, user: str = "U1") -> str:
    """``link`` on Slack: the code, read from the reply the fake recorded."""
    reply = text_of(await both.on_slack(user, "link"))
    codes: set[str] = set(CODE.findall(reply))
    assert len(codes) == 1, reply
    return codes.pop()


ASKING = re.compile(r"link (confirm|cancel) ([0-9A-HJKMNP-TV-Z]{6})")
"""A confirmation button's value: the answer and the proposal's reference."""


def answers(message: JsonDict) -> list[str]:
    """What the message's buttons answer to a link request ("confirm", "cancel"; "" for another button)."""
    return [found.group(1) if (found := ASKING.fullmatch(b["value"])) else "" for b in buttons(message)]


async def confirmation_dm(both: BothPlatforms, user: str = "U1") -> JsonDict:
    """The one message in ``user``'s Slack DM that asks to confirm a link (after the worker ran)."""
    await both.settle()
    asking = [m for m in both.slack_dms(user) if answers(m) == ["confirm", "cancel"]]
    assert len(asking) == 1, both.slack_dms(user)
    return asking[0]


def button(message: JsonDict, value: str) -> JsonDict:
    """The button whose value is ``value`` followed by the proposal's reference."""
    [found] = [b for b in buttons(message) if re.fullmatch(re.escape(value) + r" [0-9A-HJKMNP-TV-Z]{6}", b["value"])]
    return found


async def link_slack_and_discord(both: BothPlatforms) -> tuple[str, str]:
    """U1 gives a code on Slack, Alice claims it on Discord, U1 confirms with the button in its Slack DM.
    Returns what Alice's claim answered and the DM that asked U1 (which holds the merge plan)."""
    code = await code_from_slack(both)
    claimed = discord_text(await both.on_discord(ALICE, "link", {"code": code}))
    dm = await confirmation_dm(both)
    done = text_of(await both.click_on_slack("U1", button(dm, "link confirm")))
    assert "now one person" in done, done
    await both.settle()
    return claimed, text_of(dm)


async def one_person(both: BothPlatforms) -> bool:
    slack, discord = await both.person_of("slack", "U1"), await both.person_of("discord", ALICE.id)
    assert slack is not None and discord is not None
    return slack == discord


async def snapshot(db: Database, *, skip: frozenset[str] = frozenset()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but ``skip``), to show that something changed nothing."""
    catalog = {"sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
               "postgresql": "SELECT table_name AS name FROM information_schema.tables"
                             " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"}
    tables = [row["name"] for row in await db.fetch_all(catalog[db.dialect])]
    return {table: sorted((tuple(row) for row in await db.fetch_all(f'SELECT * FROM "{table}"')), key=repr)
            for table in tables if table not in skip}


async def test_a_code_from_slack_claimed_on_discord_and_confirmed_on_slack_makes_one_person(tmp_path: Path) -> None:
    async with linking(tmp_path) as both:
        code = await code_from_slack(both)
        slack_person = await both.person_of("slack", "U1")
        await both.on_discord(ALICE, "whoami")
        discord_person = await both.person_of("discord", ALICE.id)
        assert slack_person is not None and discord_person is not None and slack_person != discord_person

        claimed = discord_text(await both.on_discord(ALICE, "link", {"code": code.lower().replace("-", " ")}))
        assert "Link your accounts?" in claimed and "The Slack account that gave this code must confirm" in claimed
        assert "showing what will be joined" in claimed and "Accounts:" not in claimed  # the plan is the issuer's
        assert not await one_person(both)

        # The question goes to the account that gave the code, on Slack, with the buttons; nothing to Alice.
        dm = await confirmation_dm(both)
        assert "The Discord account “Alice” typed your link code." in text_of(dm), text_of(dm)
        assert "*Accounts*\nDiscord and Slack" in text_of(dm)  # the merge plan, before anything is merged
        assert both.discord.dm_messages_to(ALICE.id) == []

        done = text_of(await both.click_on_slack("U1", button(dm, "link confirm")))
        assert "Done: your accounts on Discord and Slack are now one person" in done
        assert await one_person(both)
        assert await both.person_of("slack", "U1") == slack_person  # the confirming side's person stays
        assert await both.app.store.people.get(discord_person) is None

        await both.settle()
        [notice] = both.discord.dm_messages_to(ALICE.id)
        assert "Your accounts on Discord and Slack are now one person" in discord_text(notice)
        assert len(both.slack_dms("U1")) == 1  # the notice went to the claimer's platform only
        # Discord's whoami now names both accounts, through the real adapter.
        mine = discord_text(await both.on_discord(ALICE, "whoami"))
        assert "slack:U1" in mine and f"discord:{ALICE.id}" in mine

        # The code worked once.
        assert NOT_VALID in discord_text(await both.on_discord(ALICE, "link", {"code": code}))


@pytest.mark.parametrize("preferred", ["discord", "slack"])
async def test_after_linking_an_announcement_is_one_dm_on_the_preferred_platform(tmp_path: Path,
                                                                                 preferred: str) -> None:
    async with linking(tmp_path) as both:
        assert "created" in text_of(await both.on_slack(ANNOUNCER, "topic create climate Climate"))
        assert "daily digest" in text_of(await both.on_slack("U1", "subscribe climate mode:daily"))
        followed = await both.on_discord(ALICE, "subscribe", {"topic": "climate", "mode": "immediate"})
        assert "immediate" in discord_text(followed)

        claimed, asked = await link_slack_and_discord(both)
        assert "*Subscriptions*\nthe more frequent delivery for climate" in asked  # immediate over daily
        assert "climate" not in claimed, "the claimer learns nothing of what the issuer follows"

        # Chosen from the other platform: the preference is the person's, not the account's.
        if preferred == "discord":
            chose = text_of(await both.on_slack("U1", "settings platform discord"))
        else:
            chose = discord_text(await both.on_discord(ALICE, "settings platform", {"platform": "slack"}))
        assert f"Your direct messages now go through {preferred.capitalize()}" in chose
        slack_before, discord_before = len(both.slack_dms("U1")), len(both.discord.dm_messages_to(ALICE.id))

        await both.on_slack(ANNOUNCER, "announce new climate The meeting moved to Thursday")
        assert "on its way" in text_of(await both.on_slack(ANNOUNCER, "announce confirm 1"))
        await both.settle()

        new_on_slack = [text_of(m) for m in both.slack_dms("U1")[slack_before:]]
        new_on_discord = [discord_text(m) for m in both.discord.dm_messages_to(ALICE.id)[discord_before:]]
        [dm] = new_on_discord if preferred == "discord" else new_on_slack  # one DM in all, on the chosen platform
        assert "The meeting moved to Thursday" in dm
        assert len(new_on_slack) + len(new_on_discord) == 1, (new_on_slack, new_on_discord)
        report = text_of(await both.on_slack(ANNOUNCER, "announce status 1"))
        assert "Delivered 1 / 1, 0 failed, 0 skipped." in report, report  # one person reached
        assert "Digests" not in report  # the merged subscription is immediate: no digest besides the DM


async def test_the_confirm_button_clicked_by_somebody_else_merges_nothing(tmp_path: Path) -> None:
    async with linking(tmp_path) as both:
        code = await code_from_slack(both)
        await both.on_discord(ALICE, "link", {"code": code})
        dm = await confirmation_dm(both)

        # The button holds no secret: it runs "link confirm <reference>" as whoever clicks, and U2 issued no code.
        refused = text_of(await both.click_on_slack("U2", button(dm, "link confirm")))
        assert "Nothing to confirm." in refused
        assert not await one_person(both)
        assert await both.person_of("slack", "U2") not in (await both.person_of("slack", "U1"),
                                                           await both.person_of("discord", ALICE.id))

        # The proposal is still U1's to answer.
        assert "now one person" in text_of(await both.click_on_slack("U1", button(dm, "link confirm")))
        assert await one_person(both)


async def test_a_wrong_code_on_discord_answers_as_an_expired_one_and_changes_nothing(tmp_path: Path) -> None:
    async with linking(tmp_path) as both:
        code = await code_from_slack(both)
        await both.on_discord(ALICE, "whoami")
        wrong = next(c for c in ("ABCD-EFGH", "HGFE-DCBA") if c != code)
        # Wrong codes are counted in link_attempts, by design (the rate limit); each interaction is claimed in
        # handled_events before it is handled (handled once, whichever process's gateway received it).
        attempts = frozenset({"link_attempts", "handled_events"})

        before = await snapshot(both.app.db, skip=attempts)
        answered_wrong = discord_text(await both.on_discord(ALICE, "link", {"code": wrong}))
        assert await snapshot(both.app.db, skip=attempts) == before

        both.clock.advance(minutes=11)
        before = await snapshot(both.app.db, skip=attempts)
        answered_expired = discord_text(await both.on_discord(ALICE, "link", {"code": code}))
        assert await snapshot(both.app.db, skip=attempts) == before

        assert NOT_VALID in answered_wrong
        assert answered_expired == answered_wrong  # nothing tells a wrong code from an expired one
        await both.settle()
        assert both.slack_dms("U1") == []  # nobody was asked to confirm
        assert not await one_person(both)
        rows = await both.app.db.fetch_all("SELECT platform, external_id FROM link_attempts")
        assert [tuple(r) for r in rows] == [("discord", str(ALICE.id))] * 2


async def test_unlink_from_discord_splits_them_and_each_gets_only_its_own_subscriptions(tmp_path: Path) -> None:
    async with linking(tmp_path) as both:
        await both.on_slack(ANNOUNCER, "topic create climate Climate")
        await both.on_slack("U1", "subscribe climate mode:immediate")
        await link_slack_and_discord(both)
        linked = await both.person_of("slack", "U1")

        split = discord_text(await both.on_discord(ALICE, "unlink", {"platform": "slack"}))
        assert "Your Slack account is now a separate person" in split
        assert not await one_person(both)
        assert await both.person_of("discord", ALICE.id) == linked  # the subscriptions stayed with Discord
        slack_now = await both.person_of("slack", "U1")
        assert slack_now is not None
        assert await both.app.store.subscriptions.of_person(slack_now) == []
        slack_before, discord_before = len(both.slack_dms("U1")), len(both.discord.dm_messages_to(ALICE.id))

        await both.on_slack(ANNOUNCER, "announce new climate First after the split")
        await both.on_slack(ANNOUNCER, "announce confirm 1")
        await both.settle()
        assert both.slack_dms("U1")[slack_before:] == []
        [first] = both.discord.dm_messages_to(ALICE.id)[discord_before:]
        assert "First after the split" in discord_text(first)

        # Two people again: the Slack one follows on its own, and each gets their own copy.
        await both.on_slack("U1", "subscribe climate mode:immediate")
        await both.on_slack(ANNOUNCER, "announce new climate Second after the split")
        await both.on_slack(ANNOUNCER, "announce confirm 2")
        await both.settle()
        [on_slack] = both.slack_dms("U1")[slack_before:]
        [second] = both.discord.dm_messages_to(ALICE.id)[discord_before + 1:]
        assert "Second after the split" in text_of(on_slack) and "Second after the split" in discord_text(second)
        report = text_of(await both.on_slack(ANNOUNCER, "announce status 2"))
        assert "Delivered 2 / 2, 0 failed, 0 skipped." in report, report
