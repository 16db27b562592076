"""Typed settings from ``settings.toml`` plus ``BOT_<SECTION>__<KEY>`` environment variables (env wins).

Only the composition root reads these; the core receives plain values (:class:`bot.config.CoreConfig`).
Secrets are ``SecretStr`` so they never print, not even in ``check-config``.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from adapters.discord.settings import DiscordSettings
from adapters.email.settings import EmailSettings
from adapters.slack.settings import SlackSettings
from bot.config import CoreConfig
from bot.i18n import available_languages
from bot.model import Identity
from bot.retention import RetentionPolicy

DEFAULT_SETTINGS_FILE = Path("settings.toml")
_settings_file: ContextVar[Path] = ContextVar("settings_file", default=DEFAULT_SETTINGS_FILE)


class StorageSettings(BaseModel):
    """Where the coalition's data lives: a SQLite file (the default) or a PostgreSQL database.

    ``url`` wins when set: ``postgresql://user:password@host/dbname`` (several processes may share it), or
    ``sqlite:///relative/file.db`` / ``sqlite:////absolute/file.db``. Unset, ``path`` names the SQLite file
    (``BOT_STORAGE__PATH`` keeps working).
    """

    model_config = ConfigDict(hide_input_in_errors=True)

    path: Path = Path("data/coalition.db")
    url: SecretStr | None = None
    """A secret: a PostgreSQL URL may carry a password. Never logged."""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
                ("postgresql://", "postgres://", "sqlite:///")):
            raise ValueError("storage url must start with postgresql:// or sqlite:///")
        return value

    @property
    def target(self) -> Path | str:
        """What :meth:`storage.database.Database.open` takes: a SQLite path or a PostgreSQL URL."""
        if self.url is None:
            return self.path
        url = self.url.get_secret_value()
        # sqlite:///data/x.db is relative, sqlite:////srv/x.db absolute (as SQLAlchemy reads them).
        return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else url

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.target, str)


class ConsoleSettings(BaseModel):
    enabled: Literal["auto"] | bool = "auto"
    user: str = "demo-admin"


class WebSettings(BaseModel):
    """The public web site (pages, feeds, calendars, health), served by the bot process itself."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    base_url: str | None = None
    """The site's public address behind a reverse proxy (``https://follow.example.org/``): absolute links in
    feeds and calendars, canonical and ``webcal://`` links. Unset: links are relative."""
    indexable: bool = False
    """Whether search engines may index the site; off: ``robots.txt`` disallows all and pages say noindex."""
    log_addresses: bool = False
    """Whether access logs keep client addresses (off: nobody can later list who read what)."""
    metrics_token: SecretStr | None = None
    """The bearer token a Prometheus scrape of ``/metrics`` must send; unset: ``/metrics`` is off (its counts
    would tell anyone when members-only work happens)."""

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")) or "?" in value or "#" in value:
            raise ValueError(f"base_url must be an http:// or https:// address without ? or #, not {value!r}")
        return value.rstrip("/")


class DeliverySettings(BaseModel):
    poll_seconds: float = Field(default=5.0, gt=0)
    max_attempts: int | None = Field(default=None, ge=1)
    """Deprecated and ignored (deliveries retry until ``retry_for_hours``); still accepted so an existing
    settings file loads. The composition root logs a warning when it is set."""
    retry_for_hours: float = Field(default=24.0, ge=0)
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=300.0, gt=0)
    concurrency: int = Field(default=8, ge=1, le=50)  # per platform, at most the worker's batch of 50 rows
    circuit_failures: int = Field(default=5, ge=1)
    circuit_cooldown_seconds: float = Field(default=1.0, gt=0)
    circuit_cooldown_max_seconds: float = Field(default=5.0, gt=0)
    lease_seconds: float = Field(default=60.0, ge=5)
    console_per_second: float = Field(default=100.0, gt=0)
    slack_workspace_per_second: float = Field(default=20.0, gt=0)
    """Where Slack's workspace budget for posts starts; it learns from 429s (down fast, up a step a clean
    minute). Each channel, each DM included, is also kept to about one post a second."""
    slack_workspace_max_per_second: float = Field(default=100.0, gt=0)
    """The most the Slack workspace budget learns to."""
    discord_global_limit: float = Field(default=50.0, gt=0)
    """Discord's global request limit for the bot (50 unless Discord granted more); paced at 0.97 of it, lower
    for a while after Discord answers a global 429."""
    slack_per_second: float | None = Field(default=None, gt=0)
    """Deprecated and ignored (see ``slack_workspace_per_second``); still accepted so an existing settings file
    loads. The composition root logs a warning when it is set."""
    discord_per_second: float | None = Field(default=None, gt=0)
    """Deprecated and ignored (see ``discord_global_limit``); still accepted, with a warning."""
    missed_grace_hours: float = Field(default=6.0, ge=0)
    digest_hour: int = Field(default=8, ge=0, le=23)
    weekly_digest_day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = \
        "monday"


