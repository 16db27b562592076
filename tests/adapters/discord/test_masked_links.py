"""No disguised links on Discord: untrusted text (an announcement, a field) written as a masked link
``[https://good.example](https://evil.example)`` reaches readers with its real target in sight, never as a
label hiding another address. Checked on what the fake Discord receives from the real discord.py client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord.client import DiscordRunner
from adapters.discord.render import unmask_links
from app.assembly import App, build_app
from app.settings import Settings
from bot.messages import Field, Message
from bot.model import Identity
from tests.fakes.discord_server import BOB, FakeDiscord
from tests.postgres_server import storage_settings
from tests.support import FixedClock

# Discord's masked link: a bracketed label straight followed by a parenthesised target.
MASKED = re.compile(r"\[[^\]]*\]\(")


@pytest.fixture
async def app(fake: FakeDiscord, tmp_path: Path, clock: FixedClock) -> AsyncIterator[App]:
    settings = Settings(discord={"token": fake.token, "guild_id": fake.guild_id, "api_base_url": fake.api_base,
                                 "gateway_url": fake.gateway_url, "member_role": "member"},
                        storage=storage_settings(tmp_path, "bot.db"))
    async with build_app(settings, clock=clock) as running:
        [runner] = running.platform_runners
        assert isinstance(runner, DiscordRunner)
        yield running


async def test_masked_links_in_untrusted_text_show_their_real_target(fake: FakeDiscord, app: App) -> None:
    bob = await app.store.people.ensure_identity(Identity("discord", str(BOB.id)), "bob", app.services.clock.now())
    disguised = "Register at [https://good.example](https://evil.example) today."
    message = Message(title="Announcement", body=(disguised, "Or [here](<https://evil.example/b>)."),
                      fields=(Field("Where", "[the venue](https://evil.example/map)"),))

    await app.services.notifier.to_people([bob.person_id], message, key="masked")
    await app.worker.run_due()

    [delivered] = fake.dm_messages_to(BOB.id)
    [embed] = delivered.embeds
    description, field = embed["description"], embed["fields"][0]["value"]
    assert "https://good.example (https://evil.example)" in description
    assert "here (https://evil.example/b)" in description
    assert field == "the venue (https://evil.example/map)"
    assert not MASKED.search(description) and not MASKED.search(field)


@pytest.mark.parametrize("text", [
    "[[nested]](https://evil.example)",
    '[titled](https://evil.example "https://good.example")',
    "[a](https://evil.example/wiki/A_(b))",
    "[x]\n[y](https://evil.example)",
])
def test_no_form_of_masked_link_survives_rendering(text: str) -> None:
    shown = unmask_links(text)
    assert not MASKED.search(shown)
    assert "evil.example" in shown  # the target stays visible, nothing dropped
