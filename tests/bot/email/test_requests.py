"""The subscribe form's side: one confirmation mail per request, limits that store and send nothing, bad input
refused with a translated error and nothing stored."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.email.address import mask
from bot.email.model import EmailConfig
from bot.errors import UserError
from bot.i18n import _
from bot.subscriptions.model import DeliveryMode
from tests.bot.email.support import count, followers, mails, person_of, topic
from tests.support import Harness

ADDRESS = "ann@example.org"
DAILY = DeliveryMode.DAILY


async def test_a_request_mails_one_confirmation_in_the_language_chosen(h: Harness) -> None:
    service = followers(h)
    await service.request(" Ann@Example.ORG ", "disinformation", DAILY, "fr", "europe/paris", "client-1")
    assert await count(h, "deliveries") == 1
    sent = await mails(h)
    assert len(sent) == 1
    mail = sent[0]
    assert mail.to == ADDRESS and mail.language == "fr"
    assert "Countering disinformation" in mail.text and "48" in mail.text
    record = await h.app.store.people.identity(__import__("bot.model").model.Identity("email", ADDRESS))
    assert record is not None and record.platform_role.name == "OUTSIDER" and record.display_name == mask(ADDRESS)
    person = await h.app.store.people.get(record.person_id)
    assert person is not None and person.language == "fr" and person.timezone == "Europe/Paris"
    confirmation = await service.confirmation(mail.confirm_token())
    assert confirmation is not None
    assert (confirmation.topic_slug, confirmation.address, confirmation.mode) == \
        ("disinformation", "a•••@example.org", DAILY)
    # Nothing else reaches an unconfirmed address: it follows nothing.
    assert await h.app.store.subscriptions.of_person(record.person_id) == []


async def test_an_address_that_follows_already_gets_the_manage_link_instead(h: Harness) -> None:
    service = followers(h)
    await service.request(ADDRESS, "disinformation", DAILY, "fr", "UTC", "client-1")
    assert await service.confirm((await mails(h))[0].confirm_token()) is not None
    h.clock.advance(minutes=11)
    await service.request(ADDRESS, "disinformation", DeliveryMode.WEEKLY, "en", "UTC", "client-1")
    again = (await mails(h))[1]
    already = h.app.services.translator.render(_("To change or stop it: {url}", url="URL"), "fr").split("URL")[0]
    assert already in again.text and "/email/confirm/" not in again.text
    assert "résumé quotidien" in again.text  # the mode as the follower reads it (their language: fr)
    key = again.manage_key()
    view = await service.manage(key)
    assert view is not None and view.followed[0].mode is DAILY  # the request changed nothing


async def test_one_mail_per_address_in_ten_minutes_and_five_a_day(h: Harness) -> None:
    service = followers(h)
    for minute in range(12):
        await service.request(ADDRESS, "disinformation", DAILY, "en", "UTC", f"client-{minute}")
        h.clock.advance(minutes=1)
    assert len(await mails(h)) == 2  # at 0 and at 10 minutes
    assert await count(h, "email_signups") == 2
    for _later in range(5):
        h.clock.advance(minutes=10)
        await service.request(ADDRESS, "elections", DAILY, "en", "UTC", "another")
    assert len(await mails(h)) == 5  # five in a day, then nothing stored or sent
    assert await count(h, "email_signups") == 5
    h.clock.advance(days=1)
    await service.request(ADDRESS, "elections", DAILY, "en", "UTC", "another")
    assert len(await mails(h)) == 6


async def test_twenty_requests_per_client_an_hour(h: Harness) -> None:
    service = followers(h)
    for n in range(21):
        await service.request(f"p{n}@example.org", "disinformation", DAILY, "en", "UTC", "203.0.113.9")
    assert len(await mails(h)) == 20
    assert await person_of(h, "p20@example.org") is None  # nothing stored for the one over the limit
    await service.request("p20@example.org", "disinformation", DAILY, "en", "UTC", "198.51.100.1")
    assert len(await mails(h)) == 21
    h.clock.advance(hours=1)
    await service.request("p21@example.org", "disinformation", DAILY, "en", "UTC", "203.0.113.9")
    assert len(await mails(h)) == 22
    # Only salted hashes of the client and the address are kept for the limits.
    rows = await h.app.store.db.fetch_all("SELECT subject FROM email_requests")
    assert rows and all("203.0.113.9" not in row[0] and "@" not in row[0] and len(row[0]) == 64 for row in rows)


async def test_limits_hold_for_requests_at_once(h: Harness) -> None:
    service = followers(h)
    await asyncio.wait_for(asyncio.gather(*(
        service.request(ADDRESS, "disinformation", DAILY, "en", "UTC", f"c{n}") for n in range(5))), timeout=10)
    assert len(await mails(h)) == 1
    assert await count(h, "email_signups") == 1


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("address", "not an address", "That is not an email address."),
    ("address", "a@b", "That is not an email address."),
    ("address", "<a@example.org>", "That is not an email address."),
    ("topic", "no-such-topic", "There is no public topic “no-such-topic”."),
    ("mode", "channel", "Choose how to receive it"),
    ("mode", "hourly", "Choose how to receive it"),
    ("language", "xx", "“xx” is not available."),
    ("zone", "Mars/Olympus", "Unknown time zone “Mars/Olympus”."),
])
async def test_bad_input_is_refused_in_words_and_stores_nothing(h: Harness, field: str, value: str,
                                                                expected: str) -> None:
    values = {"address": ADDRESS, "topic": "disinformation", "mode": "daily", "language": "fr",
              "zone": "UTC"} | {field: value}
    people = await h.app.store.people.count()
    with pytest.raises(UserError) as refused:
        await followers(h).request(values["address"], values["topic"], values["mode"], values["language"],
                                   values["zone"], "client")
    translator = h.app.services.translator
    assert expected in translator.render(refused.value.message, "en")
    assert await h.app.store.people.count() == people
    assert await count(h, "email_signups") == 0 and await count(h, "email_requests") == 0
    assert await count(h, "deliveries") == 0


async def test_a_refusal_is_translated(h: Harness) -> None:
    with pytest.raises(UserError) as refused:
        await followers(h).request(ADDRESS, "disinformation", DAILY, "fr", "Mars/Olympus", "client")
    assert "Fuseau horaire inconnu" in h.app.services.translator.render(refused.value.message, "fr")


async def test_hidden_and_archived_topics_are_refused_like_missing_ones(h: Harness) -> None:
    await h.say("demo-admin", "topic archive elections")
    assert (await topic(h, "elections")).archived
    service = followers(h)
    answers = {}
    for slug in ("research", "incident-response", "elections", "no-such-topic"):
        with pytest.raises(UserError) as refused:
            await service.request(ADDRESS, slug, DAILY, "en", "UTC", "client")
        answers[slug] = h.app.services.translator.render(refused.value.message, "en").replace(slug, "X")
    assert len(set(answers.values())) == 1, answers
    assert await person_of(h, ADDRESS) is None and await count(h, "deliveries") == 0


async def test_no_address_or_token_is_logged(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("bot", "storage", "app"):  # the project's own log lines (aiosqlite's debug lines echo any SQL)
        caplog.set_level(logging.DEBUG, logger=name)
    service = followers(h, EmailConfig(address_daily=1))
    await service.request(ADDRESS, "disinformation", DAILY, "en", "UTC", "client")
    await service.request(ADDRESS, "disinformation", DAILY, "en", "UTC", "client")  # over the limit: logged
    token = (await mails(h))[0].confirm_token()
    await service.confirm(token)
    h.clock.advance(days=3)
    await service.prune(h.clock.now())
    assert any("rate limit" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        if record.name.split(".")[0] in ("aiosqlite", "asyncio"):
            continue
        assert ADDRESS not in record.getMessage() and token not in record.getMessage()


async def test_a_request_after_everything_was_pruned_still_gets_its_mail(h: Harness) -> None:
    """Signup ids are never reused: the confirmation mail's outbox key names the signup, and a reused id made a
    later request's mail a duplicate of an old one — silently never sent while the page said it was coming."""
    service = followers(h)
    await service.request(ADDRESS, "disinformation", DAILY, "en", "UTC", "client-1")
    [first] = await mails(h)
    assert await service.confirm(first.confirm_token()) is not None
    key = await service.key_for(ADDRESS)
    assert key is not None and await service.unsubscribe_all(key)
    h.clock.advance(days=3)
    await service.prune(h.clock.now())
    assert await count(h, "email_signups") == 0
    await service.request(ADDRESS, "elections", DAILY, "en", "UTC", "client-1")
    sent = await mails(h)
    assert len(sent) == 2 and sent[1].confirm_token() != first.confirm_token()


