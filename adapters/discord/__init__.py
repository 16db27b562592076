"""The Discord adapter: app commands, buttons and modals, DMs, and a followable announcement channel.

The composition root calls :func:`running` when ``[discord]`` is configured.
"""

from adapters.discord.client import DiscordRunner, running

__all__ = ["DiscordRunner", "running"]
