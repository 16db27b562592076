"""The email adapter against a real SMTP server on loopback (aiosmtpd): what a follower's mail client receives
(headers, both parts, the footer's links, an attachment), corrections and withdrawals, and what each SMTP answer
means for the delivery worker (4xx, 5xx, a dropped connection, a slow server)."""

from __future__ import annotations

import asyncio
import html
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from adapters.email.compose import message_id
from adapters.email.delivery import NO_CHANNELS, PAUSED, EmailAdapter
from adapters.email.transport import RecipientRefused, SmtpTransport
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.model import SentMessage
from bot.i18n import Translator
from bot.messages import Attachment, RenderedAction, RenderedField, RenderedMessage, stamp
from bot.model import Identity, IdentityRecord, Role
from tests.adapters.email.smtp_server import BASE, TIMEOUT, Handler, Health, Links, smtp_server
from tests.support import FixedClock

ADDRESS = "follower@example.org"
KEY = "K" * 32
FROM = "bot@coalition.example"
DOMAIN = "coalition.example"

Factory = Callable[..., EmailAdapter]


def recipient(address: str = ADDRESS) -> IdentityRecord:
    return IdentityRecord(identity=Identity("email", address), person_id=7, display_name=address,
                          platform_role=Role.OUTSIDER, dm_closed_reason=None, dm_channel_id=None)


def announcement(**changes: Any) -> RenderedMessage:
    base = RenderedMessage(title="Climate march on Saturday",
                           body=("Meet at the station.\nBring water.",
                                 "Details: https://example.org/march?day=sat&x=1."))
    return replace(base, **changes)


def parts(mail: EmailMessage) -> tuple[str, str]:
    plain, rich = mail.get_body(("plain",)), mail.get_body(("html",))
    assert isinstance(plain, EmailMessage) and isinstance(rich, EmailMessage)
    # The parts travel with CRLF line ends; a mail client shows lines.
    return str(plain.get_content()).replace("\r\n", "\n"), str(rich.get_content()).replace("\r\n", "\n")


@pytest.fixture
def handler() -> Handler:
    return Handler()


@pytest.fixture
async def port(handler: Handler) -> AsyncIterator[int]:
    async with smtp_server(handler) as served:
        yield served


@pytest.fixture
def health() -> Health:
    return Health()


@pytest.fixture
def make(port: int, health: Health, clock: FixedClock) -> Factory:
    def build(*, key: str | None = KEY, zone: str = "Africa/Nairobi", target: int | None = None,
              translator: Translator | None = None, timeout: float = 2.0) -> EmailAdapter:
        async def keys(address: str) -> str | None:
            return key

        async def zone_of(address: str) -> str:
            return zone

        return EmailAdapter(SmtpTransport("127.0.0.1", target or port, security="none", timeout=timeout),
                            from_address=FROM, coalition_name="Green Coalition", list_id_domain=DOMAIN,
                            links=Links(), keys=keys, health=health, zone_of=zone_of,
                            translator=translator or Translator.untranslated(), clock=clock)
    return build


async def send(adapter: EmailAdapter, message: RenderedMessage, key: str = "announcement:1:7") -> SentMessage:
    return await asyncio.wait_for(adapter.send_direct(recipient(), message, delivery_key=key), TIMEOUT)


