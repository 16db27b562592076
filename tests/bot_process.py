"""``python -m bot run`` as a child process whose output goes to files, for the end-to-end tests.

Why files and not pipes: a test that reads a pipe line by line sees only what it has read so far. When it
kills the bot, lines already written but not yet read look lost (the crash test once counted 13 delivered
messages as missing that way), and a ``readline`` on a silent bot blocks with no deadline. A file holds
everything the process wrote, even after SIGKILL, and polling it is bounded by a deadline.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.02


def bot_env(db: Path, **extra: str) -> dict[str, str]:
    """The environment of a bot on its own database, with unbuffered output (each print is one write)."""
    return {**os.environ, "BOT_STORAGE__PATH": str(db), "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT),
            **extra}


class BotProcess:
    """A running ``python -m bot …``: stdin is a pipe the test writes to; stdout and stderr are files."""

    def __init__(self, workdir: Path, env: dict[str, str], *args: str, name: str = "bot",
                 cwd: Path = ROOT) -> None:
        self.stdout_path = workdir / f"{name}.out"
        self.stderr_path = workdir / f"{name}.err"
        self._stdout = self.stdout_path.open("w", encoding="utf-8")
        self._stderr = self.stderr_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", *args], stdin=subprocess.PIPE,
                                        stdout=self._stdout, stderr=self._stderr, text=True, env=env, cwd=cwd)

    def __enter__(self) -> BotProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    @property
    def stdin(self) -> IO[str]:
        assert self.process.stdin is not None
        return self.process.stdin

    def write(self, text: str) -> None:
        self.stdin.write(text)
        self.stdin.flush()

    def output(self) -> str:
        """Everything the process has written to stdout so far (all of it, once it has exited)."""
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def errors(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, done: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        """Poll stdout until ``done(output)``; fail with ``what`` at the deadline or if the bot exits first."""
        return self._wait(self.output, done, what, timeout)

    def wait_for_error(self, done: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        """Poll stderr (the log) until ``done(log)``, as :meth:`wait_for` polls stdout."""
        return self._wait(self.errors, done, what, timeout)

    def close_input(self) -> None:
        """End stdin: a console-only bot then stops as after its last command."""
        self.stdin.close()

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def _wait(self, read: Callable[[], str], done: Callable[[str], bool], what: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            output = read()
            if done(output):
                return output
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited ({self.process.returncode}) before {what}:\n"
                                     f"{output[-2000:]}\n{self.errors()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{output[-2000:]}")
            time.sleep(POLL_SECONDS)

    def kill(self, sig: signal.Signals = signal.SIGKILL, timeout: float = 20) -> int:
        """Send ``sig`` and wait (bounded) for the process to end; its whole output is then in the file."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)
        for stream in (self.process.stdin, self._stdout, self._stderr):
            if stream is not None:
                with contextlib.suppress(BrokenPipeError):  # stdin of a process that is gone
                    stream.close()


def run_bot(env: dict[str, str], *args: str, stdin: str = "", timeout: float = 120,
            cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot …`` to completion with ``stdin`` as its input (bounded by ``timeout``)."""
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


class TerminalBot:
    """``python -m bot run`` on a pseudo-terminal, as a person at a keyboard runs it (readline, a prompt)."""

    def __init__(self, workdir: Path, env: dict[str, str], *args: str) -> None:
        import pty
        import termios

        self._master, self._slave = pty.openpty()
        self.initial_modes = termios.tcgetattr(self._slave)
        self.stderr_path = workdir / "terminal.err"
        self._stderr = self.stderr_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "run", *args], stdin=self._slave,
                                        stdout=self._slave, stderr=self._stderr, env={**env, "TERM": "xterm"},
                                        cwd=ROOT)
        self._seen = b""

    def __enter__(self) -> TerminalBot:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)
        os.close(self._master)
        os.close(self._slave)
        self._stderr.close()

    def type(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def screen(self) -> str:
        """Everything shown so far as lines of text, without terminal control sequences."""
        self._read_available(0)
        text = self._seen.decode("utf-8", errors="replace").replace("\r\n", "\n")
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]", "", text)
        # A carriage return starts the line again: what follows it is what the line shows.
        return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))

    def wait_for(self, done: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if done(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{screen[-3000:]}\n"
                                     f"{self.stderr_path.read_text(errors='replace')[-2000:]}")
            self._read_available(POLL_SECONDS)

    def modes(self) -> list[Any]:
        import termios

        return termios.tcgetattr(self._slave)

    def _read_available(self, timeout: float) -> None:
        import select

        while select.select([self._master], [], [], timeout)[0]:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # the other side is closed
                return
            if not chunk:
                return
            self._seen += chunk
            timeout = 0
