"""``python -m bot discord-invite``: the URL that adds the bot to a server with exactly the permissions it needs.

Offline, and without discord.py: the application id comes from ``[discord] application_id`` or, when that is
left out, from the bot token (a bot token starts with the bot's id, which is its application's id). The URL
goes to standard output (easy to copy or script); notes go to standard error. The token is never printed.
"""

from __future__ import annotations

import sys
from typing import TextIO

from adapters.discord.permissions import (
    REQUIRED,
    application_id_from_token,
    english_names,
    invite_url,
    required_value,
)
from adapters.discord.settings import DiscordSettings

NO_APPLICATION_ID = (
    "No Discord application id: set [discord] application_id (Developer Portal → your application → General "
    "Information → Application ID, or BOT_DISCORD__APPLICATION_ID), or [discord] token.")


def application_id(config: DiscordSettings) -> tuple[int | None, bool]:
    """The application id and whether it was read from the token rather than set."""
    if config.application_id is not None:
        return config.application_id, False
    if config.token is not None:
        found = application_id_from_token(config.token.get_secret_value())
        if found is not None:
            return found, True
    return None, False


def print_invite(config: DiscordSettings, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Exit status 0 with the URL printed; 2 when no application id is known."""
    out, err = out or sys.stdout, err or sys.stderr
    app_id, from_token = application_id(config)
    if app_id is None:
        print(NO_APPLICATION_ID, file=err)
        return 2
    print(invite_url(app_id), file=out)
    print(f"Permissions {required_value()}: {english_names(REQUIRED)}.", file=err)
    if from_token:
        print(f"Application id {app_id} read from the bot token; if the link opens another application, set "
              "[discord] application_id.", file=err)
    return 0
