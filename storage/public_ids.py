"""Opaque ids for what the public web names (announcements, meetings): see :data:`bot.public.model.PUBLIC_ID`."""

from __future__ import annotations

import secrets


def new_public_id() -> str:
    """16 lowercase hex digits (64 random bits), as the migration gives older rows (``lower(hex(randomblob(8)))``).
    """
    return secrets.token_hex(8)
