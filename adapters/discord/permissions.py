"""The one definition of the Discord permissions the bot needs; the channel overwrites of ``setup``, the invite
URL (``python -m bot discord-invite``), the start-up check and every "missing permissions" message derive
from it.

Why one definition: Discord lets a bot allow or deny in a channel overwrite only permissions it holds itself
(403, code 50013), so an overwrite that asks for one more permission than the invite grants fails for every
coalition that followed the documented invite. No discord.py here: the CLI builds the invite URL without the
SDK and without the network.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.i18n import Text, _

ADMINISTRATOR = 1 << 3
INVITE_BASE = "https://discord.com/oauth2/authorize"
INVITE_SCOPES = "bot applications.commands"


@dataclass(frozen=True, slots=True)
class Permission:
    """One Discord permission: its bit, discord.py's attribute name, and the name Discord's settings show."""

    bit: int
    attribute: str
    label: Text

    @property
    def english(self) -> str:
        """The name in Discord's English interface, for logs and the CLI."""
        return self.label.msgid


VIEW_CHANNEL = Permission(1 << 10, "view_channel", _("View Channels"))
SEND_MESSAGES = Permission(1 << 11, "send_messages", _("Send Messages"))
EMBED_LINKS = Permission(1 << 14, "embed_links", _("Embed Links"))
ATTACH_FILES = Permission(1 << 15, "attach_files", _("Attach Files"))
READ_MESSAGE_HISTORY = Permission(1 << 16, "read_message_history", _("Read Message History"))
MANAGE_ROLES = Permission(1 << 28, "manage_roles", _("Manage Roles"))
CREATE_PUBLIC_THREADS = Permission(1 << 35, "create_public_threads", _("Create Public Threads"))
CREATE_PRIVATE_THREADS = Permission(1 << 36, "create_private_threads", _("Create Private Threads"))
SEND_MESSAGES_IN_THREADS = Permission(1 << 38, "send_messages_in_threads", _("Send Messages in Threads"))

BOT_ALLOW: tuple[Permission, ...] = (VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS, ATTACH_FILES, READ_MESSAGE_HISTORY)
"""What the bot's own overwrite allows in a bound channel: see it, post embeds and .ics files, and read back its
recent posts (a delivery retried after Discord's nonce window looks for itself in the history). Publishing its
own posts in an announcement channel needs nothing more than Send Messages."""

EVERYONE_DENY: tuple[Permission, ...] = (SEND_MESSAGES, SEND_MESSAGES_IN_THREADS, CREATE_PUBLIC_THREADS,
                                         CREATE_PRIVATE_THREADS)
"""What the ``@everyone`` overwrite denies, so only the bot posts (threads included). Discord requires the bot to
hold each of these itself to deny it."""

TO_EDIT_OVERWRITES: tuple[Permission, ...] = (VIEW_CHANNEL, MANAGE_ROLES)
"""Editing a channel's overwrites needs Manage Roles ("Manage Permissions" in a channel's settings) in that
channel, which Discord grants nobody who cannot see the channel."""


def _unique(*groups: Iterable[Permission]) -> tuple[Permission, ...]:
    seen: dict[int, Permission] = {}
    for group in groups:
        for permission in group:
            seen.setdefault(permission.bit, permission)
    return tuple(sorted(seen.values(), key=lambda p: p.bit))


REQUIRED: tuple[Permission, ...] = _unique(BOT_ALLOW, EVERYONE_DENY, TO_EDIT_OVERWRITES)
"""Everything the bot needs in the coalition's server: what the invite asks for."""


def value_of(permissions: Iterable[Permission]) -> int:
    total = 0
    for permission in permissions:
        total |= permission.bit
    return total


def required_value() -> int:
    """The permissions integer of the invite URL."""
    return value_of(REQUIRED)


def missing(held: int, wanted: Iterable[Permission] = REQUIRED) -> tuple[Permission, ...]:
    """The wanted permissions ``held`` lacks (none when it includes Administrator), in Discord's order."""
    if held & ADMINISTRATOR:
        return ()
    return tuple(p for p in _unique(wanted) if not held & p.bit)


def of_bits(bits: int, attributes: Mapping[int, str]) -> tuple[Permission, ...]:
    """Every permission set in ``bits``, in Discord's order. Ours carry the name Discord's settings show; any
    other — an existing overwrite that ``setup`` keeps may set permissions the bot never asks for — is named
    from ``attributes`` (bit → discord.py's attribute name), quoted, so a refusal still names each one."""
    known = {p.bit: p for p in REQUIRED}
    found: list[Permission] = []
    for position in range(bits.bit_length()):
        bit = 1 << position
        if not bits & bit:
            continue
        attribute = attributes.get(bit, f"permission_{position}")
        found.append(known.get(bit) or Permission(bit, attribute, _(
            "“{permission}”", permission=attribute.replace("_", " ").title())))
    return tuple(found)


def names(permissions: Iterable[Permission]) -> Text:
    """The permissions as one translated list ("Manage Roles, Send Messages in Threads")."""
    labels = [p.label for p in permissions]
    if not labels:
        raise ValueError("no permissions to name")
    text = labels[-1]
    for label in reversed(labels[:-1]):
        text = _("{first}, {rest}", first=label, rest=text)
    return text


def english_names(permissions: Iterable[Permission]) -> str:
    return ", ".join(p.english for p in permissions)


def invite_url(application_id: int, permissions: int | None = None) -> str:
    """The OAuth2 URL that adds the bot to a server with the permissions it needs (no token in it)."""
    query = urlencode({"client_id": str(application_id), "scope": INVITE_SCOPES,
                       "permissions": str(required_value() if permissions is None else permissions)})
    return f"{INVITE_BASE}?{query}"


def application_id_from_token(token: str) -> int | None:
    """The bot's user id, which a bot token starts with (base64); for every application created since 2016
    it is also the application id. ``None`` when the token is not shaped like a bot token."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() and 15 <= len(decoded) <= 21 else None
