"""An announcement's mentions read naturally on Slack and ping nobody (issue 15, item 5).

The core turns ``<!channel>`` into ``@⁠channel`` (a word joiner after the ``@``); Slack then shows "@channel"
as text. Before, readers saw the raw markup ``<⁠!channel>`` (escaped as ``&lt;⁠!channel&gt;``).
"""

from __future__ import annotations

from pathlib import Path

from bot.untrusted import WORD_JOINER
from tests.adapters.slack.test_delivery import run_until_settled
from tests.adapters.slack.test_slack_adapter import ADMIN, command, everyone, slack_app, text_of
from tests.fakes.slack_server import FakeSlack
from tests.support import FixedClock

J = WORD_JOINER


async def test_an_announcement_with_mentions_reads_naturally_on_slack(tmp_path: Path) -> None:
    clock = FixedClock()
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake, clock) as app, fake.socket_mode(app.platform_runners[0].bolt):
            await command(fake, "/coalition", "topic create climate Climate", ADMIN)
            await command(fake, "/subscribe", "climate", "UMEM")
            # As Slack sends it with should_escape: mentions as markup, typed "&" and "<" escaped.
            typed = "Heads up <!channel> <!here|here> <@U999|bob> <!subteam^S1|@comms> @everyone: a &lt; b &amp; c"
            preview = text_of(await command(fake, "/coalition", f"announce new climate {typed}", ADMIN))
            assert f"@{J}channel" in preview
            await command(fake, "/coalition", "announce confirm 1", ADMIN)
            await run_until_settled(app, clock, rounds=2)
            [post] = [m for m in fake.messages("UMEM") if "Heads up" in text_of(m)]
            shown = text_of(post)
            assert f"Heads up @{J}channel @{J}here @{J}bob @{J}comms @{J}everyone: a &lt; b &amp; c" in shown
            for raw in ("<!", "<@", "&lt;!", "&lt;@", f"&lt;{J}"):
                assert raw not in shown
