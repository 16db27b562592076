"""Settings: TOML plus environment overrides (env wins), secrets masked, bad values refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_settings_file_matches_the_defaults() -> None:
    shipped = Settings.load(ROOT / "settings.toml")
    defaults = Settings.load(ROOT / "does-not-exist.toml")
    without_admins = {"coalition": {"admins"}}
    assert shipped.model_dump(exclude=without_admins) == defaults.model_dump(exclude=without_admins)
    assert shipped.coalition.admins == ["console:demo-admin"]


def test_every_settings_key_is_documented_in_settings_toml() -> None:
    text = (ROOT / "settings.toml").read_text()
    for section, model in Settings.model_fields.items():
        assert f"[{section}]" in text
        annotation = model.annotation
        assert annotation is not None
        for key in annotation.model_fields:  # type: ignore[union-attr]
            assert f"{key} =" in text or f"# {key} =" in text, f"[{section}] {key} is not documented"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[storage]\npath = "from-file.db"\n[coalition]\ntimezone = "Europe/Paris"\n')
    monkeypatch.setenv("BOT_STORAGE__PATH", "from-env.db")
    settings = Settings.load(config)
    assert settings.storage.path == Path("from-env.db")
    assert settings.coalition.timezone == "Europe/Paris"


def test_bad_values_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[coalition]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        Settings.load(config)
    config.write_text('[coalition]\nadmins = ["nobody"]\n')
    with pytest.raises(ValidationError):
        Settings.load(config)
    config.write_text('[coalition]\nlanguage = "xx"\n')
    with pytest.raises(ValidationError, match="no catalogue"):
        Settings.load(config)
    config.write_text('[nonsense]\nx = 1\n')
    with pytest.raises(ValidationError):
        Settings.load(config)


def test_console_auto_runs_only_without_platforms() -> None:
    assert Settings().console_only
    slack = Settings(slack={"bot_token": "xoxb-1"})
    assert slack.slack.configured and not slack.console_enabled
    both = Settings(slack={"bot_token": "xoxb-1"}, discord={"token": "t"}, console={"enabled": True})
    assert both.console_enabled and not both.console_only


def test_check_config_masks_secrets(tmp_path: Path) -> None:
    env = {"BOT_SLACK__BOT_TOKEN": "xoxb-very-secret", "BOT_DISCORD__TOKEN": "discord-secret", "PATH": ""}
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(tmp_path / "none.toml"), "check-config"],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=True)
    assert "very-secret" not in result.stdout and "discord-secret" not in result.stdout
    printed = json.loads(result.stdout)
    assert printed["slack"]["bot_token"] == "**********"
    assert printed["discord"]["token"] == "**********"


def test_coalition_languages_default_to_the_one_language_and_bad_lists_are_refused(tmp_path: Path) -> None:
    assert Settings().core_config().channel_languages == ("en",)
    assert Settings(coalition={"language": "fr"}).core_config().channel_languages == ("fr",)
    several = Settings(coalition={"language": "fr", "languages": ["fr", "sw", "ar"]}).core_config()
    assert several.channel_languages == ("fr", "sw", "ar") and several.default_language == "fr"
    config = tmp_path / "s.toml"
    for body, message in [('languages = ["en", "xx"]', "no catalogue for 'xx'"),
                          ('languages = []', "at least one language"),
                          ('languages = ["en", "fr", "en"]', "listed twice"),
                          ('language = "en"\nlanguages = ["fr", "es"]', "must be one of")]:
        config.write_text(f"[coalition]\n{body}\n")
        with pytest.raises(ValidationError, match=message):
            Settings.load(config)


def test_a_bad_language_list_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[coalition]\nlanguages = ["en", "klingon"]\n')
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "check-config"],
                            capture_output=True, text=True, env={"PATH": ""}, cwd=ROOT, timeout=60, check=False)
    assert result.returncode != 0
    assert "languages" in result.stderr and "no catalogue for 'klingon'" in result.stderr
