"""Wrong codes are limited per claiming identity and across everyone (for claimers who typed a wrong one lately),
counted in the database: a restart does not reset them, and while refused even a right code is not looked at."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.commands.context import IncomingCommand
from bot.errors import UserError
from bot.i18n import Translator
from bot.linking.service import LinkLimits, LinkService
from bot.messages import stamp
from bot.model import Identity
from tests.bot.linking.helpers import NOT_VALID, claim, issue
from tests.support import FixedClock, console_settings, harness

TOO_MANY = "Too many wrong codes. You can try again at"


async def test_five_wrong_codes_in_fifteen_minutes_then_a_refusal_that_survives_a_restart(tmp_path: Path,
                                                                                          clock: FixedClock) -> None:
    settings = console_settings(tmp_path)
    async with harness(settings, clock) as h:
        code = await issue(h, "ana", "console")
        for _ in range(5):
            assert await claim(h, "mallory", "test", "AAAA-AAAA") == NOT_VALID
            clock.advance(minutes=1)
        refused = await h.say("mallory", f"link {code}", platform="test")
        assert refused.message.is_error and refused.message.plain_text().startswith(TOO_MANY)
        first_leaves = datetime(2026, 11, 23, 12, 15, tzinfo=UTC)  # 15 minutes after the first wrong code
        assert stamp(first_leaves, "t") in refused.message.plain_text(), "says when to try again"
        assert (await claim(h, "bo", "test", "AAAA-AAAA")) == NOT_VALID, "others are not refused"
    async with harness(settings, clock) as h:  # a restart on the same database
        assert (await claim(h, "mallory", "test", code)).startswith(TOO_MANY)
        clock.advance(minutes=10)  # 15 minutes after the first wrong code
        code = await issue(h, "ana", "console")
        assert (await claim(h, "mallory", "test", code)).startswith("Link your accounts?")


async def test_wrong_codes_from_many_accounts_are_bounded_together(tmp_path: Path, clock: FixedClock) -> None:
    """The limit on everyone stops a claimer who already typed a wrong code, not one trying for the first time:
    throwaway accounts typing nonsense must not block everybody's linking (review of issue 21)."""
    async with harness(console_settings(tmp_path), clock) as h:
        code = await issue(h, "ana", "console")
        assert await claim(h, "mallory", "test", "AAAA-AAAA") == NOT_VALID
        for n in range(29):
            assert await claim(h, f"bot-{n}", "test", "AAAA-AAAA") == NOT_VALID
        refused = await h.say("mallory", f"link {code}", platform="test")
        assert refused.message.is_error
        assert refused.message.plain_text().startswith("Too many wrong codes were typed in the last minute")
        assert (await claim(h, "ana-t", "test", code)).startswith("Link your accounts?"), "a first try is looked at"
        assert (await claim(h, "bo", "test", "AAAA-AAAA")) == NOT_VALID, "a first wrong try is answered as such"
        clock.advance(minutes=1)
        assert (await claim(h, "mallory", "test", "AAAA-AAAA")) == NOT_VALID, "a minute later it is looked at"


async def test_the_limits_live_in_the_database_not_in_the_service(tmp_path: Path, clock: FixedClock) -> None:
    """A second service on the same store (another process, or the same after a restart) sees the same count."""
    async with harness(console_settings(tmp_path), clock) as h:
        caller = await h.app.services.people.caller_for(IncomingCommand(Identity("test", "mallory"), "mallory"))
        first = LinkService(h.app.store, clock, lambda: None, LinkLimits(per_identity=2))
        for _ in range(2):
            assert (await h.app.dispatcher.handle(IncomingCommand(Identity("test", "mallory"), "mallory",
                                                                  text="link AAAA-AAAA"))).message.is_error
        second = LinkService(h.app.store, clock, lambda: None, LinkLimits(per_identity=2))
        for service in (first, second):
            with pytest.raises(UserError) as refused:
                await service.claim(caller, "AAAA-AAAA")
            assert Translator.load().render(refused.value.message, "en").startswith(TOO_MANY)
        rows = await h.app.db.fetch_all("SELECT * FROM link_attempts")
        assert len(rows) == 2, "a refused attempt is not even looked at, so not counted"