@pytest.mark.parametrize(("first", "second"), [("ann+one@example.org", "ann+two@example.org"),
                                               ("a.n.n@gmail.com", "ann+x@googlemail.com")])
async def test_tags_and_dots_do_not_make_a_new_mailbox_for_the_limits(h: Harness, first: str, second: str) -> None:
    service = followers(h)
    await service.request(first, "disinformation", DAILY, "en", "UTC", "client-1")
    await service.request(second, "disinformation", DAILY, "en", "UTC", "client-2")
    assert len(await mails(h)) == 1  # one inbox: one mail per ten minutes


async def test_the_whole_site_sends_at_most_site_hourly_confirmations(h: Harness) -> None:
    service = followers(h, EmailConfig(site_hourly=3))
    for n in range(5):
        await service.request(f"reader{n}@example.org", "disinformation", DAILY, "en", "UTC", f"client-{n}")
    assert len(await mails(h)) == 3
    h.clock.advance(minutes=61)
    await service.request("late@example.org", "disinformation", DAILY, "en", "UTC", "client-9")
    assert len(await mails(h)) == 4


async def test_a_stranger_cannot_change_a_follower_s_language_or_zone(h: Harness) -> None:
    service = followers(h)
    await service.request(ADDRESS, "disinformation", DAILY, "fr", "Europe/Paris", "client-1")
    [mail] = await mails(h)
    assert await service.confirm(mail.confirm_token()) is not None
    key = await service.key_for(ADDRESS)
    assert key is not None and await service.unsubscribe_all(key)  # follows nothing now, but confirmed once
    h.clock.advance(minutes=11)
    await service.request(ADDRESS, "elections", DAILY, "ar", "Asia/Tokyo", "stranger")
    person = await h.app.store.people.get(await person_of(h, ADDRESS) or 0)
    assert person is not None and (person.language, person.timezone) == ("fr", "Europe/Paris")