class PrivacySettings(BaseModel):
    """How long the bot keeps what it no longer needs, in days (0: for ever); pruned once a day."""

    keep_deliveries_days: int = Field(default=90, ge=0)
    keep_audit_days: int = Field(default=365, ge=0)
    keep_past_meetings_days: int = Field(default=365, ge=0)

    def policy(self) -> RetentionPolicy:
        """The windows as the core takes them (it never reads the settings)."""
        return RetentionPolicy.from_days(self.keep_deliveries_days, self.keep_audit_days,
                                         self.keep_past_meetings_days)


class CoalitionSettings(BaseModel):
    name: str = "Demo Coalition"
    timezone: str = "UTC"
    language: str = "en"
    languages: list[str] | None = None
    """Every language the coalition writes in, in the order the read-only public channel carries them
    (``language`` among them); unset: just ``language``."""
    admins: list[str] = Field(default_factory=list)
    request_expiry_days: float = Field(default=14, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("language")
    @classmethod
    def _available_language(cls, value: str) -> str:
        available = available_languages()
        if value not in available:
            raise ValueError(f"language {value!r} has no catalogue; available: {', '.join(available)}")
        return value

    @field_validator("languages")
    @classmethod
    def _available_languages(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        available = available_languages()
        unknown = [language for language in value if language not in available]
        if unknown:
            raise ValueError(f"no catalogue for {', '.join(map(repr, unknown))}; available: {', '.join(available)}")
        if not value:
            raise ValueError("list at least one language, or leave it out for just [coalition] language")
        if len(set(value)) != len(value):
            raise ValueError(f"a language is listed twice: {value}")
        return value

    @model_validator(mode="after")
    def _default_is_listed(self) -> CoalitionSettings:
        if self.languages is not None and self.language not in self.languages:
            raise ValueError(f"[coalition] language {self.language!r} must be one of [coalition] languages "
                             f"{self.languages}")
        return self

    @property
    def channel_languages(self) -> tuple[str, ...]:
        """The coalition's languages in order: ``languages``, or just ``language``."""
        return tuple(self.languages) if self.languages else (self.language,)

    @field_validator("admins")
    @classmethod
    def _identities(cls, value: list[str]) -> list[str]:
        for entry in value:
            Identity.parse(entry)
        return value


class Settings(BaseSettings):
    # An invalid value is named, never echoed: a refused storage URL or token would print its secret.
    model_config = SettingsConfigDict(env_prefix="BOT_", env_nested_delimiter="__", extra="forbid",
                                      hide_input_in_errors=True)

    storage: StorageSettings = StorageSettings()
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()
    console: ConsoleSettings = ConsoleSettings()
    web: WebSettings = WebSettings()
    email: EmailSettings = EmailSettings()
    delivery: DeliverySettings = DeliverySettings()
    coalition: CoalitionSettings = CoalitionSettings()
    privacy: PrivacySettings = PrivacySettings()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Order is precedence: explicit arguments, then the environment, then the TOML file.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, _settings_file.get())

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read ``path`` (default ``settings.toml`` in the working directory; a missing file is empty)."""
        token = _settings_file.set(path or DEFAULT_SETTINGS_FILE)
        try:
            return cls()
        finally:
            _settings_file.reset(token)

    @model_validator(mode="after")
    def _email_needs_the_site(self) -> Settings:
        if self.email.configured and not self.web.enabled:
            raise ValueError("[email] needs the web pages ([web] enabled = true): every mail links to them "
                             "(confirm, manage, unsubscribe)")
        if self.email.configured and self.web.port == 0 and not self.web.base_url:
            raise ValueError("[email] with [web] port = 0 needs [web] base_url: mails must link to a known address")
        return self

    @property
    def console_enabled(self) -> bool:
        if self.console.enabled == "auto":
            return not (self.slack.configured or self.discord.configured)
        return bool(self.console.enabled)

    @property
    def console_only(self) -> bool:
        return self.console_enabled and not (self.slack.configured or self.discord.configured)

    def core_config(self) -> CoreConfig:
        return CoreConfig(
            coalition_name=self.coalition.name,
            default_timezone=self.coalition.timezone,
            default_language=self.coalition.language,
            languages=self.coalition.channel_languages,
            admins=frozenset(Identity.parse(entry) for entry in self.coalition.admins),
            request_expiry=timedelta(days=self.coalition.request_expiry_days),
        )

    def masked(self) -> dict[str, Any]:
        """The effective settings with every secret replaced by ``**********`` (or ``null`` when unset)."""
        return self.model_dump(mode="json")
