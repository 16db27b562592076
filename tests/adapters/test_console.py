"""The console adapter as a person uses it: `printf … | make run` in a script, at a terminal (a real
pseudo-terminal with readline), and a clean SIGTERM. Every wait on the child process has a deadline."""

from __future__ import annotations

import gettext
import io
import signal
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter, render_text
from bot.commands.context import Caller, IncomingCommand
from bot.commands.dispatcher import Reply
from bot.i18n import Translator
from bot.messages import Attachment, RenderedField, RenderedMessage, stamp
from bot.model import Identity
from tests.bot_process import BotProcess, TerminalBot, bot_env, run_bot
from tests.support import Harness


def _env(tmp_path: Path) -> dict[str, str]:
    return bot_env(tmp_path / "bot.db")


# --- In a script -----------------------------------------------------------------------------------------

def test_scripted_console_run(tmp_path: Path) -> None:
    script = ("/topics\n/subscribe disinformation\n/mysubs\n/as demo-member\n/subscribe whrd-safety\n"
              "/as demo-admin\n/requests\n")
    result = run_bot(_env(tmp_path), "run", stdin=script, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "== Topics ==" in out and "whrd-safety" in out
    assert "You now follow “disinformation”" in out
    assert "== Your subscriptions ==" in out
    assert "  [Unsubscribe] /unsubscribe disinformation" in out
    # The request notice is a delivery: it is printed before the process exits at end of input.
    assert "[DM → demo-admin] == Subscription request ==" in out
    assert "#1 demo-member → whrd-safety" in out
    # Nothing leaks into stderr on a clean run.
    assert "Traceback" not in result.stderr


def test_user_flag_chooses_who_you_are(tmp_path: Path) -> None:
    result = run_bot(_env(tmp_path), "run", "--user", "demo-outsider", stdin="/whoami\n", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "You are demo-outsider (outsider)." in result.stdout
    assert "  Name: demo-outsider" in result.stdout


def test_sigterm_shuts_down_cleanly(tmp_path: Path) -> None:
    with BotProcess(tmp_path, _env(tmp_path), "run") as bot:
        bot.write("/topics\n")
        bot.wait_for(lambda out: "== Topics ==" in out, "the topics reply", timeout=30)
        assert bot.kill(signal.SIGTERM) == 0
        assert "Traceback" not in bot.errors()


def test_migrate_command(tmp_path: Path) -> None:
    first = run_bot(_env(tmp_path), "migrate", timeout=60)
    assert first.returncode == 0, first.stderr
    assert "0001_core.sql" in first.stdout
    again = run_bot(_env(tmp_path), "migrate", timeout=60)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout


# --- Greeting, leaving, labels ------------------------------------------------------------------------

def _console(h: Harness) -> ConsoleAdapter:
    assert h.app.console is not None
    return h.app.console


async def test_greeting_says_who_you_are_how_to_get_help_and_how_to_leave(h: Harness) -> None:
    await _console(h).run(io.StringIO("/as demo-coordinator\n"))
    out = h.console_output()
    assert out.startswith("== Welcome to the coalition bot ==\nYou are demo-admin (admin).\n")
    assert "Type “help” to see what you can do" in out
    assert "Type “/quit” or press Ctrl-D to leave." in out
    # A topic coordinator is a member with topics: the switch says both.
    assert "You are now demo-coordinator (member, coordinator of 1 topic)." in out


@pytest.mark.parametrize("word", ["/quit", "/exit", "quit", "EXIT"])
async def test_quit_and_exit_leave_the_console(h: Harness, word: str) -> None:
    console = _console(h)
    await console.run(io.StringIO(f"/topics\n{word}\n/whoami\n"))
    out = h.console_output()
    assert console.finished.is_set()
    assert "== Topics ==" in out and out.rstrip().endswith("Goodbye.")
    assert "Who you are" not in out  # nothing after /quit is run


async def test_edits_and_deletions_are_labelled_as_a_person_reads_them(h: Harness) -> None:
    await h.say("demo-member", "subscribe disinformation")
    await h.say("demo-coordinator", "announce new disinformation Meeting at 10")
    await h.say("demo-coordinator", "announce confirm 1")
    await h.app.run_due()
    await h.say("demo-coordinator", "announce edit 1 Meeting at 11")
    await h.app.run_due()
    await h.say("demo-coordinator", "announce cancel 1")
    await h.app.run_due()
    out = h.console_output()
    title = "Countering disinformation — announcement"
    assert f"[DM → demo-member] == {title} ==" in out
    assert f"[DM → demo-member, edited] == {title} ==" in out
    assert f"[DM → demo-member] the message “{title}” was deleted" in out
    assert "[edited dm-" not in out and "[deleted dm-" not in out


def test_a_field_name_ending_in_a_colon_prints_one_colon() -> None:
    message = RenderedMessage(fields=(RenderedField("when:", "tomorrow"), RenderedField("Name", "Ana"),
                                      RenderedField("Zone :", "UTC")))
    assert render_text(message, "UTC") == "  when: tomorrow\n  Name: Ana\n  Zone: UTC"


def test_times_are_shown_on_the_readers_wall_clock_in_their_language() -> None:
    instant = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    message = RenderedMessage(title=f"Rendez-vous {stamp(instant, 't')}", body=(f"Commence {stamp(instant)}",),
                              fields=(RenderedField("Date", stamp(instant, "D")),), language="fr")
    assert render_text(message, "Europe/Paris") == ("== Rendez-vous 15:00 (Europe/Paris) ==\n"
                                                    "Commence mardi 1 décembre 2026, 15:00 (Europe/Paris)\n"
                                                    "  Date: 1 décembre 2026 (Europe/Paris)")
    english = render_text(replace(message, language=None), "America/New_York")
    assert "Tuesday, December 1, 2026, 9:00\u202fAM (America/New_York)" in english
    assert "%" not in english and "Tue " not in english


class _Marked(gettext.NullTranslations):
    """A language in which every translated string is visibly marked, to find text that bypasses it."""

    def gettext(self, message: str) -> str:
        return f"‹{message}›"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"‹{msgid1 if n == 1 else msgid2}›"


async def test_everything_the_console_says_is_rendered_in_the_console_persons_language(
        h: Harness, tmp_path: Path) -> None:
    people = h.app.services.people

    class InMarked:
        async def caller_for(self, incoming: IncomingCommand) -> Caller:
            return replace(await people.caller_for(incoming), language="xx")

        async def caller_for_person(self, person_id: int, via: Identity | None = None,
                                    locale: str | None = None) -> Caller:
            return replace(await people.caller_for_person(person_id, via, locale), language="xx")

    async def handle(incoming: IncomingCommand) -> Reply:
        message = RenderedMessage(title="Content", fields=(RenderedField("Label", "value"),),
                                  attachment=Attachment("x.ics", "text/calendar", b"BEGIN:VCALENDAR"))
        return Reply(message=message, language="xx", timezone="UTC", person_id=1)

    out = io.StringIO()
    console = ConsoleAdapter(handle, user="demo-admin", callers=InMarked(), translator=Translator({"xx": _Marked()}),
                             output=out, attachments_dir=tmp_path)
    await console.run(io.StringIO("/whoami\n/as demo-member\n/as\n/quit\n"))
    member = await h.app.store.people.identity(Identity("console", "demo-member"))
    assert member is not None
    sent = await console.send_direct(member, RenderedMessage(title="Hello"), delivery_key="k")
    await console.send_channel("general", RenderedMessage(title="Hello"), delivery_key="c")
    await console.edit(sent, RenderedMessage(title="Hello again"))
    await console.delete(sent)
    content = {"== Content ==", "[#general] == Hello =="}
    lines = [line for line in out.getvalue().splitlines() if line not in content]
    assert lines and all("‹" in line for line in lines), [line for line in lines if "‹" not in line]
    assert "  ‹Label: value›" in lines
    assert "[‹DM → demo-member›] == Hello ==" in lines


# --- At a terminal --------------------------------------------------------------------------------------

def _ends_with_prompt(user: str, after: str) -> Callable[[str], bool]:
    """The screen ends with ``user``'s empty prompt, drawn after the last ``after``."""
    prompt = f"{user}> "
    return lambda screen: after in screen and screen.endswith(prompt) and screen.rfind(prompt) > screen.rfind(after)


def test_the_prompt_comes_back_after_each_reply_and_after_a_delivery(tmp_path: Path) -> None:
    # One console send a second: the announcement reaches its subscriber while the person is at the prompt.
    env = bot_env(tmp_path / "bot.db", BOT_DELIVERY__CONSOLE_PER_SECOND="1")
    with TerminalBot(tmp_path, env, "--user", "demo-coordinator") as terminal:
        terminal.wait_for(_ends_with_prompt("demo-coordinator", "Ctrl-D to leave."), "the greeting and a prompt")
        terminal.type("/whoami\n")
        terminal.wait_for(_ends_with_prompt("demo-coordinator", "Language: English (the coalition default)"),
                          "the reply, then the prompt")
        terminal.type("/announce new disinformation Hello\n")
        terminal.wait_for(_ends_with_prompt("demo-coordinator", "/announce confirm 1"), "the preview")
        terminal.type("/announce confirm 1\n")
        # Deliveries are printed by the worker on its own time, after the reply: the prompt is redrawn below.
        terminal.wait_for(_ends_with_prompt("demo-coordinator", "[DM → demo-coordinator, edited]"),
                          "the deliveries, then the prompt")
        assert "[DM → demo-coordinator] == Countering disinformation — announcement ==" in terminal.screen()
        terminal.type("\x04")  # Ctrl-D
        assert terminal.process.wait(timeout=30) == 0
        assert terminal.screen().rstrip().endswith("Goodbye.")
        assert terminal.modes() == terminal.initial_modes


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_stopping_at_the_prompt_gives_the_terminal_back_as_it_was(tmp_path: Path, sig: signal.Signals) -> None:
    with TerminalBot(tmp_path, _env(tmp_path)) as terminal:
        terminal.wait_for(_ends_with_prompt("demo-admin", "Ctrl-D to leave."), "the prompt")
        terminal.type("half a comm")
        terminal.wait_for(lambda screen: screen.endswith("half a comm"), "the typed text")
        terminal.process.send_signal(sig)
        assert terminal.process.wait(timeout=30) == 0
        assert terminal.modes() == terminal.initial_modes  # echo and line editing back on
        assert terminal.wait_for(lambda screen: screen.endswith("half a comm\n"), "the line ended", timeout=5)
