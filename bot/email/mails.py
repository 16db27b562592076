"""The two mails the subscribe form can cause — the only ones an unconfirmed address ever gets. Composed as core
messages so the delivery worker renders them in the reader's language like any notice."""

from __future__ import annotations

from bot.i18n import _, _n
from bot.messages import Message
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Topic


def confirm_mail(topic: Topic, url: str, hours: int) -> Message:
    """Asks for the click that starts the subscription (double opt-in); says how to ignore it, since anyone can
    type anyone's address into a form."""
    return Message(
        title=_("Confirm your subscription"),
        body=(_("Someone, probably you, asked to receive “{topic}” by email at this address.", topic=topic.title),
              _("To confirm, open this link: {url}", url=url),
              _n("The link works for {hours} hour. If you did not ask for this, ignore this mail: nothing more "
                 "will be sent to you.",
                 "The link works for {hours} hours. If you did not ask for this, ignore this mail: nothing more "
                 "will be sent to you.", hours, hours=hours)))


def already_mail(topic: Topic, mode: DeliveryMode, url: str) -> Message:
    """Sent instead of a confirmation when the address already follows the topic: the web page answered the same
    either way, so only the mailbox's owner learns it."""
    return Message(
        title=_("You already follow “{topic}”", topic=topic.title),
        body=(_("This address already receives “{topic}” by email ({mode}).", topic=topic.title, mode=mode.label),
              _("To change or stop it: {url}", url=url)))
