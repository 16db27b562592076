"""Bodies and headers into one MIME mail (:class:`email.message.EmailMessage`), and the ids it carries.

The structure is ``multipart/alternative`` (text/plain, then text/html: clients show the last they can), inside
``multipart/mixed`` when a file rides along (an .ics). Both text parts are quoted-printable UTF-8, so the mail
passes through servers without 8BITMIME and stays readable in its raw form.

``Message-ID`` is derived from the delivery key, so a retry after a crash sends the same id: SMTP cannot read
back what a server took, but the recipient's client can tell two copies are one mail.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import PurePosixPath

from adapters.email.render import Bodies
from bot import bidi
from bot.messages import Attachment

SUBJECT_LIMIT = 78
"""Characters of a subject (RFC 5322's recommended line length): longer ones are cut with an ellipsis."""
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class Envelope:
    """Every header of one mail, as plain values (built by the adapter, checked by the tests)."""

    sender: str
    sender_name: str
    recipient: str
    subject: str
    message_id: str
    date: datetime
    list_id: str
    language: str | None = None
    unsubscribe_url: str | None = None
    """Set for subscribers only: ``List-Unsubscribe`` with RFC 8058 one-click."""
    in_reply_to: str | None = None
    """The original's Message-ID, for a correction or a withdrawal."""


def message_id(seed: str, domain: str) -> str:
    """``<32 hex digits of sha256(seed)@domain>``: the same seed (a delivery key) always gives the same id."""
    return f"<{hashlib.sha256(seed.encode()).hexdigest()[:32]}@{domain}>"


def list_id(coalition: str, domain: str) -> str:
    """RFC 2919 ``List-Id``: the coalition's name as the phrase, ``<slug.domain>`` as the id."""
    slug = _NOT_SLUG.sub("-", coalition.lower()).strip("-") or "coalition"
    name = _one_line(coalition).replace("\\", "").replace('"', "")
    return f'"{name}" <{slug}.{domain}>' if name and name.isascii() else f"<{slug}.{domain}>"


def subject(coalition: str, headline: str, limit: int = SUBJECT_LIMIT) -> str:
    """``[coalition] headline`` on one line, cut to ``limit`` characters (isolates kept closed)."""
    prefix = f"[{_one_line(coalition)}] " if coalition.strip() else ""
    return bidi.cut(prefix + _one_line(headline), limit).strip()


def compose(envelope: Envelope, bodies: Bodies, attachment: Attachment | None = None) -> EmailMessage:
    """The mail. Raises ``ValueError`` or :class:`email.errors.MessageError` for an address the email package cannot
    write (the caller maps it)."""
    smtputf8 = not (envelope.recipient.isascii() and envelope.sender.isascii())
    mail = EmailMessage(policy=policy.SMTPUTF8 if smtputf8 else policy.SMTP)
    mail["From"] = Address(display_name=_one_line(envelope.sender_name), addr_spec=envelope.sender)
    # An address outside ASCII goes as it is (SMTPUTF8): Address() refuses a local part outside ASCII.
    mail["To"] = Address(addr_spec=envelope.recipient) if envelope.recipient.isascii() \
        else _one_line(envelope.recipient)
    mail["Subject"] = _one_line(envelope.subject)
    mail["Date"] = format_datetime(envelope.date)
    mail["Message-ID"] = envelope.message_id
    if envelope.in_reply_to:
        mail["In-Reply-To"] = envelope.in_reply_to
        mail["References"] = envelope.in_reply_to
    mail["Auto-Submitted"] = "auto-generated"
    mail["Precedence"] = "list"
    mail["List-Id"] = envelope.list_id
    if envelope.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(bodies.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    mail.add_alternative(bodies.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if attachment is not None:
        maintype, _slash, subtype = attachment.content_type.partition("/")
        mail.add_attachment(attachment.data, maintype=maintype or "application",
                            subtype=subtype or "octet-stream", filename=_filename(attachment.filename))
    if envelope.language:  # after the parts: setting content clears (or moves down) every Content-* header
        mail["Content-Language"] = envelope.language.replace("_", "-")
    return mail


def _one_line(text: str) -> str:
    """Header text: no line breaks or other control characters (they would end the header, or forge one)."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _filename(name: str) -> str:
    return _one_line(PurePosixPath(name.replace("\\", "/")).name) or "attachment"
