"""``[slack]`` in settings.toml: the Slack adapter's own section (the composition root reads the file).

No Slack SDK here: ``check-config`` and the manifest load this without slack_bolt.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, SecretStr


class SlackSettings(BaseModel):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    mode: Literal["socket", "http"] = "socket"
    api_base_url: str = "https://slack.com/api/"
    umbrella_command: str = "/coalition"
    coordinator_group: str | None = None
    dedupe_after_crash: bool = True
    """Read a conversation's recent history back before retrying a post that may have landed (a crash, a 5xx,
    a dropped connection), so it is never posted twice. Needs the history scopes, which the manifest then asks
    for: the bot may read recent messages of the DMs and channels it posts to. ``false`` drops those scopes,
    and such a retry may post a second copy."""

    @property
    def configured(self) -> bool:
        return self.bot_token is not None and bool(self.bot_token.get_secret_value())
