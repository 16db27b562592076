"""Errors a person can read. Anything raised from a handler that is not a :class:`UserError` is a bug."""

from __future__ import annotations

from bot.i18n import Msg, Text, _
from bot.model import Role


class UserError(Exception):
    """Bad input or a refused action. The message is shown to the caller; nothing has been changed.

    ``show_usage`` adds the command's usage line to the reply.
    """

    def __init__(self, message: Msg, *, show_usage: bool = False) -> None:
        super().__init__(message if isinstance(message, str) else message.msgid)
        self.message = message
        self.show_usage = show_usage


class UsageError(UserError):
    def __init__(self, message: Msg) -> None:
        super().__init__(message, show_usage=True)


class PermissionDenied(UserError):
    """The caller lacks ``required``; the message names the role so they know whom to ask."""

    def __init__(self, required: Role, topic_slug: str | None = None) -> None:
        message: Text
        if topic_slug is not None and required is Role.COORDINATOR:
            message = _("Only a coordinator of “{topic}” or an admin can do this.", topic=topic_slug)
        else:
            message = _("This needs the {role} role.", role=required.label)
        super().__init__(message)
        self.required = required
