"""Untrusted text (announcements, titles) must never ping everyone, a channel, a role or a person.

Adapters neutralise their own syntax too (Slack escaping, Discord ``allowed_mentions``); this is the
platform-neutral layer, so text is safe even on an adapter that forgets.
"""

from __future__ import annotations

import re

from bot.messages import strip_markers

WORD_JOINER = "\u2060"
_BROADCAST = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
_MARKUP = re.compile(r"<(?=[!@#&])")


def neutralise_mentions(text: str) -> str:
    """``@everyone`` → ``@\u2060everyone``; ``<!here>``, ``<@U1>``, ``<@&role>`` lose their special meaning."""
    text = strip_markers(text)
    text = _BROADCAST.sub(lambda match: f"@{WORD_JOINER}{match.group(1)}", text)
    return _MARKUP.sub(f"<{WORD_JOINER}", text)
