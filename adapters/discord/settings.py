"""``[discord]`` in settings.toml: the Discord adapter's own section (the composition root reads the file).

No discord.py here: ``check-config`` loads this without the SDK.
"""

from __future__ import annotations

from pydantic import BaseModel, SecretStr


class DiscordSettings(BaseModel):
    token: SecretStr | None = None
    guild_id: int | None = None
    application_id: int | None = None
    """For ``discord-invite`` (Developer Portal → General Information → Application ID); read from the token
    when left out. At run time the bot takes it from Discord."""
    member_role: str | None = None
    coordinator_role: str | None = None
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str | None = None
    global_sync: bool = False

    @property
    def configured(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value())
