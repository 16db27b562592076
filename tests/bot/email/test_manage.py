"""The manage and unsubscribe links, removing an address, and bounce health."""

from __future__ import annotations

import pytest

from bot.email.health import EmailHealth
from bot.email.service import EmailFollowers
from bot.errors import UserError
from bot.model import Identity
from bot.subscriptions.model import DeliveryMode
from tests.bot.email.support import count, followers, mails, person_of
from tests.support import Harness

ADDRESS = "ann@example.org"
DAILY, WEEKLY = DeliveryMode.DAILY, DeliveryMode.WEEKLY


async def _follower(h: Harness) -> tuple[EmailFollowers, str]:
    """A confirmed follower of disinformation (daily); returns the service and their key."""
    service = followers(h)
    await service.request(ADDRESS, "disinformation", DAILY, "fr", "Europe/Paris", "client")
    assert await service.confirm((await mails(h))[-1].confirm_token()) is not None
    key = await h.app.store.email.key_of(ADDRESS)
    assert key is not None
    return service, key


async def test_the_manage_page_shows_what_is_followed_and_what_could_be(h: Harness) -> None:
    service, key = await _follower(h)
    view = await service.manage(key)
    assert view is not None
    assert (view.address, view.language, view.zone, view.paused) == (ADDRESS, "fr", "Europe/Paris", False)
    assert [(t.slug, t.mode) for t in view.followed] == [("disinformation", DAILY)]
    assert [(t.slug, t.mode) for t in view.available] == [("elections", None)]  # public only
    assert await service.manage("A" * 32) is None and await service.manage("short") is None


async def test_update_changes_modes_language_and_zone(h: Harness) -> None:
    service, key = await _follower(h)
    assert await service.update(key, language="es", zone="america/sao_paulo",
                                modes={"disinformation": WEEKLY, "elections": DeliveryMode.IMMEDIATE}, resume=False)
    view = await service.manage(key)
    assert view is not None and (view.language, view.zone) == ("es", "America/Sao_Paulo")
    assert [(t.slug, t.mode) for t in view.followed] == [("disinformation", WEEKLY),
                                                         ("elections", DeliveryMode.IMMEDIATE)]
    assert await service.update(key, language=None, zone=None, modes={"disinformation": None}, resume=False)
    view = await service.manage(key)
    assert view is not None and [t.slug for t in view.followed] == ["elections"]
    assert [t.slug for t in view.available] == ["disinformation"]
    assert not await service.update("B" * 32, language="en", zone=None, modes={}, resume=False)


@pytest.mark.parametrize(("change", "expected"), [
    ({"language": "xx"}, "is not available"),
    ({"zone": "Mars/Olympus"}, "Unknown time zone"),
    ({"modes": {"research": DAILY}}, "There is no topic “research”"),
    ({"modes": {"elections": DeliveryMode.CHANNEL}}, "Choose how to receive it"),
])
async def test_a_bad_update_changes_nothing(h: Harness, change: dict[str, object], expected: str) -> None:
    service, key = await _follower(h)
    before = await service.manage(key)
    values: dict[str, object] = {"language": "en", "zone": "UTC",
                                 "modes": {"disinformation": WEEKLY, "elections": DAILY}} | change
    modes = values["modes"]
    assert isinstance(modes, dict)
    with pytest.raises(UserError) as refused:
        await service.update(key, language=str(values["language"]), zone=str(values["zone"]),
                             modes={"disinformation": WEEKLY, **modes}, resume=False)
    assert expected in h.app.services.translator.render(refused.value.message, "en")
    assert await service.manage(key) == before


async def test_unsubscribe_all_leaves_everything_and_keeps_the_key(h: Harness) -> None:
    service, key = await _follower(h)
    await service.update(key, language=None, zone=None, modes={"elections": WEEKLY}, resume=False)
    assert await service.unsubscribe_all(key)
    assert await service.unsubscribe_all(key)  # one-click twice is harmless
    view = await service.manage(key)
    assert view is not None and view.followed == ()
    assert not await service.unsubscribe_all("C" * 32)


async def test_remove_forgets_the_address_its_key_and_the_person(h: Harness) -> None:
    service, key = await _follower(h)
    person_id = await person_of(h, ADDRESS)
    assert person_id is not None
    health = EmailHealth(h.app.store.email_health)
    await health.refused(ADDRESS, h.clock.now())
    assert await service.remove(key)
    assert await h.app.store.people.identity(Identity("email", ADDRESS)) is None
    assert await h.app.store.people.get(person_id) is None
    assert await service.manage(key) is None and not await service.remove(key)
    assert await count(h, "email_keys") == 0 and await count(h, "email_signups") == 0
    assert await count(h, "email_health") == 0 and await count(h, f"subscriptions WHERE person_id = {person_id}") == 0
    # Coming back later is a new signup with a new key.
    h.clock.advance(minutes=11)
    await service.request(ADDRESS, "disinformation", DAILY, "en", "UTC", "client")
    await service.confirm((await mails(h))[-1].confirm_token())
    assert await h.app.store.email.key_of(ADDRESS) not in (None, key)


async def test_three_refusals_pause_an_address_until_resumed(h: Harness) -> None:
    service, key = await _follower(h)
    health = EmailHealth(h.app.store.email_health)
    now = h.clock.now()
    assert [await health.refused(ADDRESS, now) for _ in range(2)] == [1, 2]
    await health.delivered(ADDRESS)  # an accepted mail starts the count again
    assert not await health.is_paused(ADDRESS)
    assert [await health.refused(ADDRESS, now) for _ in range(3)] == [1, 2, 3]
    assert await health.is_paused(ADDRESS)
    view = await service.manage(key)
    assert view is not None and view.paused
    assert await service.update(key, language=None, zone=None, modes={}, resume=True)
    assert not await health.is_paused(ADDRESS)
    assert await health.refused(ADDRESS, now) == 1
