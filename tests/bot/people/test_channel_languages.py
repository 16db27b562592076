"""Channel posts are in the coalition's language; a coalition that declares several (``[coalition] languages``)
has each of them in its read-only public channel post, in order, while topic channels and DMs keep one."""

from __future__ import annotations

from pathlib import Path

from bot.bidi import stripped
from bot.channels.model import ChannelPurpose
from bot.commands.invoke import CommandLine
from bot.delivery.routes import render_in_each
from bot.i18n import Translator, _
from bot.messages import Action, Field, Message
from tests.support import FixedClock, console_settings, harness


def _section(out: str, channel: str) -> str:
    """What the console printed for ``channel``: from its header to the next line that starts another target."""
    start = out.index(f"[{channel}]")
    rest = out[start + 1:]
    ends = [i for i in (rest.find("\n["),) if i >= 0]
    return out[start:start + 1 + min(ends)] if ends else out[start:]


async def test_the_public_channel_carries_each_language_in_order(tmp_path: Path, clock: FixedClock) -> None:
    async with harness(console_settings(tmp_path, language="en", languages=["en", "fr"]), clock) as h:
        await h.say("demo-admin", "setup public-channel #coalition-public")
        await h.say("demo-admin", "setup topic-channel disinformation #wg-disinformation")
        await h.say("demo-coordinator", "announce new disinformation Report is out")
        await h.say("demo-coordinator", "announce confirm 1")
        await h.app.run_due()
        out = h.console_output()

    public = _section(out, "#coalition-public")
    assert "── English ──" in public and "── français ──" in public
    assert public.index("── English ──") < public.index("── français ──")
    assert public.count("Report is out") == 2  # the author's words, once under each language
    english_part, french_part = public.split("── français ──")
    assert "From demo-coordinator" in english_part and "Par demo-coordinator" in french_part  # each in its own
    assert "Par demo-coordinator" not in english_part
    assert "announcement / " in public and "— annonce" in public  # a title that differs: each, once
    topic = _section(out, "#wg-disinformation")
    assert "── français ──" not in topic and topic.count("Report is out") == 1  # one language: as before
    assert "annonce" not in topic and "Par demo-coordinator" not in topic


async def test_one_language_posts_as_before(tmp_path: Path, clock: FixedClock) -> None:
    async with harness(console_settings(tmp_path), clock) as h:
        await h.say("demo-admin", "setup public-channel #coalition-public")
        assert await h.app.store.channels.bound(ChannelPurpose.PUBLIC, None)
        await h.say("demo-coordinator", "announce new disinformation Report is out")
        await h.say("demo-coordinator", "announce confirm 1")
        await h.app.run_due()
        public = _section(h.console_output(), "#coalition-public")
    assert "──" not in public and public.count("Report is out") == 1


def test_each_language_gets_its_own_section_and_shared_words_appear_once() -> None:
    translator = Translator.load()
    message = Message(title="Climate", body=(_("Welcome"), "user words"), fields=(Field(_("Name"), "Ada"),),
                      footer=_("Welcome"),
                      actions=(Action(_("Welcome"), CommandLine.recorded("topics")),))
    rendered = render_in_each(message, translator, ("en", "es", "ar"))
    assert rendered.title == "Climate"  # the same in every language: once
    body = rendered.body
    assert body[0] == "── English ──" and "── español ──" in body
    assert body[body.index("── español ──") + 1] == "Te damos la bienvenida"
    assert any(line.startswith("── \u2068العربية\u2069") for line in body)
    assert [stripped(line) for line in body].count("user words") == 3 and "Name: Ada" in body
    assert rendered.actions[0].label.startswith("Welcome / Te damos la bienvenida")
    assert rendered.actions[0].command == "topics" and rendered.fields == () and rendered.footer is None
