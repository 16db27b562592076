"""``link`` and ``link <code>``: the code's form, its single use and lifetime, and answers that never tell whether
an identity or person exists."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from bot.linking.codes import ALPHABET, canonical, code_hash, new_code, shown
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility
from tests.bot.linking.helpers import NOT_VALID, SAME, WARNING, claim, issue, person_of, text
from tests.bot.privacy.helpers import table_names
from tests.support import Harness


def test_a_code_is_read_whatever_its_case_hyphen_spaces_or_look_alikes() -> None:
    code = new_code()
    assert len(code) == 8 and set(code) <= set(ALPHABET)
    assert shown("ABCDEFGH") == "ABCD-EFGH"
    for typed in ("ABCD-EFGH", "abcd-efgh", "abcdefgh", " abcd efgh ", "Abcd – efgh"):
        assert canonical(typed) == "ABCDEFGH", typed
    assert canonical("1O0L-IAAA") == "10011AAA"  # o, i and l are the digits they look like
    for wrong in ("ABCD-EFG", "ABCD-EFGHJ", "ABCD-EFGU", "", "confirm"):
        assert canonical(wrong) is None, wrong
    assert code_hash("ABCDEFGH") != code_hash("ABCDEFGJ")
    assert "ABCDEFGH" not in code_hash("ABCDEFGH")


async def test_the_code_is_stored_only_as_a_hash(h: Harness) -> None:
    code = await issue(h, "ana", "console")
    plain = code.replace("-", "")
    tables = await table_names(h.app.db)
    for table in tables:
        for row in await h.app.db.fetch_all(f'SELECT * FROM "{table}"'):
            for value in row:
                assert not (isinstance(value, str) and (plain in value or code in value)), (table, value)
    (row,) = await h.app.db.fetch_all("SELECT code_hash, state FROM link_codes")
    assert row["code_hash"] == code_hash(plain) and row["state"] == "issued"
    assert row["code_hash"] != hashlib.sha256(plain.encode()).hexdigest(), "not a bare hash of the code either"


async def test_issuing_says_what_to_do(h: Harness) -> None:
    reply = await text(h, "ana", "link", "console")
    assert "type “link " in reply and "within 10 minutes" in reply and "confirm here" in reply


@pytest.mark.parametrize("spelling", [str.lower, lambda code: code.replace("-", ""),
                                      lambda code: code.replace("-", " ").lower()])
async def test_any_spelling_of_the_code_claims_it(h: Harness, spelling: Callable[[str], str]) -> None:
    code = await issue(h, "ana", "console")
    typed = spelling(code)
    assert (await claim(h, "ana-t", "test", typed)).startswith("Link your accounts?")


async def test_unknown_expired_replaced_used_and_claimed_codes_get_the_same_answer(h: Harness) -> None:
    assert await claim(h, "zed", "test", "AAAA-AAAA") == NOT_VALID  # unknown (and shaped right)
    assert await claim(h, "zed", "test", "not a code") == NOT_VALID  # not even shaped like one

    expired = await issue(h, "ana", "console")
    h.clock.advance(minutes=10)
    assert await claim(h, "ana-t", "test", expired) == NOT_VALID

    replaced = await issue(h, "ana", "console")
    fresh = await issue(h, "ana", "console")
    assert await claim(h, "ana-t", "test", replaced) == NOT_VALID
    assert (await claim(h, "ana-t", "test", fresh)).startswith("Link your accounts?")
    assert await claim(h, "bo", "test", fresh) == NOT_VALID, "already proposed by someone else"

    assert (await text(h, "ana", "link confirm", "console")).startswith("Done:")
    assert await claim(h, "bo", "test", fresh) == NOT_VALID, "used"
    assert await person_of(h, "test", "bo") != await person_of(h, "console", "ana")


async def test_a_code_from_the_same_person_says_so_and_changes_nothing(h: Harness) -> None:
    code = await issue(h, "ana", "console")
    assert await claim(h, "ana", "console", code) == SAME
    rows = await h.app.db.fetch_all("SELECT state FROM link_codes")
    assert [r["state"] for r in rows] == ["issued"]
    assert await h.app.db.fetch_all("SELECT * FROM link_attempts") == []


async def test_a_claim_asks_the_issuing_identity_on_its_own_platform(h: Harness) -> None:
    code = await issue(h, "ana", "console")
    reply = await claim(h, "ana-t", "test", code)
    assert "The Console account that gave this code must confirm within 10 minutes" in reply
    assert "showing what will be joined" in reply and "Accounts:" not in reply, "the plan is the issuer's to see"
    (row,) = await h.app.db.fetch_all("SELECT * FROM deliveries WHERE dedupe_key LIKE 'link:%'")
    assert row["person_id"] == await person_of(h, "console", "ana") and row["platform"] == "console"
    assert row["channel_id"] == "ana", "the very account that gave the code"
    assert row["expires_at"] is not None
    (proposal,) = await h.app.db.fetch_all("SELECT reference FROM link_codes")
    await h.app.run_due()
    out = h.console_output()
    assert "The test account “ana-t” typed your link code." in out
    assert "Accounts: Console and test" in out, "the issuer sees the plan before confirming"
    assert f"[Confirm] /link confirm {proposal['reference']}" in out
    assert f"[Cancel] /link cancel {proposal['reference']}" in out
    assert h.adapter.sent == [], "nothing goes to the claimer's platform before the confirmation"


async def test_a_wrong_code_tells_nothing_about_who_issued_codes(h: Harness) -> None:
    """A wrong code names nobody: the answer is the same whoever issued codes, and nothing about them is read."""
    await issue(h, "ana", "console")
    first = await claim(h, "zed", "test", "ZZZZ-ZZZZ")
    await h.say("ana", "forget me confirm", platform="console")
    second = await claim(h, "zed", "test", "ZZZZ-ZZZZ")
    assert first == second == NOT_VALID
    assert await h.app.store.people.identity(Identity("console", "ana")) is None
    assert await h.app.db.fetch_all("SELECT * FROM link_codes") == [], "an erasure takes the codes along"


async def test_an_erasure_takes_the_wrong_attempts_along(h: Harness) -> None:
    await claim(h, "zed", "test", "ZZZZ-ZZZZ")
    assert len(await h.app.db.fetch_all("SELECT * FROM link_attempts")) == 1
    await h.say("zed", "forget me confirm", platform="test")
    assert await h.app.db.fetch_all("SELECT * FROM link_attempts") == []


async def test_the_claim_reply_names_nothing_of_the_issuer_s_topics_or_rows(h: Harness) -> None:
    """A leaked code must not tell its holder what the issuer follows: with a plan that names the issuer's private
    topic (both follow it, the claimer more often), the claim reply is the same lines as for an empty plan.
    The issuer sees the plan before confirming (public topics by name, the others counted), and the merged person
    all of it in the notice after."""
    now = h.clock.now()
    await h.say("ana", "whoami", platform="console")
    await h.say("ana-t", "whoami", platform="test")
    issuer, claimer = await person_of(h, "console", "ana"), await person_of(h, "test", "ana-t")
    store = h.app.store
    secret = await store.topics.create("zsecret", "Zorblax plans", "", Visibility.PRIVATE, Policy.OPEN, now)
    disinformation = await store.topics.by_slug("disinformation")
    assert disinformation is not None
    for topic in (secret, disinformation):
        await store.subscriptions.put(issuer, topic.id, DeliveryMode.DAILY, now)
        await store.subscriptions.put(claimer, topic.id, DeliveryMode.IMMEDIATE, now)

    code = await issue(h, "ana", "console")
    reply = await claim(h, "ana-t", "test", code)
    assert reply == ("Link your accounts?\nThe Console account that gave this code must confirm within 10 minutes: a "
                     "message with a Confirm button went to it, showing what will be joined. Until then nothing "
                     "changes.\n" + WARNING)
    assert not any(word in reply for word in ("zsecret", "Zorblax", "disinformation", "Subscriptions"))

    await h.app.run_due()
    asked = h.console_output()
    assert "the more frequent delivery for disinformation and 1 more" in asked, "the issuer sees the public one"
    assert "zsecret" not in asked, "and only counts the private one before the merge"
    assert (await text(h, "ana", "link confirm", "console")).startswith("Done:")
    await h.app.run_due()
    (notice,) = h.adapter.dms_to("ana-t")
    assert "are now one person" in notice.plain_text() and "zsecret" in notice.plain_text(), "told after the merge"