async def test_a_subscriber_gets_every_header_both_parts_and_the_footer_links(
        make: Factory, handler: Handler, health: Health, clock: FixedClock) -> None:
    sent = await send(make(), announcement())

    assert len(handler.received) == 1
    received = handler.received[0]
    assert received.sender == FROM and received.recipients == [ADDRESS]
    mail = received.message()
    assert mail["From"].addresses[0].addr_spec == FROM
    assert mail["From"].addresses[0].display_name == "Green Coalition"
    assert mail["To"] == ADDRESS
    assert mail["Subject"] == "[Green Coalition] Climate march on Saturday"
    assert parsedate_to_datetime(mail["Date"]) == clock.now()
    assert mail["Message-ID"] == message_id("announcement:1:7", DOMAIN)
    assert re.fullmatch(r"<[0-9a-f]{32}@coalition\.example>", mail["Message-ID"])
    assert mail["List-Id"] == '"Green Coalition" <green-coalition.coalition.example>'
    # A long URL is folded onto its own line (RFC 5322 folding): readers unfold it.
    assert mail["List-Unsubscribe"].strip() == f"<{BASE}/email/unsubscribe/{KEY}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Precedence"] == "list"
    assert mail.get_content_type() == "multipart/alternative"
    plain, rich = parts(mail)
    assert "Climate march on Saturday" in plain and "Meet at the station.\nBring water." in plain
    assert f"Manage your subscription: {BASE}/email/manage/{KEY}" in plain
    assert f"Unsubscribe: {BASE}/email/unsubscribe/{KEY}" in plain
    assert "\n-- \n" in plain
    assert f'<a href="{BASE}/email/manage/{KEY}">Manage your subscription</a>' in rich
    assert f'<a href="{BASE}/email/unsubscribe/{KEY}">Unsubscribe</a>' in rich
    assert '<a href="https://example.org/march?day=sat&amp;x=1">' in rich
    assert "Meet at the station.<br>\nBring water." in rich
    assert 'lang="en" dir="ltr"' in rich
    assert not re.search(r"\bsrc=|<link|<img|url\(", rich), "no resource is loaded from elsewhere"
    assert sent == SentMessage(platform="email", channel_id=ADDRESS, message_ids=(mail["Message-ID"],))
    assert health.deliveries == {ADDRESS: 1}


async def test_a_confirmation_mail_to_an_address_that_follows_nothing_has_no_unsubscribe(
        make: Factory, handler: Handler) -> None:
    await send(make(key=None), announcement(title=None, body=("Confirm: http://127.0.0.1:8080/email/confirm/x",)))

    mail = handler.messages()[0]
    assert mail["List-Unsubscribe"] is None and mail["List-Unsubscribe-Post"] is None
    assert mail["List-Id"] is not None
    plain, rich = parts(mail)
    assert "/email/manage/" not in plain + rich and "/email/unsubscribe/" not in plain + rich
    assert mail["Subject"] == "[Green Coalition] Confirm: http://127.0.0.1:8080/email/confirm/x"


async def test_html_escapes_user_content_and_links_only_http_urls(make: Factory, handler: Handler) -> None:
    body = ('<script>alert(1)</script> "quoted" & more',
            "see javascript:alert(1) and ftp://files.example and (https://en.wikipedia.org/wiki/A_(b)).")
    await send(make(), announcement(title="<b>Bold</b> & co", body=body))

    plain, rich = parts(handler.messages()[0])
    assert "<script>" not in rich and "&lt;script&gt;alert(1)&lt;/script&gt;" in rich
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in rich
    assert 'href="javascript' not in rich and 'href="ftp' not in rich
    assert '<a href="https://en.wikipedia.org/wiki/A_(b)">https://en.wikipedia.org/wiki/A_(b)</a>).' in rich
    assert '<script>alert(1)</script> "quoted" & more' in plain
    assert html.unescape(re.sub(r"<[^>]+>", "", rich)).count("alert(1)") == 2


async def test_times_are_on_the_recipients_wall_clock(make: Factory, handler: Handler) -> None:
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    await send(make(zone="Africa/Nairobi"), announcement(title=f"Meeting {stamp(at, 't')}",
                                                         fields=(RenderedField("When", stamp(at)),)))

    mail = handler.messages()[0]
    plain, rich = parts(mail)
    assert "Meeting 3:00 PM (Africa/Nairobi)" in mail["Subject"] and "\ue000" not in mail["Subject"]
    assert "When: Tuesday, December 1, 2026, 3:00\u202fPM (Africa/Nairobi)" in plain and "(Africa/Nairobi)" in plain
    assert "(Africa/Nairobi)" in rich and "\ue000" not in plain + rich


