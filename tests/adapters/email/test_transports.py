"""The two transports on their own terms: SMTP security and login against aiosmtpd (STARTTLS and TLS with a
certificate made for the test), addresses outside ASCII, the .eml folder; and the ``[email]`` settings."""

from __future__ import annotations

import asyncio
import email
import os
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import ValidationError

from adapters.email.compose import message_id
from adapters.email.delivery import UNWRITABLE, EmailAdapter
from adapters.email.settings import EmailSettings
from adapters.email.transport import FolderTransport, OutgoingMail, SmtpTransport
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.i18n import Translator
from bot.messages import RenderedMessage
from bot.model import Identity, IdentityRecord, Role
from tests.adapters.email.smtp_server import TIMEOUT, Handler, Health, Links, smtp_server
from tests.support import FixedClock

MAIL = OutgoingMail(sender="bot@coalition.example", recipient="follower@example.org", message_id="<abc@x>",
                    data=b"Subject: hello\r\nMessage-ID: <abc@x>\r\n\r\nHi.\r\n")


def adapter(transport: Any, clock: FixedClock, health: Health | None = None) -> EmailAdapter:
    async def keys(address: str) -> str | None:
        return "K" * 32

    async def zone_of(address: str) -> str:
        return "UTC"

    return EmailAdapter(transport, from_address="bot@coalition.example", coalition_name="Green Coalition",
                        list_id_domain="coalition.example", links=Links(), keys=keys, health=health or Health(),
                        zone_of=zone_of, translator=Translator.untranslated(), clock=clock)


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def person(address: str) -> IdentityRecord:
    return IdentityRecord(identity=Identity("email", address), person_id=1, display_name=address,
                          platform_role=Role.OUTSIDER, dm_closed_reason=None, dm_channel_id=None)


# --- TLS and login ---------------------------------------------------------------------------------


@pytest.fixture
def certificate() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for 127.0.0.1 from a throw-away authority (trustme, a dev dependency: nothing to install on
    the machine): the server's context and a client context that trusts that authority."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return server, client


class TlsHandler(Handler):
    """Also records whether each mail came over TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.encrypted: list[bool] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.encrypted.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)


async def test_starttls_is_used_when_asked_and_required(certificate: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_tls, client_tls = certificate
    handler = TlsHandler()
    async with smtp_server(handler, tls_context=server_tls, require_starttls=True) as port:
        transport = SmtpTransport("127.0.0.1", port, security="starttls", tls_context=client_tls, timeout=5)
        await asyncio.wait_for(transport.send(MAIL), TIMEOUT)
    assert handler.encrypted == [True] and len(handler.received) == 1


async def test_starttls_asked_of_a_server_without_it_is_refused_not_sent_in_clear() -> None:
    handler = Handler()
    async with smtp_server(handler) as port:
        transport = SmtpTransport("127.0.0.1", port, security="starttls", timeout=2)
        with pytest.raises(TransientDeliveryError) as refused:
            await asyncio.wait_for(transport.send(MAIL), TIMEOUT)
    assert not refused.value.may_have_landed
    assert Translator.untranslated().render(refused.value.reason, None) == \
        "Email: the mail server does not offer what the settings ask for (STARTTLS or login)."
    assert handler.received == []


async def test_implicit_tls(certificate: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_tls, client_tls = certificate
    handler = TlsHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="mail.test"), "127.0.0.1", 0, ssl=server_tls)
    try:
        port = server.sockets[0].getsockname()[1]
        transport = SmtpTransport("127.0.0.1", port, security="tls", tls_context=client_tls, timeout=5)
        await asyncio.wait_for(transport.send(MAIL), TIMEOUT)
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), TIMEOUT)
    assert len(handler.received) == 1


@pytest.fixture
async def login_port() -> AsyncIterator[tuple[int, Handler]]:
    """A server that takes only ``bot``/``right`` (over plain text, as a relay on the same host would)."""
    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bot", b"right")
        return AuthResult(success=good, handled=False)  # handled=False: the server answers 535 itself

    handler = Handler()
    async with smtp_server(handler, authenticator=authenticate, auth_require_tls=False) as port:
        yield port, handler


async def test_a_login_is_sent_and_a_refused_one_is_transient(login_port: tuple[int, Handler]) -> None:
    port, handler = login_port
    wrong = SmtpTransport("127.0.0.1", port, security="none", user="bot", password="wrong", timeout=2)
    with pytest.raises(TransientDeliveryError) as refused:
        await asyncio.wait_for(wrong.send(MAIL), TIMEOUT)
    assert Translator.untranslated().render(refused.value.reason, None) == \
        "Email: the mail server did not accept the login (535)."
    assert "wrong" not in str(refused.value)

    right = SmtpTransport("127.0.0.1", port, security="none", user="bot", password="right", timeout=2)
    await asyncio.wait_for(right.send(MAIL), TIMEOUT)
    assert len(handler.received) == 1


# --- addresses ---------------------------------------------------------------------------------------


async def test_an_address_outside_ascii_needs_smtputf8(clock: FixedClock) -> None:
    address = "zoé@exämple.org"
    plain = Handler()
    async with smtp_server(plain) as port:
        with pytest.raises(PermanentDeliveryError) as refused:
            await asyncio.wait_for(adapter(SmtpTransport("127.0.0.1", port, security="none", timeout=2), clock)
                                   .send_direct(person(address), RenderedMessage(title="Hi"), delivery_key="k"),
                                   TIMEOUT)
    assert plain.received == []
    assert refused.value.account_level, "the address is what the server cannot take: the person's other accounts can"

    capable = Handler()
    async with smtp_server(capable, enable_SMTPUTF8=True) as port:
        await asyncio.wait_for(adapter(SmtpTransport("127.0.0.1", port, security="none", timeout=2), clock)
                               .send_direct(person(address), RenderedMessage(title="Hi"), delivery_key="k"), TIMEOUT)
    assert capable.received[0].recipients == [address]
    assert capable.messages()[0]["To"] == address


async def test_a_server_without_smtputf8_refuses_the_sender_not_an_ascii_recipient() -> None:
    """Only the sender's address (the settings) is outside ASCII: every recipient would be refused alike, so the
    refusal is about the message, not the recipient's account (no fall-back, the account stays open)."""
    mail = OutgoingMail(sender="bót@coalition.example", recipient="follower@example.org", message_id="<abc@x>",
                        data=MAIL.data, smtputf8=True)
    plain = Handler()
    async with smtp_server(plain) as port:
        with pytest.raises(PermanentDeliveryError) as refused:
            await asyncio.wait_for(SmtpTransport("127.0.0.1", port, security="none", timeout=2).send(mail), TIMEOUT)
    assert not refused.value.account_level
    assert plain.received == []


