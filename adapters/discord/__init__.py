"""The Discord adapter: app commands, buttons and modals, DMs, and a followable announcement channel.

The composition root calls :func:`running` when ``[discord]`` is configured. discord.py is imported only
then, so reading the settings (``adapters.discord.settings``) never loads it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from adapters.discord.stores import DiscordStores

if TYPE_CHECKING:
    from adapters.discord.client import DiscordRunner
    from adapters.discord.settings import DiscordSettings
    from bot.clock import Clock
    from bot.commands.dispatcher import Dispatcher
    from bot.i18n import Translator

__all__ = ["DiscordStores", "running"]


def running(config: DiscordSettings, dispatcher: Dispatcher, stores: DiscordStores, translator: Translator,
            clock: Clock, *, global_limit: float = 50.0,
            language: str) -> AbstractAsyncContextManager[DiscordRunner]:
    """Log in and connect; the runner's ``outlet`` is what the delivery worker sends through."""
    from adapters.discord.client import running as _running

    return _running(config, dispatcher, stores, translator, clock, global_limit=global_limit, language=language)