async def test_arabic_and_french_mails_encode_their_subjects_and_mark_the_direction(
        make: Factory, handler: Handler) -> None:
    adapter = make(translator=Translator.load())
    await send(adapter, announcement(title="مسيرة المناخ يوم السبت", body=("نلتقي في المحطة.",), language="ar"),
               key="a:1")
    await send(adapter, announcement(title="Réunion élargie à Genève — ordre du jour", body=("Ça commence.",),
                                     language="fr"), key="a:2")

    arabic, french = handler.messages()
    assert arabic["Subject"] == "[Green Coalition] مسيرة المناخ يوم السبت"
    assert french["Subject"] == "[Green Coalition] Réunion élargie à Genève — ordre du jour"
    for raw in (item.data for item in handler.received):
        headers = raw.split(b"\r\n\r\n", 1)[0]
        assert headers.isascii(), "non-ASCII headers travel as encoded words"
        assert b"=?utf-8?" in headers
    assert arabic["Content-Language"] == "ar" and french["Content-Language"] == "fr"
    _, rich = parts(arabic)
    assert '<html lang="ar" dir="rtl">' in rich and "نلتقي في المحطة." in rich
    plain, rich = parts(french)
    assert "Ça commence." in plain and '<html lang="fr" dir="ltr">' in rich


async def test_a_long_subject_is_cut_and_headers_cannot_be_forged(make: Factory, handler: Handler) -> None:
    await send(make(), announcement(title="Climate " * 30), key="a:1")
    await send(make(), announcement(title="Hello\r\nBcc: victim@example.net\r\nX-Evil: 1"), key="a:2")

    long, forged = handler.messages()
    assert len(long["Subject"]) <= 78 and long["Subject"].endswith("…")
    assert forged["Bcc"] is None and forged["X-Evil"] is None
    assert forged["Subject"] == "[Green Coalition] Hello"
    assert [item.recipients for item in handler.received] == [[ADDRESS], [ADDRESS]]


async def test_an_attachment_rides_along_and_actions_are_dropped(make: Factory, handler: Handler) -> None:
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    await send(make(), announcement(attachment=Attachment("../meeting.ics", "text/calendar", ics),
                                    actions=(RenderedAction("Unsubscribe me now", "unsubscribe climate"),)))

    mail = handler.messages()[0]
    assert mail.get_content_type() == "multipart/mixed"
    files = list(mail.iter_attachments())
    assert [(f.get_filename(), f.get_content_type(), f.get_content()) for f in files] == \
        [("meeting.ics", "text/calendar", ics.decode())]
    plain, rich = parts(mail)
    assert "Unsubscribe me now" not in plain + rich and "unsubscribe climate" not in plain + rich


async def test_an_edit_is_a_correction_and_a_delete_a_withdrawal_replying_to_the_original(
        make: Factory, handler: Handler) -> None:
    adapter = make()
    sent = await send(adapter, announcement())
    corrected = announcement(title="Climate march on Sunday")
    await asyncio.wait_for(adapter.edit(sent, corrected), TIMEOUT)
    await asyncio.wait_for(adapter.edit(sent, corrected), TIMEOUT)  # the worker retrying the same edit
    await asyncio.wait_for(adapter.delete(sent), TIMEOUT)

    original, correction, again, withdrawal = handler.messages()
    assert correction["Subject"] == "[Green Coalition] Correction: Climate march on Sunday"
    assert correction["In-Reply-To"] == correction["References"] == original["Message-ID"]
    assert again["Message-ID"] == correction["Message-ID"] != original["Message-ID"]
    plain, _ = parts(correction)
    assert plain.startswith("This mail corrects an earlier one, which it replies to.")
    assert withdrawal["Subject"] == "[Green Coalition] Withdrawn: an earlier message"
    assert withdrawal["In-Reply-To"] == original["Message-ID"]
    assert withdrawal["Message-ID"] not in {original["Message-ID"], correction["Message-ID"]}
    assert "withdrawn" in parts(withdrawal)[0]
    assert withdrawal["List-Unsubscribe"] is not None


async def test_there_are_no_channels(make: Factory, handler: Handler) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        await make().send_channel("C1", announcement(), delivery_key="k")
    assert refused.value.reason == NO_CHANNELS
    assert handler.connections == 0


# --- what SMTP answers mean ------------------------------------------------------------------------


