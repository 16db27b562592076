"""The local console adapter: the embedded default that needs no tokens.

On a terminal it is an interactive prompt with line editing (readline). Otherwise it reads one command
per line, prints every reply and delivery, and reports end of input so the app can finish in-flight work
and exit — ``printf '/topics\\n' | make run`` works in a script.

Stdin is read on a daemon thread: a blocked ``readline`` in ``asyncio.to_thread`` would keep the
interpreter from exiting on SIGTERM, a daemon thread does not.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.commands.context import IncomingCommand
from bot.commands.dispatcher import Reply
from bot.delivery.model import SentMessage
from bot.messages import RenderedMessage, render_stamps
from bot.model import Identity, IdentityRecord

PLATFORM = "console"
Handle = Callable[[IncomingCommand], Awaitable[Reply]]


def format_stamp(unix: int, style: str, zone: str) -> str:
    local = datetime.fromtimestamp(unix, UTC).astimezone(ZoneInfo(zone))
    formats = {"t": "%H:%M", "T": "%H:%M:%S", "d": "%Y-%m-%d", "D": "%d %B %Y", "f": "%d %B %Y %H:%M",
               "F": "%A %d %B %Y %H:%M"}
    if style == "R":
        return local.strftime("%Y-%m-%d %H:%M %Z")
    return f"{local.strftime(formats.get(style, formats['F']))} ({zone})"


def render_text(message: RenderedMessage, zone: str) -> str:
    """Plain text: title, paragraphs, fields, footer, then each action as a line you can type."""
    lines: list[str] = []
    if message.title:
        lines.append(f"== {message.title} ==")
    lines.extend(message.body)
    lines.extend(f"  {field.name}: {field.value}" for field in message.fields)
    if message.footer:
        lines.append(message.footer)
    lines.extend(f"  [{action.label}] /{action.command}" for action in message.actions)
    text = "\n".join(lines)
    return render_stamps(text, lambda unix, style: format_stamp(unix, style, zone))


class ConsoleAdapter:
    """Reads commands as one console user and prints replies, DMs (``[DM → name]``) and channel posts."""

    def __init__(self, handle: Handle, *, user: str, output: TextIO | None = None,
                 zone_of: Callable[[str], Awaitable[str]] | None = None,
                 attachments_dir: Path = Path("data/exports")) -> None:
        self._handle = handle
        self.user = user
        self._output = output or sys.stdout
        self._zone_of = zone_of
        self._attachments_dir = attachments_dir
        self._sent = 0
        self.finished = asyncio.Event()

    @property
    def platform(self) -> str:
        return PLATFORM

    # --- reading -------------------------------------------------------------------------------------

    async def handle_line(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if line.split()[0] in ("/as", "as"):
            parts = line.split(maxsplit=1)
            if len(parts) == 2 and parts[1].strip():
                self.user = parts[1].strip()
                self._print(f"(you are now {self.user})")
            else:
                self._print("usage: /as NAME")
            return
        reply = await self._handle(IncomingCommand(identity=Identity(PLATFORM, self.user),
                                                   display_name=self.user, text=line))
        self._print(self._with_attachment(render_text(reply.message, reply.timezone), reply.message))

    async def run(self, stdin: TextIO | None = None) -> None:
        """Read until end of input, then set :attr:`finished`."""
        stdin = stdin or sys.stdin
        interactive = stdin.isatty()
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()

        def reader() -> None:
            if interactive:
                import readline  # noqa: F401  (line editing and history for input())
            while True:
                try:
                    line = input(f"{self.user}> ") if interactive else stdin.readline()
                except (EOFError, KeyboardInterrupt):
                    break
                if not interactive and line == "":
                    break
                _post(line)
            _post(None)

        def _post(item: str | None) -> None:
            try:
                loop.call_soon_threadsafe(lines.put_nowait, item)
            except RuntimeError:  # the loop has closed: the app is shutting down
                pass

        threading.Thread(target=reader, name="console-stdin", daemon=True).start()
        try:
            while (line := await lines.get()) is not None:
                await self.handle_line(line)
        finally:
            self.finished.set()

    # --- delivering (PlatformAdapter) ----------------------------------------------------------------

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        zone = await self._zone_of(recipient.identity.external_id) if self._zone_of else "UTC"
        self._print(self._prefixed(f"[DM → {recipient.display_name}]", render_text(message, zone)))
        return self._receipt(f"dm-{recipient.identity.external_id}")

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        self._print(self._prefixed(f"[#{channel_id}]", render_text(message, "UTC")))
        return self._receipt(channel_id)

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
        self._print(self._prefixed(f"[edited {sent.channel_id} {','.join(sent.message_ids)}]",
                                   render_text(message, "UTC")))

    async def delete(self, sent: SentMessage) -> None:
        self._print(f"[deleted {sent.channel_id} {','.join(sent.message_ids)}]")

    def _receipt(self, channel: str) -> SentMessage:
        self._sent += 1
        return SentMessage(platform=PLATFORM, channel_id=channel, message_ids=(str(self._sent),))

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
        return f"{text}\n(file written: {path})"

    def _print(self, text: str) -> None:
        self._output.write(text + "\n")
        self._output.flush()
