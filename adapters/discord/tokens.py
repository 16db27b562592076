"""Button tokens: a button's ``custom_id`` holds a short token, the command invocation lives in the database.

Why: Discord allows 100 characters in a ``custom_id`` and invocations can be longer, and nothing about a
button may live only in memory, or it would stop working after a restart. The token is a hash of the
invocation, so the same button rendered twice (or for a thousand recipients) is stored once, and a delivered
button can be recognised without a look-up. The hash (and its length, which the button's ``custom_id``
pattern matches) is the adapter's; the rows are kept through :class:`bot.adapter_stores.ActionTokenStore`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.adapter_stores import ActionTokenStore

TOKEN_LENGTH = 20


def token_of(command: str) -> str:
    """The same for every rendering of the same invocation (so a delivered button can be recognised)."""
    return hashlib.sha256(command.encode()).hexdigest()[:TOKEN_LENGTH]


class ActionTokens:
    def __init__(self, store: ActionTokenStore) -> None:
        self._store = store

    async def token_for(self, command: str, now: datetime) -> str:
        """The token to put in a button for ``command``, kept so a click after a restart still finds it."""
        token = token_of(command)
        await self._store.remember(token, command, now)
        return token

    async def command_for(self, token: str) -> str | None:
        """The invocation behind a clicked button's token; ``None`` for a token the bot never issued."""
        return await self._store.command_for(token)
