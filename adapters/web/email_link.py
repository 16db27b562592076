"""Linking an address to a chat account from the email manage page: the form's words, and the core's answer as the
page shows it (kept beside :mod:`adapters.web.email`, which is at the module size limit).

The form runs ``link <code>`` as ``email:<address>`` (:meth:`bot.linking.service.LinkService.claim`), so the page
answers what chat answers: the same refusal for a wrong and an expired code, the same wrong-code limits (rows per
identity and for everyone), and a proposal the chat account that gave the code confirms there. The page never
shows the code back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.web.render import Renderer
from bot import dates
from bot.commands.context import Caller
from bot.errors import UserError
from bot.i18n import Text, _
from bot.messages import Message, render_stamps, strip_markers

LinkClaim = Callable[[Caller, str], Awaitable[Message]]
"""``link <code>`` as a caller (``LinkService.claim``); raises :class:`UserError` for a code not valid or over a
limit."""

LINK_LABELS: dict[str, Text] = {
    "link_title": _("Link this address to your chat account"),
    "link_note": _("Linking makes this address and your Slack or Discord account one person: you get one copy of "
                   "each message, and choose where messages go with “settings platform” in chat. Type “link” in "
                   "chat to get a code, enter it here, then confirm in chat."),
    "link_code": _("Code from chat"),
    "link": _("Link"),
}
EMPTY = _("Enter the code that “link” gave you in chat.")


async def claim(link: LinkClaim, caller: Caller, code: str) -> tuple[Message, bool]:
    """The core's answer to ``code`` and whether it is a refusal. An empty form is refused here without asking
    the core: it is not a wrong code, so it counts towards no limit."""
    if not code.strip():
        return Message(body=(EMPTY,)), True
    try:
        return await link(caller, code.strip()), False
    except UserError as error:
        return Message(body=(error.message,)), True


def answer_lines(renderer: Renderer, answer: Message, language: str, zone: str) -> tuple[str, ...]:
    """The answer's title and paragraphs in the page's language, any time in it (a limit's "try again at") on
    the follower's own clock."""
    def local(text: str) -> str:
        return strip_markers(render_stamps(text, lambda unix, style: dates.format_stamp(unix, style, zone,
                                                                                      language)))
    return tuple(local(renderer.text(part, language)) for part in (answer.title, *answer.body) if part is not None)
