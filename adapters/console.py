"""The local console adapter: the embedded default that needs no tokens.

On a terminal it is an interactive prompt with line editing (readline): it greets the person (who they are,
how to get help, how to leave), answers each line, and shows the prompt again only once the answer is
printed; a delivery printed while the person is typing is written above the prompt, which is redrawn with
what they had typed. Otherwise it reads one command per line, prints every reply and delivery, and reports
end of input so the app can finish in-flight work and exit — ``printf '/topics\\n' | make run`` works in a
script.

Everything the console itself says (the greeting, the labels of deliveries, edits and deletions) goes through
the translation layer and is rendered in the language of the console person of the moment.

Stdin is read on a daemon thread: a blocked ``readline`` in ``asyncio.to_thread`` would keep the
interpreter from exiting on SIGTERM, a daemon thread does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from bot import dates
from bot.commands.context import Caller, IncomingCommand
from bot.commands.dispatcher import Callers, Reply
from bot.delivery.model import SentMessage
from bot.i18n import Msg, Text, Translator, _, _n
from bot.messages import RenderedMessage, render_stamps
from bot.model import Identity, IdentityRecord, Role

PLATFORM = "console"
DM_PREFIX = "dm-"
REMEMBERED_TITLES = 5000
"""How many delivered messages' titles are kept to name them when they are deleted (a console session)."""
SWITCH_WORDS = ("/as", "as")
QUIT_WORDS = ("/quit", "quit", "/exit", "exit")
Handle = Callable[[IncomingCommand], Awaitable[Reply]]
FieldLine = Callable[[str, str], str]


def format_stamp(unix: int, style: str, zone: str, language: str | None = None) -> str:
    """A core time stamp on the console person's wall clock, in their language (Babel), the zone named."""
    return dates.format_stamp(unix, style, zone, language)


def field_label(name: str) -> str:
    """A field name without the separator a renderer adds: ``when:`` and ``when`` both print once as
    ``when: …`` (a name that already ended in a colon used to print ``when::``)."""
    return name.rstrip().rstrip(":：").rstrip() or name


def plain_field(name: str, value: str) -> str:
    return f"{field_label(name)}: {value}"


def render_text(message: RenderedMessage, zone: str, field_line: FieldLine = plain_field) -> str:
    """Plain text: title, paragraphs, fields, footer, then each action as a line you can type."""
    lines: list[str] = []
    if message.title:
        lines.append(f"== {message.title} ==")
    lines.extend(message.body)
    lines.extend(f"  {field_line(field.name, field.value)}" for field in message.fields)
    if message.footer:
        lines.append(message.footer)
    lines.extend(f"  [{action.label}] /{action.command}" for action in message.actions)
    text = "\n".join(lines)
    return render_stamps(text, lambda unix, style: format_stamp(unix, style, zone, message.language))


def role_text(caller: Caller) -> Text:
    """The role as a person reads it, naming topic coordination that the global role does not show."""
    if caller.coordinated and caller.role < Role.COORDINATOR:
        return _n("{role}, coordinator of {n} topic", "{role}, coordinator of {n} topics", len(caller.coordinated),
                  role=caller.role.label)
    return caller.role.label


