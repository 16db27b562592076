"""Email as a fourth platform: the :class:`~bot.ports.PlatformAdapter` that mails followers.

An email follower is an identity ``("email", address)``; a delivery to them is one mail with text and HTML
alternatives of the same rendered message, in their language and with times in their zone (both chosen on the
subscribe form). A mail cannot be changed once sent, so ``edit`` sends a correction and ``delete`` a withdrawal
notice, each a reply to the original (``In-Reply-To``/``References``) so clients thread them under it. There
are no channels: ``send_channel`` refuses.

Each mail's ``Message-ID`` comes from its delivery key (see :mod:`adapters.email.compose`), and SMTP has no read
back, so this adapter is not :class:`~bot.ports.InFlightAware`: a retry after an uncertain failure sends again,
and the same id lets the reader's client see one mail.

The bounce score: a recipient refused at sending time counts once (``EmailHealth.refused``), any mail the server
takes resets it (``delivered``), and a paused address is refused here without connecting to anything. Nothing
here logs an address or a message's text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from email.errors import MessageError
from email.headerregistry import Address

from adapters.email.compose import Envelope, compose, list_id, message_id, subject
from adapters.email.ports import EmailHealth, EmailLinks, KeyLookup, LanguageLookup
from adapters.email.render import Footer, headline, render_bodies, stamps_in
from adapters.email.transport import MailTransport, OutgoingMail, RecipientRefused
from bot.clock import Clock
from bot.delivery.errors import PermanentDeliveryError
from bot.delivery.model import SentMessage
from bot.i18n import Msg, Translator, _
from bot.messages import RenderedMessage
from bot.model import IdentityRecord

PLATFORM = "email"
PAUSED = _("Email: sending to this address is paused after repeated refusals; it can be resumed on its manage page.")
NO_CHANNELS = _("Email has no channels: it only reaches people who follow topics by email.")
UNWRITABLE = _("Email: this address cannot be written in a mail.")


class EmailAdapter:
    """Mails rendered messages through ``transport`` (:class:`~adapters.email.transport.SmtpTransport`, or
    :class:`~adapters.email.transport.FolderTransport` for the demo).

    ``keys`` gives a subscriber's manage/unsubscribe key (``None`` for an address that follows nothing yet: its
    confirmation mail carries no unsubscribe header or links); ``zone_of`` and ``language_of`` the zone and
    language chosen for an address (the language only for a withdrawal, which has no rendered message).
    ``list_id_domain`` names the ``Message-ID`` and ``List-Id`` domain (the sender's, normally). A
    ``from_address`` that is not an address fails here, at start, rather than every delivery (``ValueError`` or
    :class:`email.errors.MessageError`).
    """

    def __init__(self, transport: MailTransport, *, from_address: str, coalition_name: str, list_id_domain: str,
                 links: EmailLinks, keys: KeyLookup, health: EmailHealth, zone_of: Callable[[str], Awaitable[str]],
                 translator: Translator, clock: Clock, language_of: LanguageLookup | None = None) -> None:
        Address(addr_spec=from_address)
        self._transport = transport
        self._from = from_address
        self._coalition = coalition_name
        self._domain = list_id_domain
        self._list_id = list_id(coalition_name, list_id_domain)
        self._links = links
        self._keys = keys
        self._health = health
        self._zone_of = zone_of
        self._language_of = language_of
        self._translator = translator
        self._clock = clock

    @property
    def platform(self) -> str:
        return PLATFORM

    async def send_direct(self, recipient: IdentityRecord, message: RenderedMessage, *,
                          delivery_key: str) -> SentMessage:
        """One mail to the identity's address; its ``Message-ID`` is the same on every retry of ``delivery_key``.
        Raises :class:`~bot.delivery.errors.PermanentDeliveryError` for a paused or refused address."""
        address = recipient.identity.external_id
        mail_id = message_id(delivery_key, self._domain)
        await self._send(address, message, mail_id)
        return SentMessage(platform=PLATFORM, channel_id=address, message_ids=(mail_id,))

    async def send_channel(self, channel_id: str, message: RenderedMessage, *, delivery_key: str) -> SentMessage:
        """Always raises :class:`~bot.delivery.errors.PermanentDeliveryError`: email has no channels."""
        raise PermanentDeliveryError(NO_CHANNELS)

    async def edit(self, sent: SentMessage, message: RenderedMessage) -> None:
        """Send ``message`` as a correction replying to the original. Its id comes from the original's and the
        new text, so a retry of the same edit reuses it."""
        original = sent.message_ids[0] if sent.message_ids else None
        content = hashlib.sha256(message.plain_text().encode()).hexdigest()
        await self._send(sent.channel_id, message, message_id(f"edit:{original}:{content}", self._domain),
                         in_reply_to=original, correction=True)

    async def delete(self, sent: SentMessage) -> None:
        """A mail cannot be unsent: send a withdrawal notice replying to the original, in the address's
        language."""
        language = await self._language_of(sent.channel_id) if self._language_of is not None else None
        original = sent.message_ids[0] if sent.message_ids else None
        notice = RenderedMessage(
            title=self._translator.render(_("Withdrawn: an earlier message"), language),
            body=(self._translator.render(_("The message this mail replies to was withdrawn by its sender. Please "
                                            "disregard it."), language),),
            language=language)
        await self._send(sent.channel_id, notice, message_id(f"delete:{original}", self._domain),
                         in_reply_to=original)

    async def _send(self, address: str, message: RenderedMessage, mail_id: str, *, in_reply_to: str | None = None,
                    correction: bool = False) -> None:
        if await self._health.is_paused(address):
            raise PermanentDeliveryError(PAUSED, account_level=True)
        language = message.language

        def tr(text: Msg) -> str:
            return self._translator.render(text, language)

        times = stamps_in(await self._zone_of(address), language)
        named = headline(message, times)
        notice = None
        if correction:
            named = tr(_("Correction: {title}", title=named))
            notice = tr(_("This mail corrects an earlier one, which it replies to."))
        title = subject(self._coalition, named)
        key = await self._keys(address)
        footer = None if key is None else Footer(self._coalition, self._links.manage_url(key),
                                                 self._links.unsubscribe_url(key))
        bodies = render_bodies(message, tr=tr, times=times, subject=title, notice=notice, footer=footer)
        envelope = Envelope(sender=self._from, sender_name=self._coalition, recipient=address, subject=title,
                            message_id=mail_id, date=self._clock.now(), list_id=self._list_id, language=language,
                            unsubscribe_url=footer.unsubscribe_url if footer is not None else None,
                            in_reply_to=in_reply_to)
        try:
            mail = compose(envelope, bodies, message.attachment)
            data = mail.as_bytes()
        except (ValueError, TypeError, IndexError, MessageError) as error:  # an address the email package cannot write
            # About the address, not the message (the sender was checked at start): the person's other accounts
            # would take it, so a DM falls back to them.
            raise PermanentDeliveryError(UNWRITABLE, account_level=True) from error
        outgoing = OutgoingMail(sender=self._from, recipient=address, message_id=mail_id, data=data,
                                smtputf8=not (address.isascii() and self._from.isascii()))
        try:
            await self._transport.send(outgoing)
        except RecipientRefused:
            await self._health.refused(address, self._clock.now())
            raise
        await self._health.delivered(address)