async def test_one_copy_through_a_4xx_storm_with_the_same_message_id(make: Factory, handler: Handler) -> None:
    handler.rcpt_answers = ["450 4.2.0 greylisted"] * 2
    handler.data_answers = ["451 4.3.0 try again later"] * 3
    adapter = make()
    failures: list[TransientDeliveryError] = []
    for _attempt in range(10):  # what the worker does: retry the same row (same delivery key)
        try:
            await send(adapter, announcement())
            break
        except TransientDeliveryError as error:
            failures.append(error)
    assert len(failures) == 5
    assert not any(error.may_have_landed for error in failures), "a 4xx says the server kept nothing"
    assert [str(error) for error in failures[:1]] == ["Email: the mail server refused for now ({code})."]
    assert len(handler.received) == 1
    assert handler.messages()[0]["Message-ID"] == message_id("announcement:1:7", DOMAIN)


async def test_a_refused_address_fails_for_good_counts_and_is_paused_without_connecting(
        make: Factory, handler: Handler, health: Health) -> None:
    handler.rcpt_answers = [f"550 5.1.1 <{ADDRESS}>: no such user"] * 3
    adapter = make()
    for expected in (1, 2, 3):
        with pytest.raises(RecipientRefused) as refused:
            await send(adapter, announcement())
        assert health.refusals[ADDRESS] == expected
        reason = Translator.untranslated().render(refused.value.reason, None)
        assert reason == "Email: the mail server refused this address (550)."
    connections = handler.connections

    with pytest.raises(PermanentDeliveryError) as paused:
        await send(adapter, announcement())
    assert paused.value.reason == PAUSED
    assert handler.connections == connections, "a paused address is refused without connecting"
    assert handler.received == []


async def test_a_delivery_resets_the_refusals(make: Factory, handler: Handler, health: Health) -> None:
    handler.rcpt_answers = ["550 5.1.1 no such user"] * 2
    adapter = make()
    for _attempt in range(2):
        with pytest.raises(RecipientRefused):
            await send(adapter, announcement())
    await send(adapter, announcement())
    assert health.refusals[ADDRESS] == 0 and len(handler.received) == 1


async def test_a_refused_message_fails_for_good_without_counting_against_the_address(
        make: Factory, handler: Handler, health: Health) -> None:
    handler.data_answers = ["554 5.7.1 message rejected as spam"]
    with pytest.raises(PermanentDeliveryError) as refused:
        await send(make(), announcement())
    assert not isinstance(refused.value, RecipientRefused)
    assert Translator.untranslated().render(refused.value.reason, None) == \
        "Email: the mail server refused the message (554)."
    assert health.refusals == {} and handler.received == []


async def test_a_connection_dropped_before_the_final_250_may_have_landed_and_a_retry_gives_one_copy(
        make: Factory, handler: Handler) -> None:
    handler.data_answers = ["drop"]
    adapter = make()
    with pytest.raises(TransientDeliveryError) as dropped:
        await send(adapter, announcement())
    assert dropped.value.may_have_landed
    assert handler.received == []

    await send(adapter, announcement())
    assert len(handler.received) == 1


async def test_killed_after_the_final_250_gives_at_most_one_extra_copy_with_the_same_message_id(
        make: Factory, handler: Handler) -> None:
    """What SMTP allows: the server took the mail (250) and then the bot died before recording it. SMTP has no
    read-back, so the retry sends it again: two copies at most, one ``Message-ID`` (the README says so)."""
    handler.quit_gate = asyncio.Event()
    adapter = make()
    attempt = asyncio.create_task(send(adapter, announcement()))
    await asyncio.wait_for(handler.quitting.wait(), TIMEOUT)  # past the 250, saying goodbye
    attempt.cancel()  # the process is killed here: the worker never learns the mail went
    with pytest.raises(asyncio.CancelledError):
        await attempt
    handler.quit_gate.set()

    await send(adapter, announcement())  # the worker's recovery sends the row again

    copies = handler.messages()
    assert len(copies) == 2
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"] == message_id("announcement:1:7", DOMAIN)


async def test_no_server_listening_is_transient_and_kept_nothing(make: Factory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(TransientDeliveryError) as failed:
        await send(make(target=closed), announcement())
    assert not failed.value.may_have_landed


async def test_a_silent_server_times_out(make: Factory) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    try:
        silent = server.sockets[0].getsockname()[1]
        with pytest.raises(TransientDeliveryError) as slow:
            await send(make(target=silent, timeout=0.2), announcement())
        assert not slow.value.may_have_landed
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), TIMEOUT)