async def test_an_address_that_cannot_be_written_fails_for_good_without_sending(
        tmp_path: Path, clock: FixedClock) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        await adapter(FolderTransport(tmp_path), clock).send_direct(person("a@b@c.org"), RenderedMessage(title="x"),
                                                                    delivery_key="k")
    assert refused.value.reason == UNWRITABLE
    assert refused.value.account_level, "about the address: a DM falls back to the person's other accounts"
    assert names(tmp_path) == []


def test_a_sender_that_is_not_an_address_fails_at_start(clock: FixedClock) -> None:
    with pytest.raises((ValueError, email.errors.MessageError)):
        EmailAdapter(FolderTransport(Path("unused")), from_address="not an address", coalition_name="C",
                     list_id_domain="x.org", links=Links(), keys=lambda address: asyncio.sleep(0, None),
                     health=Health(), zone_of=lambda address: asyncio.sleep(0, "UTC"),
                     translator=Translator.untranslated(), clock=clock)


# --- the folder ----------------------------------------------------------------------------------------


async def test_the_folder_gets_one_readable_eml_per_message_id(tmp_path: Path, clock: FixedClock) -> None:
    folder = tmp_path / "mail"
    mailer = adapter(FolderTransport(folder), clock)
    for _retry in range(2):  # a retry rewrites the same file
        await mailer.send_direct(person("follower@example.org"), RenderedMessage(title="Réunion", body=("Salut",),
                                                                                 language="fr"), delivery_key="k1")
    await mailer.send_direct(person("follower@example.org"), RenderedMessage(title="Other"), delivery_key="k2")

    ids = sorted(message_id(key, "coalition.example") for key in ("k1", "k2"))
    assert names(folder) == [f"{mail_id.strip('<>')}.eml" for mail_id in ids], "no half-written file is left"
    first = email.message_from_bytes(FolderTransport(folder).path_of(message_id("k1", "coalition.example"))
                                     .read_bytes(), policy=email.policy.default)
    assert first["Subject"] == "[Green Coalition] Réunion"
    body = first.get_body(("plain",))
    assert body is not None and "Salut" in body.get_content()


async def test_a_folder_that_cannot_be_written_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TransientDeliveryError):
        await FolderTransport(blocker / "mail").send(MAIL)


# --- settings ------------------------------------------------------------------------------------------


def test_settings_are_off_unless_enabled_and_refused_when_incomplete() -> None:
    assert not EmailSettings().configured
    assert not EmailSettings(host="smtp.example.org", from_address="bot@x.org").configured  # not enabled
    for incomplete, missing in (({"host": "smtp.example.org"}, "from_address"),
                                ({"from_address": "bot@x.org"}, "host or to_folder"),
                                ({"host": "smtp.example.org", "from_address": "bot"}, "with a domain")):
        with pytest.raises(ValidationError, match=missing):
            EmailSettings.model_validate({"enabled": True, **incomplete})
    for bad in ("lists x.org", "x.org>", "x"):
        with pytest.raises(ValidationError, match="list_id_domain"):
            EmailSettings(list_id_domain=bad)
    on = EmailSettings(enabled=True, host="smtp.example.org", from_address="bot@coalition.example",
                       password="s3cret")
    assert on.configured and on.domain == "coalition.example" and on.default_port == 587
    assert "s3cret" not in repr(on)
    assert EmailSettings(enabled=True, to_folder=Path("mail"), from_address="bot@x.org").configured
    assert EmailSettings(from_address="bot@x.org", list_id_domain="lists.x.org").domain == "lists.x.org"
    assert EmailSettings(security="tls").default_port == 465
    with pytest.raises(ValidationError):
        EmailSettings(security="ssl")
    with pytest.raises(ValidationError):
        EmailSettings(per_second=0)
