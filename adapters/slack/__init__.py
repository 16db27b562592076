"""The Slack adapter: slack-bolt in Socket Mode or HTTP mode, Block Kit rendering, DMs and channel posts.

The composition root calls :func:`running`. It is imported lazily here so that ``adapters.slack.manifest``
(used by ``python -m bot slack-manifest``) does not load slack_bolt.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.slack.app import SlackRunner
    from adapters.slack.settings import SlackSettings
    from bot.adapter_stores import ReplayStore
    from bot.commands.dispatcher import Dispatcher

__all__ = ["running"]


def running(slack: SlackSettings, dispatcher: Dispatcher, *, per_second: float, language: str, web_host: str,
            web_port: int, replays: ReplayStore) -> AbstractAsyncContextManager[SlackRunner]:
    """Connect to Slack and disconnect on exit; the runner's ``outlet`` is what the delivery worker sends
    through."""
    from adapters.slack.app import running as _running

    return _running(slack, dispatcher, per_second=per_second, language=language, web_host=web_host,
                    web_port=web_port, replays=replays)
