"""Button tokens: a button's ``custom_id`` holds a short token, the command invocation lives in the database.

Why: Discord allows 100 characters in a ``custom_id`` and invocations can be longer, and nothing about a
button may live only in memory, or it would stop working after a restart. The token is a hash of the
invocation, so the same button rendered twice (or for a thousand recipients) is stored once, and a delivered
button can be recognised without a look-up. The hash (and its length, which the button's ``custom_id``
pattern matches) is the adapter's; the rows are kept through :class:`bot.adapter_stores.ActionTokenStore`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime

from bot.adapter_stores import ActionTokenStore

TOKEN_LENGTH = 20


def token_of(command: str) -> str:
    """The same for every rendering of the same invocation (so a delivered button can be recognised)."""
    return hashlib.sha256(command.encode()).hexdigest()[:TOKEN_LENGTH]


REMEMBERED = 10_000
"""Tokens this process knows are stored. A fan-out renders the same buttons for every recipient, and writing
them again for each one cost two write transactions per DM (the serial part of a Discord send); rows are
never deleted, so a token once stored stays stored."""


class ActionTokens:
    def __init__(self, store: ActionTokenStore, remembered: int = REMEMBERED) -> None:
        self._store = store
        self._stored: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered

    async def token_for(self, command: str, now: datetime) -> str:
        """The token to put in a button for ``command``, kept so a click after a restart still finds it."""
        token = token_of(command)
        if token in self._stored:
            self._stored.move_to_end(token)
            return token
        await self._store.remember(token, command, now)
        self._stored[token] = None
        if len(self._stored) > self._remembered:
            self._stored.popitem(last=False)
        return token

    async def command_for(self, token: str) -> str | None:
        """The invocation behind a clicked button's token; ``None`` for a token the bot never issued."""
        return await self._store.command_for(token)
