"""Untrusted text (announcements, titles) must never ping everyone, a channel, a role or a person.

The text is platform-neutral: one announcement reaches Slack, Discord and the console alike, so mention
markup of one platform (Slack's ``<!channel>``, ``<@U1|ada>``, ``<!subteam^S1|@team>``; Discord's
``<@123>``, ``<@&456>``) is turned into the readable words it stands for (``@channel``, ``@ada``,
``@team``), with an invisible word joiner after the ``@`` so that no platform reads them as a mention,
even through an adapter that forgets its own escaping. Nothing is shown as half-broken markup.
Adapters still neutralise their own syntax in every text they post (Slack escaping, Discord
``allowed_mentions``).
"""

from __future__ import annotations

import re

from bot.messages import strip_markers

WORD_JOINER = "\u2060"
# Slack specials: <!here>, <!channel|channel>, <!everyone>; Discord has no bracketed form of these.
_SPECIAL = re.compile(r"<!(everyone|here|channel)(?:\|[^<>]*)?>", re.IGNORECASE)
# Slack user groups: <!subteam^S123|@team> or <!subteam^S123>.
_SUBTEAM = re.compile(r"<!subteam\^([A-Za-z0-9]+)(?:\|@?([^<>]*))?>")
# People and roles: Slack <@U123|name> / <@U123>; Discord <@123>, <@!123>, <@&123>.
_PERSON_OR_ROLE = re.compile(r"<@[!&]?([A-Za-z0-9]+)(?:\|@?([^<>]*))?>")
# Typed as words: "@everyone" pings on Discord, "@here"/"@channel" on Slack with link_names.
_BROADCAST = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)


def _inert(name: str) -> str:
    return f"@{WORD_JOINER}{name}"


def neutralise_mentions(text: str) -> str:
    """Untrusted input made inert: forged time-stamp markers removed, then :func:`inert_mentions`."""
    return inert_mentions(strip_markers(text))


def inert_mentions(text: str) -> str:
    """``<!here>`` → ``@⁠here``, ``<@U1|ada>`` → ``@⁠ada``, ``<@&42>`` → ``@⁠42``, ``@everyone`` → ``@⁠everyone``
    (``⁠`` being an invisible word joiner): readable on every platform, a ping on none. The Slack adapter
    applies it to every text it posts (its time stamps are the core's own, so the markers stay); Discord
    needs no pass of its own, since it posts with ``allowed_mentions`` set to none."""
    text = _SPECIAL.sub(lambda match: _inert(match.group(1).lower()), text)
    text = _SUBTEAM.sub(lambda match: _inert(match.group(2) or match.group(1)), text)
    text = _PERSON_OR_ROLE.sub(lambda match: _inert(match.group(2) or match.group(1)), text)
    return _BROADCAST.sub(lambda match: _inert(match.group(1)), text)
