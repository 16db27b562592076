"""Button tokens: a button's ``custom_id`` holds a short token, the command invocation lives in SQLite.

Why: Discord allows 100 characters in a ``custom_id`` and invocations can be longer, and nothing about a
button may live only in memory, or it would stop working after a restart. The token is a hash of the
invocation, so the same button rendered twice (or for a thousand recipients) is stored once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from storage.database import Database, from_db_time, to_db_time

TOKEN_LENGTH = 20


def token_of(command: str) -> str:
    """The same for every rendering of the same invocation (so a delivered button can be recognised)."""
    return hashlib.sha256(command.encode()).hexdigest()[:TOKEN_LENGTH]


class ActionTokens:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def token_for(self, command: str, now: datetime) -> str:
        token = token_of(command)
        await self._db.execute("INSERT OR IGNORE INTO action_tokens (token, command, created_at) VALUES (?, ?, ?)",
                               (token, command, to_db_time(now)))
        return token

    async def command_for(self, token: str) -> str | None:
        row = await self._db.fetch_one("SELECT command FROM action_tokens WHERE token = ?", (token,))
        return str(row[0]) if row else None


class SendAttempts:
    """When each delivery key was first sent: a retry after Discord's nonce window must look before sending."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def first_attempt(self, delivery_key: str, now: datetime) -> datetime:
        await self._db.execute("INSERT OR IGNORE INTO discord_send_attempts (delivery_key, first_at) VALUES (?, ?)",
                               (delivery_key, to_db_time(now)))
        row = await self._db.fetch_one("SELECT first_at FROM discord_send_attempts WHERE delivery_key = ?",
                                       (delivery_key,))
        assert row is not None
        return from_db_time(str(row[0]))
