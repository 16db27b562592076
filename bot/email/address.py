"""What counts as an email address here: one spelling per mailbox, so one identity per follower.

Deliberately simpler than RFC 5322 (no quoted local parts, comments or IP literals): a form field, not a mail
header. The whole address is lower-cased — the local part is case-sensitive in theory and never in practice, and
two spellings of one mailbox must not become two followers.
"""

from __future__ import annotations

import re

from bot.errors import UserError
from bot.i18n import _

MAX_LENGTH = 254
"""The longest address SMTP carries (RFC 5321's path limit less its angle brackets)."""

_FORBIDDEN = re.compile(r"[\s<>,;\"()\[\]\\]")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


def normalise(text: str) -> str:
    """``text`` as the address it names, stripped and lower-cased. Raises :class:`UserError` (translated, with
    no echo of the input: it may be anything) when it is not one address."""
    address = text.strip().lower()
    if not _valid(address):
        raise UserError(_("That is not an email address. Write it like name@example.org."))
    return address


def _valid(address: str) -> bool:
    if not address or len(address) > MAX_LENGTH or not address.isprintable() or _FORBIDDEN.search(address):
        return False
    local, at, domain = address.partition("@")
    if not at or not local or "@" in domain or len(local) > 64 or local.startswith(".") or local.endswith(".") \
            or ".." in local:
        return False
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_domain.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


_DOTLESS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
"""Providers that ignore dots in the local part (and the domain they are one mailbox with)."""


def mailbox(address: str) -> str:
    """The mailbox a normalised ``address`` reaches, for rate limits only: without a ``+tag`` and, at providers
    that ignore them, without dots — ``a.n.n+1@gmail.com`` and ``ann+2@googlemail.com`` are one inbox to flood."""
    local, _at, domain = address.partition("@")
    local = local.split("+", 1)[0] or local
    if domain in _DOTLESS:
        local, domain = local.replace(".", ""), _DOTLESS[domain]
    return f"{local}@{domain}"


def mask(address: str) -> str:
    """``a•••@example.org``: enough for its owner to recognise, too little to harvest from a forwarded link."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"
