"""``link confirm`` and ``link cancel``: only the identity that issued the code answers, within 10 minutes, and a
confirmation merges once however many arrive."""

from __future__ import annotations

import asyncio

from bot.audit import AuditAction
from bot.model import Identity
from tests.bot.linking.helpers import NOT_VALID, NOTHING, claim, issue, person_of, text
from tests.support import Harness

WAIT = 30.0


async def _proposed(h: Harness) -> tuple[int, int]:
    """ana (console) issued, ana-t (test) claimed; returns (issuer's person, claimer's person)."""
    await h.say("ana-t", "subscribe disinformation", platform="test")
    code = await issue(h, "ana", "console")
    assert (await claim(h, "ana-t", "test", code)).startswith("Link your accounts?")
    return await person_of(h, "console", "ana"), await person_of(h, "test", "ana-t")


async def test_confirm_joins_the_claimer_into_the_issuer_and_tells_the_claimer(h: Harness) -> None:
    issuer, claimer = await _proposed(h)
    done = await text(h, "ana", "link confirm", "console")
    assert done == "Done: your accounts on Console and test are now one person. “unlink <platform>” splits them again."
    assert await person_of(h, "test", "ana-t") == issuer
    assert await h.app.store.people.get(claimer) is None
    followers = await h.app.db.fetch_all("SELECT s.person_id FROM subscriptions s JOIN topics t ON t.id = s.topic_id"
                                         " WHERE t.slug = 'disinformation'")
    assert issuer in {r["person_id"] for r in followers} and claimer not in {r["person_id"] for r in followers}

    notice = await h.app.db.fetch_all("SELECT * FROM deliveries WHERE dedupe_key LIKE 'link:%:linked:%'")
    assert [(r["person_id"], r["platform"]) for r in notice] == [(issuer, "test")], "pinned to the claimer's platform"
    await h.app.run_due()
    (dm,) = h.adapter.dms_to("ana-t")
    assert "are now one person" in dm.plain_text()

    (entry,) = [e for e in await h.app.store.audit.recent(50) if e.action is AuditAction.PERSON_LINK]
    assert (entry.actor_id, entry.subject, entry.before, entry.after) == (issuer, f"person:{issuer}", "console",
                                                                          "console+test")


async def test_only_the_issuing_identity_can_confirm(h: Harness) -> None:
    _issuer, claimer = await _proposed(h)
    assert await text(h, "ana-t", "link confirm", "test") == NOTHING, "the claimer cannot confirm for the issuer"
    assert await text(h, "zed", "link confirm", "test") == NOTHING
    assert await text(h, "zed", "link cancel", "test") == NOTHING, "a third account cancels nothing"
    assert await person_of(h, "test", "ana-t") == claimer
    assert (await text(h, "ana", "link confirm", "console")).startswith("Done:")


async def test_a_proposal_older_than_ten_minutes_cannot_be_confirmed(h: Harness) -> None:
    _issuer, claimer = await _proposed(h)
    h.clock.advance(minutes=10)
    reply = await h.say("ana", "link confirm", platform="console")
    assert reply.message.is_error and "expired" in reply.message.plain_text()
    assert await person_of(h, "test", "ana-t") == claimer
    await h.app.run_due()
    assert "Someone typed your link code" not in h.console_output(), "the request is not sent late either"


async def test_cancel_keeps_the_accounts_apart_and_the_code_dead(h: Harness) -> None:
    issuer, claimer = await _proposed(h)
    assert await text(h, "ana", "link cancel", "console") == ("Cancelled: your accounts stay separate, and the code "
                                                              "no longer works.")
    assert await text(h, "ana", "link confirm", "console") == NOTHING
    assert (await person_of(h, "console", "ana"), await person_of(h, "test", "ana-t")) == (issuer, claimer)
    assert await h.app.db.fetch_all("SELECT * FROM link_codes") == []


async def test_a_second_confirm_finds_nothing_whether_at_once_or_in_a_row(h: Harness) -> None:
    await _proposed(h)
    in_a_row = [await text(h, "ana", "link confirm", "console"), await text(h, "ana", "link confirm", "console")]

    code = await issue(h, "bo", "console")
    assert (await claim(h, "bo-t", "test", code)).startswith("Link your accounts?")
    async with asyncio.timeout(WAIT):
        at_once = await asyncio.gather(*(h.say("bo", "link confirm", platform="console") for _ in range(2)))
    assert sorted(r.message.plain_text().split(":")[0] for r in at_once) == \
        sorted(t.split(":")[0] for t in in_a_row) == ["Done", NOTHING]
    links = [e for e in await h.app.store.audit.recent(50) if e.action is AuditAction.PERSON_LINK]
    assert len(links) == 2, "one merge per proposal"
    assert await person_of(h, "test", "bo-t") == await person_of(h, "console", "bo")


async def test_the_code_is_dead_once_used_and_the_old_claimer_identity_cannot_reuse_it(h: Harness) -> None:
    code = await issue(h, "ana", "console")
    await claim(h, "ana-t", "test", code)
    await text(h, "ana", "link confirm", "console")
    assert await claim(h, "zed", "test", code) == NOT_VALID
    assert await h.app.store.people.identity(Identity("test", "zed")) is not None


async def test_the_claimer_backs_out_with_link_cancel_and_the_issuer_finds_nothing_to_confirm(h: Harness) -> None:
    """Consent phishing: someone talked into typing a stranger's code withdraws the proposal before the stranger
    confirms; the claim reply tells them how."""
    await h.say("ana-t", "whoami", platform="test")
    code = await issue(h, "ana", "console")
    claimed = await claim(h, "ana-t", "test", code)
    assert "type “link cancel” now" in claimed, claimed
    issuer, claimer = await person_of(h, "console", "ana"), await person_of(h, "test", "ana-t")
    assert await text(h, "ana-t", "link cancel", "test") == ("Cancelled: your accounts stay separate, and the code "
                                                             "no longer works.")
    assert await text(h, "ana", "link confirm", "console") == NOTHING
    assert await text(h, "ana-t", "link cancel", "test") == NOTHING, "nothing left to withdraw"
    assert (await person_of(h, "console", "ana"), await person_of(h, "test", "ana-t")) == (issuer, claimer)
    assert await h.app.db.fetch_all("SELECT * FROM link_codes") == []
    assert await claim(h, "ana-t", "test", code) == NOT_VALID, "the code is dead too"
