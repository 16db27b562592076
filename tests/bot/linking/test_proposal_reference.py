"""What the issuer's confirmation DM shows and acts on (review of issue 21): its buttons carry the proposal's
reference, so they confirm or cancel that claim and never a later one; it names the claiming account and, before
the merge, only the public topics of the plan; and it reaches the very account that gave the code (as the notice
after the merge reaches the very account that claimed)."""

from __future__ import annotations

import re

from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Policy, Visibility
from tests.bot.linking.helpers import NOTHING, claim, issue, person_of, text
from tests.support import Harness

BUTTONS = re.compile(r"\[(Confirm|Cancel)\] /(link (?:confirm|cancel) [0-9A-Z]{6})\b")
REPLACED = ("That request was replaced by a newer one: this button no longer does anything. Nothing was joined.")


async def asked(h: Harness) -> dict[str, str]:
    """The buttons of the newest confirmation DM on the console, by label: the lines they run."""
    await h.app.run_due()
    found = dict(BUTTONS.findall(h.console_output().rsplit("Link your accounts?", 1)[-1]))
    assert set(found) == {"Confirm", "Cancel"}, h.console_output()
    return found


async def test_the_confirm_button_of_an_earlier_request_does_not_confirm_a_later_one(h: Harness) -> None:
    """ana asks for a second code before answering the first DM and the second code leaks to eve: Confirm on the
    first DM (about ana's own account) must not merge eve."""
    await h.say("ana-t", "whoami", platform="test")
    first = await asked_after_claim(h, "ana-t")
    second = await asked_after_claim(h, "eve")
    assert first["Confirm"] != second["Confirm"]

    assert await text(h, "ana", first["Confirm"], "console") == REPLACED
    assert await text(h, "ana", first["Cancel"], "console") == REPLACED, "nor cancel it"
    ana = await person_of(h, "console", "ana")
    assert ana not in (await person_of(h, "test", "eve"), await person_of(h, "test", "ana-t"))

    assert await text(h, "ana", second["Cancel"], "console") == ("Cancelled: your accounts stay separate, and the "
                                                                 "code no longer works.")
    assert await text(h, "ana", second["Confirm"], "console") == NOTHING
    assert await person_of(h, "test", "eve") != ana


async def asked_after_claim(h: Harness, claimer: str) -> dict[str, str]:
    code = await issue(h, "ana", "console")
    assert (await claim(h, claimer, "test", code)).startswith("Link your accounts?")
    return await asked(h)


async def test_the_button_confirms_its_own_request_and_typed_confirm_still_works(h: Harness) -> None:
    buttons = await asked_after_claim(h, "ana-t")
    assert (await text(h, "ana", buttons["Confirm"].lower(), "console")).startswith("Done:"), "any case"
    assert await person_of(h, "test", "ana-t") == await person_of(h, "console", "ana")

    await issue(h, "ana", "console")
    assert (await claim(h, "bo", "test", await issue(h, "ana", "console"))).startswith("Link your accounts?")
    assert (await text(h, "ana", "link confirm", "console")).startswith("Done:"), "typed, without a reference"


async def test_the_claimer_cancels_its_claim_typed_or_with_the_reference(h: Harness) -> None:
    buttons = await asked_after_claim(h, "ana-t")
    reference = buttons["Cancel"].split()[-1]
    other = "AAAAAA" if reference != "AAAAAA" else "BBBBBB"
    assert await text(h, "ana-t", f"link cancel {other}", "test") == NOTHING, "another reference withdraws nothing"
    assert (await text(h, "ana-t", f"link cancel {reference}", "test")).startswith("Cancelled:")
    assert await text(h, "ana", buttons["Confirm"], "console") == NOTHING
    assert await h.app.db.fetch_all("SELECT * FROM link_codes") == []


async def test_the_request_names_the_claiming_account_and_only_its_public_topics(h: Harness) -> None:
    """An outsider hands out its code ("type this to join"): before anything is merged it must not learn the
    claimer's private or members' topics; it sees how many there are."""
    now = h.clock.now()
    await h.say("vic", "whoami", platform="test")
    victim = await person_of(h, "test", "vic")
    store = h.app.store
    for slug, visibility in (("whistleblower-cases", Visibility.PRIVATE), ("staff-only", Visibility.MEMBERS),
                             ("open-data", Visibility.PUBLIC)):
        topic = await store.topics.create(slug, slug, "", visibility, Policy.OPEN, now)
        await store.subscriptions.put(victim, topic.id, DeliveryMode.IMMEDIATE, now)
    code = await issue(h, "mallory", "console")
    assert (await claim(h, "vic", "test", code)).startswith("Link your accounts?")
    await h.app.run_due()
    shown = h.console_output()
    assert "The test account “vic” typed your link code." in shown
    assert "adds open-data and 2 more" in shown, shown
    assert "whistleblower-cases" not in shown and "staff-only" not in shown
    (row,) = await h.app.db.fetch_all("SELECT payload FROM deliveries WHERE dedupe_key LIKE 'link:%:proposed:%'")
    assert "whistleblower-cases" not in row["payload"] and "staff-only" not in row["payload"]
    assert (await text(h, "mallory", "link cancel", "console")).startswith("Cancelled:")
    assert await person_of(h, "test", "vic") == victim


async def test_the_notices_reach_the_very_accounts_that_gave_and_claimed_the_code(h: Harness) -> None:
    """A person with two accounts on one platform: the request goes to the account that gave the code, and the
    notice after the merge to the account that claimed it, not to whichever of the two comes first."""
    for user in ("i-a", "i-b", "c-a", "c-b"):
        await h.say(user, "whoami", platform="test")
    for first, second in (("i-a", "i-b"), ("c-a", "c-b")):
        await h.app.db.execute("UPDATE identities SET person_id = ? WHERE platform = 'test' AND external_id = ?",
                               (await person_of(h, "test", first), second))
    code = await issue(h, "i-b", "test")
    assert (await claim(h, "ana", "console", code)).startswith("Link your accounts?")
    await h.app.run_due()
    assert h.adapter.dms_to("i-a") == [] and len(h.adapter.dms_to("i-b")) == 1
    assert (await text(h, "i-b", "link confirm", "test")).startswith("Done:")
    assert await person_of(h, "console", "ana") == await person_of(h, "test", "i-a")

    code = await issue(h, "ana", "console")
    assert (await claim(h, "c-b", "test", code)).startswith("Link your accounts?")
    assert (await text(h, "ana", "link confirm", "console")).startswith("Done:")
    await h.app.run_due()
    assert h.adapter.dms_to("c-a") == []
    (notice,) = h.adapter.dms_to("c-b")
    assert "are now one person" in notice.plain_text()
    assert await h.app.store.people.identity(Identity("test", "c-a")) is not None
