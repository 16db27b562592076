"""``python -m bot discord-invite`` prints the URL that adds the bot with exactly the permissions the code
needs: offline, without discord.py, never printing the token."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.discord.permissions import REQUIRED, application_id_from_token, required_value
from app.cli import main

APP_ID = 1_200_000_000_000_000_001
ROOT = Path(__file__).resolve().parents[2]


def token_for(user_id: int) -> str:
    head = base64.b64encode(str(user_id).encode()).decode().rstrip("=")
    return f"{head}.GhIjKl.very-secret-signature"


def run(tmp_path: Path, settings: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "settings.toml"
    config.write_text(settings, encoding="utf-8")
    code = ("import sys\nfrom app.cli import main\nstatus = main(['--config', sys.argv[1], 'discord-invite'])\n"
            "assert 'discord' not in sys.modules, 'discord.py was imported'\nsys.exit(status)")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    return subprocess.run([sys.executable, "-W", "error", "-c", code, str(config)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=clean | (env or {}), check=False)


def test_discord_invite_prints_the_url_with_the_required_permissions(tmp_path: Path) -> None:
    result = run(tmp_path, f"[discord]\napplication_id = {APP_ID}\n")

    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url == ("https://discord.com/oauth2/authorize?client_id=1200000000000000001"
                   f"&scope=bot+applications.commands&permissions={required_value()}")
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["bot applications.commands"]
    assert all(int(query["permissions"][0]) & p.bit for p in REQUIRED)
    assert all(p.english in result.stderr for p in REQUIRED)


def test_discord_invite_reads_the_application_id_from_the_token_and_never_prints_it(tmp_path: Path) -> None:
    token = token_for(APP_ID)
    result = run(tmp_path, "", env={"BOT_DISCORD__TOKEN": token})

    assert result.returncode == 0, result.stderr
    assert f"client_id={APP_ID}" in result.stdout and "application_id" in result.stderr
    assert token not in result.stdout + result.stderr and "very-secret" not in result.stdout + result.stderr


def test_discord_invite_without_an_application_id_says_where_to_find_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.toml").write_text("", encoding="utf-8")
    for name in [k for k in os.environ if k.startswith("BOT_")]:
        monkeypatch.delenv(name)

    assert main(["--config", str(tmp_path / "settings.toml"), "discord-invite"]) == 2

    captured = capsys.readouterr()
    assert captured.out == "" and "Application ID" in captured.err


@pytest.mark.parametrize("token", ["not-a-token", "", "....", base64.b64encode(b"abc").decode() + ".x.y"])
def test_a_token_of_another_shape_gives_no_application_id(token: str) -> None:
    assert application_id_from_token(token) is None


def test_readme_documents_the_invite_the_code_needs() -> None:
    """The README's invite and the code cannot drift apart: it names the command and every permission."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = " ".join(readme.split("## Discord", 1)[1].split("\n## ", 1)[0].split())  # lines may wrap anywhere
    assert "discord-invite" in section
    assert all(p.english in section for p in REQUIRED), [p.english for p in REQUIRED if p.english not in section]
    assert "Manage Messages" not in section
