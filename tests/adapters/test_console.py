"""The console adapter as a person uses it: `printf … | make run` in a script, and a clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BOT_STORAGE__PATH": str(tmp_path / "bot.db"), "PYTHONUNBUFFERED": "1"}


def test_scripted_console_run(tmp_path: Path) -> None:
    script = ("/topics\n/subscribe disinformation\n/mysubs\n/as demo-member\n/subscribe whrd-safety\n"
              "/as demo-admin\n/requests\n")
    result = subprocess.run([sys.executable, "-m", "bot", "run"], input=script, capture_output=True, text=True,
                            env=_env(tmp_path), cwd=ROOT, timeout=60)
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
    result = subprocess.run([sys.executable, "-m", "bot", "run", "--user", "demo-outsider"], input="/whoami\n",
                            capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT, timeout=60)
    assert "demo-outsider" in result.stdout and "outsider" in result.stdout


def test_sigterm_shuts_down_cleanly(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=_env(tmp_path), cwd=ROOT)
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("/topics\n")
        process.stdin.flush()
        deadline = time.monotonic() + 30
        line = ""
        while "== Topics ==" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
        assert "== Topics ==" in line
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_migrate_command(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "migrate"], capture_output=True, text=True,
                            env=_env(tmp_path), cwd=ROOT, timeout=60, check=True)
    assert "0001_core.sql" in result.stdout
    again = subprocess.run([sys.executable, "-m", "bot", "migrate"], capture_output=True, text=True,
                           env=_env(tmp_path), cwd=ROOT, timeout=60, check=True)
    assert "up to date" in again.stdout
