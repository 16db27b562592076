"""The Slack adapter: slack-bolt in Socket Mode or HTTP mode, Block Kit rendering, DMs and channel posts.

The composition root calls :func:`running`. It is imported lazily here so that ``adapters.slack.manifest``
(used by ``python -m bot slack-manifest``) does not load slack_bolt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.slack.app import SlackRunner
    from adapters.slack.seen import SeenDeliveries
    from adapters.slack.settings import SlackSettings
    from bot.adapter_stores import ReplayStore
    from bot.commands.dispatcher import Dispatcher
    from bot.model import Identity

__all__ = ["running"]


def running(slack: SlackSettings, dispatcher: Dispatcher, *, workspace_per_second: float,
            workspace_max_per_second: float, language: str, replays: ReplayStore,
            seen: SeenDeliveries | None = None,
            remember_dm: Callable[[Identity, str], Awaitable[None]] | None = None,
            forget_dm: Callable[[Identity, str], Awaitable[bool]] | None = None
            ) -> AbstractAsyncContextManager[SlackRunner]:
    """Connect to Slack and disconnect on exit; the runner's ``outlet`` is what the delivery worker sends
    through."""
    from adapters.slack.app import running as _running

    return _running(slack, dispatcher, workspace_per_second=workspace_per_second,
                    workspace_max_per_second=workspace_max_per_second, language=language, replays=replays,
                    seen=seen, remember_dm=remember_dm, forget_dm=forget_dm)
