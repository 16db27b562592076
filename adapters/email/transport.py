"""Where a composed mail goes: an SMTP server (:class:`SmtpTransport`) or a folder of .eml files
(:class:`FolderTransport`, the demo and dry runs).

What an SMTP answer means for the delivery worker:

- Before RCPT (connecting, TLS, login, ``MAIL FROM``) every failure is transient, 5xx included: it is about this
  bot's server or settings (a wrong password, a sender the relay does not allow), never about the recipient, so
  the rows wait and retry (and the platform's circuit opens) while an operator fixes it, instead of failing
  every delivery for good.
- ``RCPT TO`` answered 5xx: the address is refused — :class:`RecipientRefused`, permanent, and it counts toward
  the address's bounce score. 4xx (greylisting, a full mailbox for now) is transient.
- The final answer to ``DATA``: 5xx is permanent (the message was refused, e.g. by a content filter — not counted
  against the address), 4xx transient.
- The connection lost or a step timed out once the message body is being sent: the server may have taken it
  without our hearing its final 250, so the error is transient with ``may_have_landed``. SMTP has no way to read
  back what a server took, so the retry sends it again — with the same ``Message-ID``, which lets the
  recipient's client tell it is one mail. Lost before that point, nothing was taken: a plain retry.

One connection per mail: simple, and at the few mails a second a relay allows, the handshake costs little.
Every step has a timeout (``timeout`` seconds each, and the whole exchange at most :data:`STEPS` times that).
Reasons name the SMTP code only, never the address nor the server's text (which often quotes the address).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib

from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.i18n import Msg, _

Security = Literal["none", "starttls", "tls"]
STEPS = 8
"""Network steps in one exchange (connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA): the whole exchange's
bound is this many step timeouts."""
QUIT_TIMEOUT = 5.0
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._@-]+")


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One composed mail for one recipient: the envelope and the bytes (CRLF line ends)."""

    sender: str
    recipient: str
    message_id: str
    data: bytes
    smtputf8: bool = False
    """The addresses need SMTPUTF8 (an address outside ASCII)."""


class MailTransport(Protocol):
    async def send(self, mail: OutgoingMail) -> None:
        """Hand ``mail`` over for delivery. Returns once the server (or the folder) has taken it. Raises
        :class:`~bot.delivery.errors.TransientDeliveryError` or :class:`~bot.delivery.errors.PermanentDeliveryError`
        (:class:`RecipientRefused` when the recipient's address itself was refused)."""
        ...


class RecipientRefused(PermanentDeliveryError):
    """The server refused the recipient's address (5xx at RCPT): counts toward its bounce score. About the address,
    not the message (``account_level``): a DM falls back to the person's other accounts."""

    def __init__(self, reason: Msg) -> None:
        super().__init__(reason, account_level=True)


class SmtpTransport:
    """Sends each mail over its own SMTP connection (aiosmtplib). ``security``: ``starttls`` requires the server
    to offer STARTTLS (never a silent fall-back to plain text), ``tls`` is TLS from the first byte, ``none`` no TLS
    (a relay on the same host). ``tls_context`` for a private CA (and the tests)."""

    def __init__(self, host: str, port: int, *, security: Security = "starttls", user: str | None = None,
                 password: str | None = None, timeout: float = 30.0, tls_context: ssl.SSLContext | None = None,
                 local_hostname: str | None = None) -> None:
        self._host = host
        self._port = port
        self._security = security
        self._user = user
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context
        self._local_hostname = local_hostname

    async def send(self, mail: OutgoingMail) -> None:
        client = aiosmtplib.SMTP(hostname=self._host, port=self._port, use_tls=self._security == "tls",
                                 start_tls=self._security == "starttls", username=self._user or None,
                                 password=self._password or None, timeout=self._timeout,
                                 tls_context=self._tls_context, local_hostname=self._local_hostname)
        stage = "connect"
        try:
            async with asyncio.timeout(self._timeout * STEPS):
                await client.connect()
                if client.is_ehlo_or_helo_needed:  # no STARTTLS nor login asked for it yet
                    await client.ehlo()
                encoding = "utf-8" if mail.smtputf8 else "ascii"
                options: list[str] = []
                if mail.smtputf8:
                    if not client.supports_extension("smtputf8"):
                        # About the account when the recipient's address is what needs it (their other accounts
                        # would take the message); about the settings when only the sender's does.
                        raise PermanentDeliveryError(
                            _("Email: the mail server cannot send to addresses outside ASCII."),
                            account_level=not mail.recipient.isascii())
                    options.append("SMTPUTF8")
                stage = "mail"
                await client.mail(mail.sender, options=options, encoding=encoding)
                stage = "rcpt"
                await client.rcpt(mail.recipient, encoding=encoding)
                stage = "data"
                await client.data(mail.data)
                stage = "done"
        except (aiosmtplib.SMTPException, OSError) as error:  # TimeoutError is an OSError
            raise _mapped(error, stage) from error
        finally:
            if stage == "done":
                await _quit(client)
            else:
                client.close()


def _mapped(error: BaseException, stage: str) -> PermanentDeliveryError | TransientDeliveryError:
    if isinstance(error, aiosmtplib.SMTPResponseException):
        code = error.code
        if stage == "connect" and isinstance(error, aiosmtplib.SMTPAuthenticationError):
            return TransientDeliveryError(_("Email: the mail server did not accept the login ({code}).", code=code))
        if 500 <= code < 600 and stage == "rcpt":
            return RecipientRefused(_("Email: the mail server refused this address ({code}).", code=code))
        if 500 <= code < 600 and stage == "data":
            return PermanentDeliveryError(_("Email: the mail server refused the message ({code}).", code=code))
        return TransientDeliveryError(_("Email: the mail server refused for now ({code}).", code=code))
    if isinstance(error, OSError):  # disconnected, timed out, refused: aiosmtplib's are OSErrors too
        if stage == "data":
            return TransientDeliveryError(_("Email: the connection was lost while the message was sent; it may "
                                            "have arrived."), may_have_landed=True)
        return TransientDeliveryError(_("Network error ({error}).", error=type(error).__name__))
    # The server lacks what the settings need (STARTTLS, AUTH, a mechanism): fixed in the settings or the server.
    return TransientDeliveryError(_("Email: the mail server does not offer what the settings ask for (STARTTLS "
                                    "or login)."))


async def _quit(client: aiosmtplib.SMTP) -> None:
    """Say goodbye after the server took the mail; a failure here changes nothing (it has the mail)."""
    try:
        async with asyncio.timeout(QUIT_TIMEOUT):
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


class FolderTransport:
    """Writes each mail to ``directory`` as ``<message id>.eml`` (readable by any mail client), so a new user sees
    the mails without a server. A retry overwrites the same file, as the id is the same; each file appears whole
    (written aside, then renamed) so a reader never opens half a mail."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def path_of(self, message_id: str) -> Path:
        name = _UNSAFE_NAME.sub("_", message_id.strip().strip("<>")) or "mail"
        return self._directory / f"{name}.eml"

    async def send(self, mail: OutgoingMail) -> None:
        try:
            await asyncio.to_thread(self._write, self.path_of(mail.message_id), mail.data)
        except OSError as error:
            raise TransientDeliveryError(_("Email: could not write the mail to its folder ({error}).",
                                           error=type(error).__name__)) from error

    def _write(self, path: Path, data: bytes) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self._directory, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
