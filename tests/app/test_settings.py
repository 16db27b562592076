"""Settings: TOML plus environment overrides (env wins), secrets masked, bad values refused."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings, StorageSettings

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_settings_file_matches_the_defaults() -> None:
    shipped = Settings.load(ROOT / "settings.toml")
    defaults = Settings.load(ROOT / "does-not-exist.toml")
    without_admins = {"coalition": {"admins"}}
    assert shipped.model_dump(exclude=without_admins) == defaults.model_dump(exclude=without_admins)
    assert shipped.coalition.admins == ["console:demo-admin"]


def test_every_settings_key_is_documented_in_settings_toml() -> None:
    """In its own section: ``url =`` elsewhere (``base_url =`` under [web]) does not document [storage] url."""
    text = (ROOT / "settings.toml").read_text()
    for section, model in Settings.model_fields.items():
        assert f"\n[{section}]\n" in text
        body = text.split(f"\n[{section}]\n", 1)[1].split("\n[", 1)[0]
        annotation = model.annotation
        assert annotation is not None
        for key in annotation.model_fields:  # type: ignore[union-attr]
            assert re.search(rf"^(# )?{key} =", body, re.MULTILINE), f"[{section}] {key} is not documented"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[storage]\npath = "from-file.db"\n[coalition]\ntimezone = "Europe/Paris"\n')
    monkeypatch.setenv("BOT_STORAGE__PATH", "from-env.db")
    settings = Settings.load(config)
    assert settings.storage.path == Path("from-env.db")
    assert settings.coalition.timezone == "Europe/Paris"


PG_URL = "postgresql://bot:hunter2-secret@db.example.org:5432/coalition"


def test_a_storage_url_chooses_the_engine_and_wins_over_the_path() -> None:
    pg = StorageSettings(url=PG_URL, path=Path("ignored.db"))
    assert pg.is_postgres and pg.target == PG_URL
    assert StorageSettings(url="postgres://db.example.org/coalition").is_postgres
    relative = StorageSettings(url="sqlite:///data/other.db")
    assert not relative.is_postgres and relative.target == Path("data/other.db")
    absolute = StorageSettings(url="sqlite:////srv/bot/coalition.db")
    assert not absolute.is_postgres and absolute.target == Path("/srv/bot/coalition.db")
    default = StorageSettings()
    assert not default.is_postgres and default.target == Path("data/coalition.db")


def test_the_storage_url_comes_from_the_file_or_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[storage]\npath = "from-file.db"\nurl = "sqlite:///from-file-url.db"\n')
    monkeypatch.delenv("BOT_STORAGE__URL", raising=False)
    monkeypatch.delenv("BOT_STORAGE__PATH", raising=False)
    assert Settings.load(config).storage.target == Path("from-file-url.db")
    monkeypatch.setenv("BOT_STORAGE__URL", PG_URL)
    assert Settings.load(config).storage.target == PG_URL
    monkeypatch.delenv("BOT_STORAGE__URL")
    config.write_text('[storage]\npath = "from-file.db"\n')
    monkeypatch.setenv("BOT_STORAGE__PATH", "/var/lib/bot/from-env.db")
    only_path = Settings.load(config).storage
    assert only_path.url is None and only_path.target == Path("/var/lib/bot/from-env.db")


@pytest.mark.parametrize("url", ["mysql://bot:hunter2-secret@db/coalition", "sqlite://relative.db", "data/bot.db",
                                 "https://db.example.org/", ""])
def test_a_storage_url_of_another_scheme_is_refused_clearly(tmp_path: Path, url: str) -> None:
    config = tmp_path / "s.toml"
    config.write_text(f'[storage]\nurl = "{url}"\n')
    with pytest.raises(ValidationError, match="storage url must start with postgresql:// or sqlite:///"):
        Settings.load(config)


def test_the_storage_url_is_a_secret_never_printed(tmp_path: Path) -> None:
    settings = Settings(storage={"url": PG_URL})
    assert settings.storage.url is not None and settings.storage.url.get_secret_value() == PG_URL
    for shown in (repr(settings), str(settings), repr(settings.storage), settings.model_dump_json(),
                  json.dumps(settings.masked())):
        assert "hunter2" not in shown
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(tmp_path / "none.toml"), "check-config"],
                            capture_output=True, text=True, env={"BOT_STORAGE__URL": PG_URL, "PATH": ""}, cwd=ROOT,
                            timeout=60, check=True)
    assert "hunter2" not in result.stdout + result.stderr
    assert json.loads(result.stdout)["storage"]["url"] == "**********"


def test_a_refused_storage_url_is_not_echoed_with_its_password(tmp_path: Path) -> None:
    """The error names the problem, not the value: a mistyped scheme still carries the real password."""
    with pytest.raises(ValidationError) as refused:
        StorageSettings(url="mysql://bot:hunter2-secret@db/coalition")
    assert "hunter2" not in str(refused.value)
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(tmp_path / "none.toml"), "check-config"],
                            capture_output=True, text=True, env={"BOT_STORAGE__URL": "mysql://bot:hunter2-secret@db/x",
                                                                 "PATH": ""},
                            cwd=ROOT, timeout=60, check=False)
    assert result.returncode != 0
    assert "storage url must start with postgresql:// or sqlite:///" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


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
