"""The Discord adapter: app commands, buttons and modals, DMs, and a followable announcement channel.

The composition root calls :func:`running` when ``[discord]`` is configured. discord.py is imported only
then, so reading the settings (``adapters.discord.settings``) never loads it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from adapters.discord.stores import DiscordStores
from adapters.discord.turns import SoleTurns

if TYPE_CHECKING:
    from adapters.discord.client import DiscordRunner
    from adapters.discord.settings import DiscordSettings
    from adapters.discord.turns import GatewayTurns
    from bot.clock import Clock
    from bot.commands.dispatcher import Dispatcher
    from bot.i18n import Translator

__all__ = ["DiscordStores", "SoleTurns", "running"]


def running(config: DiscordSettings, dispatcher: Dispatcher, stores: DiscordStores, translator: Translator,
            clock: Clock, *, global_limit: float = 50.0, language: str,
            turns: GatewayTurns | None = None) -> AbstractAsyncContextManager[DiscordRunner]:
    """Log in; the runner's ``outlet`` is what the delivery worker sends through (REST, at once). The gateway
    connects per shard while ``turns`` gives this process the shard's turn (default: always, one process)."""
    from adapters.discord.client import running as _running

    return _running(config, dispatcher, stores, translator, clock, global_limit=global_limit, language=language,
                    turns=turns)
