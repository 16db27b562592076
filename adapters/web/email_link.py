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
from bot.email.service import ChatSide
from bot.errors import UserError
from bot.i18n import Text, _, _n
from bot.linking.service import CLAIM_WARNING
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
    "remove_linked_note": _("Your address, its pending requests and these links are deleted. Your subscriptions "
                            "stay with your chat account, which you manage there."),
}
EMPTY = _("Enter the code that “link” gave you in chat.")
MYDATA_IN_CHAT = _("This address is linked to your chat account: type “mydata” in chat to get everything we hold "
                   "about you. This page, reached by a link in every mail, does not hand it out.")
OWN_CODES_ONLY = _("Only enter codes your own chat account gave you: whoever gave this code can now join this "
                   "address to their account, with everything in it. If someone else gave it to you, remove this "
                   "address below: that withdraws the request, or undoes the link if it was confirmed.")


async def claim(link: LinkClaim, caller: Caller, code: str) -> tuple[Message, bool]:
    """The core's answer to ``code`` and whether it is a refusal. An empty form is refused here without asking
    the core: it is not a wrong code, so it counts towards no limit."""
    if not code.strip():
        return Message(body=(EMPTY,)), True
    try:
        answer = await link(caller, code.strip())
    except UserError as error:
        return Message(body=(error.message,)), True
    # The core's claim answer tells chat to type “link cancel”; the page has no such command, so it says what is
    # true here (a proposal's answer has a title; "already one person" has none and needs no warning).
    body = tuple(part for part in answer.body if part != CLAIM_WARNING)
    return Message(title=answer.title, body=(*body, OWN_CODES_ONLY) if answer.title else body), False


def chat_topics(renderer: Renderer, side: ChatSide, language: str) -> str | None:
    """"You also follow n topics in chat" (never which: the page shows public topics only), or ``None``."""
    if not side.chat_topics:
        return None
    return renderer.text(_n("You also follow {n} topic in chat; manage it there.",
                            "You also follow {n} topics in chat; manage them there.", side.chat_topics), language)


def answer_lines(renderer: Renderer, answer: Message, language: str, zone: str) -> tuple[str, ...]:
    """The answer's title and paragraphs in the page's language, any time in it (a limit's "try again at") on
    the follower's own clock."""
    def local(text: str) -> str:
        return strip_markers(render_stamps(text, lambda unix, style: dates.format_stamp(unix, style, zone,
                                                                                      language)))
    return tuple(local(renderer.text(part, language)) for part in (answer.title, *answer.body) if part is not None)
