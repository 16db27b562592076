"""Untrusted text into Slack mrkdwn: no mass mentions, no pings, no markup injection.

Slack treats ``<!channel>``, ``<!here>``, ``<!everyone>``, ``<!subteam^S1>`` and ``<@U1>`` as mentions that
notify people, and ``&``, ``<``, ``>`` as markup. Announcement text comes from people, so every string the
adapter posts goes through :func:`escape_mrkdwn` before the adapter adds its own markup (time stamps).
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"

_SPECIAL = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>", re.IGNORECASE)
_SUBTEAM = re.compile(r"<!subteam\^([A-Za-z0-9]+)(?:\|@?([^>]*))?>")
_USER = re.compile(r"<@([A-Za-z0-9]+)(?:\|([^>]*))?>")
_BARE_SPECIAL = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def neutralise_mentions(text: str) -> str:
    """Replace mention markup by inert, readable text: ``<!here>`` → ``@⁠here``, ``<@U1|ada>`` → ``@⁠ada``."""
    text = _SPECIAL.sub(lambda m: f"@{WORD_JOINER}{m.group(1).lower()}", text)
    text = _SUBTEAM.sub(lambda m: f"@{WORD_JOINER}{m.group(2) or m.group(1)}", text)
    text = _USER.sub(lambda m: f"@{WORD_JOINER}{m.group(2) or m.group(1)}", text)
    # "@here" typed as plain text only pings with link_names; break it anyway, the reader sees no difference.
    return _BARE_SPECIAL.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


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
