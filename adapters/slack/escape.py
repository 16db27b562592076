"""Untrusted text into Slack mrkdwn: no mass mentions, no pings, no markup injection.

Slack treats ``<!channel>``, ``<!here>``, ``<!everyone>``, ``<!subteam^S1>`` and ``<@U1>`` as mentions that
notify people, and ``&``, ``<``, ``>`` as markup. Announcement text comes from people, so every string the
adapter posts goes through :func:`escape_mrkdwn` before the adapter adds its own markup (time stamps). The
mentions become the words they stand for (``@here``, ``@ada``) with an invisible word joiner after the ``@``
— the core's own rule (:func:`bot.untrusted.inert_mentions`) — so the reader sees natural text, never
escaped markup such as ``<!channel>``, and nobody is notified.
"""

from __future__ import annotations

import re

from bot.untrusted import inert_mentions


def neutralise_mentions(text: str) -> str:
    """Replace mention markup by inert, readable text: ``<!here>`` → ``@⁠here``, ``<@U1|ada>`` → ``@⁠ada``."""
    return inert_mentions(text)


def escape_entities(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_mrkdwn(text: str) -> str:
    """Neutralise mentions, then escape ``& < >``: safe to place in any mrkdwn text object."""
    return escape_entities(neutralise_mentions(text))


_URL = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)\|([^>]*)>")


def clean_command_text(text: str) -> str:
    """Slash command text as the core's grammar expects it.

    With ``should_escape: true`` Slack sends links as ``<https://…>`` and escapes ``& < >`` typed by the
    person; user mentions stay ``<@U1|name>`` (the core resolves them). Channel references become
    ``<#C1|name>`` and are kept as the id form ``<#C1>`` so a command can address the channel itself.
    """
    text = _URL.sub(lambda m: m.group(1), text)
    text = _CHANNEL.sub(lambda m: f"<#{m.group(1)}>", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