class ConsoleAdapter:
    """Reads commands as one console user and prints replies, DMs (``[DM → name]``) and channel posts."""

    def __init__(self, handle: Handle, *, user: str, callers: Callers, translator: Translator,
                 output: TextIO | None = None, zone_of: Callable[[str], Awaitable[str]] | None = None,
                 attachments_dir: Path = Path("data/exports")) -> None:
        self._handle = handle
        self.user = user
        self._callers = callers
        self._translator = translator
        self._language: str | None = None
        """The console person's language, from their last reply; labels are rendered in it."""
        self._output = output or sys.stdout
        self._zone_of = zone_of
        self._attachments_dir = attachments_dir
        self._sent = 0
        self._titles: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._at_prompt = False
        """True while the reader waits for a line at the prompt: output is then written above it."""
        self._redraw = False
        self.finished = asyncio.Event()

    @property
    def platform(self) -> str:
        return PLATFORM

    # --- reading -------------------------------------------------------------------------------------

    async def greet(self) -> None:
        """Who you are, how to get help and how to leave: the first thing a person sees."""
        caller = await self._caller()
        self._print(self._render_message(_("Welcome to the coalition bot"), (
            _("You are {name} ({role}).", name=self.user, role=role_text(caller)),
            _("Type “help” to see what you can do, or “help <command>” to learn one command."),
            _("Type “/as NAME” to act as someone else."),
            _("Type “/quit” or press Ctrl-D to leave."))))

    async def handle_line(self, line: str) -> bool:
        """Answer one line; ``False`` when the person asked to leave."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        word = line.split()[0].lower()
        if word in QUIT_WORDS and len(line.split()) == 1:
            self._print(self._tr(_("Goodbye.")))
            return False
        if word in SWITCH_WORDS:
            parts = line.split(maxsplit=1)
            if len(parts) == 2 and parts[1].strip():
                self.user = parts[1].strip()
                caller = await self._caller()
                self._print(self._tr(_("You are now {name} ({role}).", name=self.user, role=role_text(caller))))
            else:
                self._print(self._tr(_("Usage: {usage}", usage="/as NAME")))
            return True
        reply = await self._handle(IncomingCommand(identity=Identity(PLATFORM, self.user),
                                                   display_name=self.user, text=line))
        self._language = reply.language
        self._print(self._with_attachment(self._render(reply.message, reply.timezone), reply.message))
        return True

    async def run(self, stdin: TextIO | None = None) -> None:
        """Greet, then read until end of input or ``/quit``; then set :attr:`finished`."""
        stdin = stdin or sys.stdin
        interactive = stdin.isatty()
        self._redraw = interactive and self._output.isatty()
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        answered = threading.Event()  # the last line has its answer printed: show the prompt again
        terminal = _Terminal(stdin) if interactive else None

        def reader() -> None:
            if interactive:
                import readline  # noqa: F401  (line editing and history for input())
            while True:
                if interactive:
                    answered.wait()
                    answered.clear()
                try:
                    if interactive:
                        self._at_prompt = True
                        line = input(self._prompt())
                    else:
                        line = stdin.readline()
                except (EOFError, KeyboardInterrupt):
                    break
                finally:
                    self._at_prompt = False
                if not interactive and line == "":
                    break
                _post(line)
            _post(None)

        def _post(item: str | None) -> None:
            try:
                loop.call_soon_threadsafe(lines.put_nowait, item)
            except RuntimeError:  # the loop has closed: the app is shutting down
                pass

        try:
            await self.greet()
            answered.set()
            threading.Thread(target=reader, name="console-stdin", daemon=True).start()
            while (line := await lines.get()) is not None:
                if not await self.handle_line(line):
                    break  # the reader stays parked: no prompt after "Goodbye."
                answered.set()
            else:
                if interactive:  # Ctrl-D: the cursor is still on the prompt line
                    self._print("\n" + self._tr(_("Goodbye.")))
        finally:
            if terminal is not None:  # stopped (SIGTERM, Ctrl-C) while at the prompt, or done
                if self._redraw and self._at_prompt:  # end the prompt line before the shell's prompt
                    self._output.write("\n")
                    self._output.flush()
                terminal.restore()
            self.finished.set()

    # --- delivering (PlatformAdapter) ----------------------------------------------------------------

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        zone = await self._zone_of(recipient.identity.external_id) if self._zone_of else "UTC"
        channel = f"{DM_PREFIX}{recipient.identity.external_id}"
        where = self._tr(self._where(channel))
        self._print(self._prefixed(f"[{where}]", self._render(message, zone)))
        return self._receipt(channel, message)

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        self._print(self._prefixed(f"[{self._tr(self._where(channel_id))}]", self._render(message, "UTC")))
        return self._receipt(channel_id, message)

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
        zone = await self._zone_of(sent.channel_id.removeprefix(DM_PREFIX)) \
            if self._zone_of and sent.channel_id.startswith(DM_PREFIX) else "UTC"
        for message_id in sent.message_ids:
            self._remember(sent.channel_id, message_id, message)
        label = self._tr(_("[{where}, edited]", where=self._where(sent.channel_id)))
        self._print(self._prefixed(label, self._render(message, zone)))

    async def delete(self, sent: SentMessage) -> None:
        where = self._where(sent.channel_id)
        titles = [self._titles.pop((sent.channel_id, i), None) for i in sent.message_ids]
        title = next((t for t in titles if t), None)
        self._print(self._tr(_("[{where}] the message “{title}” was deleted", where=where, title=title)
                             if title else _("[{where}] a message was deleted", where=where)))

    # --- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _where(channel_id: str) -> Msg:
        """Where a message went, as a person says it: ``DM → name`` or ``#channel``."""
        if channel_id.startswith(DM_PREFIX):
            return _("DM → {name}", name=channel_id.removeprefix(DM_PREFIX))
        return f"#{channel_id}"

    def _receipt(self, channel: str, message: RenderedMessage) -> SentMessage:
        self._sent += 1
        self._remember(channel, str(self._sent), message)
        return SentMessage(platform=PLATFORM, channel_id=channel, message_ids=(str(self._sent),))

    def _remember(self, channel: str, message_id: str, message: RenderedMessage) -> None:
        title = message.title or next((line for line in message.body if line.strip()), "")
        self._titles[(channel, message_id)] = title.strip()[:80]
        self._titles.move_to_end((channel, message_id))
        while len(self._titles) > REMEMBERED_TITLES:
            self._titles.popitem(last=False)

    async def _caller(self) -> Caller:
        caller = await self._callers.caller_for(IncomingCommand(identity=Identity(PLATFORM, self.user),
                                                                display_name=self.user))
        self._language = caller.language
        return caller

    def _tr(self, message: Msg) -> str:
        return self._translator.render(message, self._language)

    def _render(self, message: RenderedMessage, zone: str) -> str:
        return render_text(message, zone, lambda name, value: self._tr(
            _("{label}: {value}", label=field_label(name), value=value)))

    def _render_message(self, title: Msg, body: tuple[Msg, ...]) -> str:
        return render_text(RenderedMessage(title=self._tr(title), body=tuple(self._tr(line) for line in body),
                                           language=self._language), "UTC")

    def _prompt(self) -> str:
        return f"{self.user}> "

    @staticmethod
    def _prefixed(prefix: str, text: str) -> str:
        return "\n".join(f"{prefix} {line}" if i == 0 else f"{' ' * len(prefix)} {line}"
                         for i, line in enumerate(text.splitlines() or [""]))

    def _with_attachment(self, text: str, message: RenderedMessage) -> str:
        if message.attachment is None:
            return text
        self._attachments_dir.mkdir(parents=True, exist_ok=True)
        path = self._attachments_dir / Path(message.attachment.filename).name
        path.write_bytes(message.attachment.data)
        return text + "\n" + self._tr(_("(file written: {path})", path=str(path)))

    def _print(self, text: str) -> None:
        if self._redraw and self._at_prompt:
            # Printed while the person is at the prompt (a delivery): write it above the prompt line and
            # redraw the prompt with what they had typed so far.
            import readline

            self._output.write(f"\r\x1b[K{text}\n{self._prompt()}{readline.get_line_buffer()}")
        else:
            self._output.write(text + "\n")
        self._output.flush()


class _Terminal:
    """The terminal's settings at start, put back on exit: a process stopped (SIGTERM, Ctrl-C) while
    readline waits for a line would otherwise leave the terminal without echo."""

    def __init__(self, stdin: TextIO) -> None:
        self._fd: int | None = None
        self._saved: list[Any] | None = None
        with contextlib.suppress(ImportError, OSError, ValueError):
            import termios

            self._fd = stdin.fileno()
            self._saved = termios.tcgetattr(self._fd)

    def restore(self) -> None:
        if self._fd is None or self._saved is None:
            return
        with contextlib.suppress(ImportError, OSError, ValueError):
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
