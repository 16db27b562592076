"""Followers by email through the whole app, as ``make run`` builds it with ``[email]`` set: the real site on
loopback, the real delivery worker, the real email adapter talking SMTP to a real aiosmtpd server on loopback.

A reader subscribes on a topic's page; the one confirmation mail's link works against the site; confirming
subscribes them; an announcement, its correction and its withdrawal arrive as threaded mails carrying RFC 8058
one-click unsubscribe, whose POST stops everything; nothing more is sent after that."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiohttp import ClientResponse, ClientSession, ClientTimeout

from adapters.web.server import serving
from app.settings import Settings
from bot.model import Identity
from tests.adapters.email.smtp_server import Handler, smtp_server
from tests.postgres_server import storage_settings
from tests.support import FixedClock, Harness, harness

WAIT = 30.0
ADDRESS = "Reader@Example.org"
STORED = "reader@example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Running:
    h: Harness
    smtp: Handler
    session: ClientSession
    base: str

    async def get(self, url: str) -> tuple[ClientResponse, str]:
        async with asyncio.timeout(WAIT), self.session.get(url) as response:
            return response, await response.text()

    async def post(self, url: str, form: dict[str, str], **headers: str) -> tuple[ClientResponse, str]:
        async with asyncio.timeout(WAIT), self.session.post(url, data=form, headers=headers) as response:
            return response, await response.text()

    async def mails(self) -> list[EmailMessage]:
        """Everything due is sent; returns the mails the SMTP server accepted since the last call."""
        await self.h.app.run_due()
        received = self.smtp.messages()
        self.smtp.received.clear()
        return received


@pytest.fixture
async def running(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Running]:
    handler = Handler()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with smtp_server(handler) as smtp_port:
        settings = Settings(
            storage=storage_settings(tmp_path, "bot.db"), console={"enabled": True},
            coalition={"admins": ["console:demo-admin"]},
            web={"base_url": base, "port": port},
            email={"enabled": True, "host": "127.0.0.1", "port": smtp_port, "security": "none",
                   "from_address": "coalition@example.org"})
        async with harness(settings, clock) as h:
            assert h.app.site is not None and h.app.email is not None
            async with serving(h.app.site, "127.0.0.1", port), \
                    ClientSession(timeout=ClientTimeout(total=WAIT)) as session:
                yield Running(h, handler, session, base)


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def link(mail: EmailMessage, kind: str) -> str:
    found = re.search(rf"https?://\S+/email/{kind}/[A-Za-z0-9_-]{{32}}", text_of(mail))
    assert found is not None, text_of(mail)
    return found.group(0)


async def test_subscribe_confirm_receive_correct_withdraw_and_unsubscribe(running: Running) -> None:
    h, base = running.h, running.base
    topic_page = (await running.get(f"{base}/topics/disinformation"))[1]
    assert 'action="/topics/disinformation/subscribe"' in topic_page and 'method="post"' in topic_page

    response, _body = await running.post(f"{base}/topics/disinformation/subscribe",
                                         {"address": ADDRESS, "mode": "immediate", "language": "fr",
                                          "zone": "Africa/Nairobi"})
    assert response.status == 200
    (confirmation,) = await running.mails()
    assert confirmation["To"] == STORED and confirmation["From"] == "Demo Coalition <coalition@example.org>"
    assert confirmation["List-Unsubscribe"] is None  # nothing to leave yet
    assert confirmation["Auto-Submitted"] == "auto-generated"
    confirm = link(confirmation, "confirm")
    assert confirm.startswith(f"{base}/email/confirm/")
    response, body = await running.get(confirm)  # a mail scanner following the link changes nothing
    assert response.status == 200 and 'method="post"' in body
    follower = await h.app.store.people.identity(Identity("email", STORED))
    assert follower is not None and await h.app.store.subscriptions.of_person(follower.person_id) == []
    response, body = await running.post(confirm, {})
    assert response.status == 200
    [subscription] = await h.app.store.subscriptions.of_person(follower.person_id)
    assert subscription.mode.value == "immediate"

    preview = await h.text("demo-coordinator", "announce new disinformation Fact-check hub opens today")
    number = re.search(r"announce confirm (\d+)", preview)
    assert number is not None, preview
    await h.text("demo-coordinator", f"announce confirm {number.group(1)}")
    (post,) = await running.mails()
    assert post["To"] == STORED and "Fact-check hub opens today" in text_of(post)
    assert post["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert post["List-Id"] is not None and post["Message-ID"].endswith("@example.org>")
    html = post.get_body(("html",))
    assert html is not None and "Fact-check hub opens today" in str(html.get_content())
    unsubscribe = re.search(r"<(https?://[^>]+)>", str(post["List-Unsubscribe"]))
    assert unsubscribe is not None and unsubscribe.group(1).startswith(f"{base}/email/unsubscribe/")
    manage = link(post, "manage")
    response, body = await running.get(manage)
    assert response.status == 200 and 'lang="fr"' in body  # the language chosen on the form

    await h.text("demo-coordinator", f"announce edit {number.group(1)} Fact-check hub opens tomorrow")
    (correction,) = await running.mails()
    assert correction["In-Reply-To"] == post["Message-ID"]
    assert "Fact-check hub opens tomorrow" in text_of(correction)
    await h.text("demo-coordinator", f"announce cancel {number.group(1)}")
    (withdrawal,) = await running.mails()
    assert withdrawal["In-Reply-To"] == post["Message-ID"]

    # RFC 8058: the mail provider POSTs from its own servers.
    response, _body = await running.post(unsubscribe.group(1), {"List-Unsubscribe": "One-Click"},
                                         Origin="https://mail.example", **{"Sec-Fetch-Site": "cross-site"})
    assert response.status == 200
    preview = await h.text("demo-coordinator", "announce new disinformation After leaving")
    again = re.search(r"announce confirm (\d+)", preview)
    assert again is not None
    await h.text("demo-coordinator", f"announce confirm {again.group(1)}")
    assert await running.mails() == []


@pytest.mark.parametrize(("web", "needs"), [({"enabled": False}, "enabled = true"),
                                            ({"port": 0}, "base_url")])
def test_email_without_reachable_pages_is_refused_at_start(tmp_path: Path, web: dict[str, object],
                                                           needs: str) -> None:
    with pytest.raises(ValueError, match=re.escape(needs)):
        Settings(storage=storage_settings(tmp_path, "bot.db"), web=web,
                 email={"enabled": True, "to_folder": tmp_path, "from_address": "coalition@example.org"})


def test_email_to_folder_turns_email_on_with_a_sender_that_cannot_be_mailed(tmp_path: Path) -> None:
    from app.cli import mail_to_folder

    settings = Settings(storage=storage_settings(tmp_path, "bot.db"))
    assert not settings.email.configured  # make run without [email]: off
    on = mail_to_folder(settings.email, tmp_path / "mail", settings.coalition.name)
    assert on.configured and on.to_folder == tmp_path / "mail" and on.from_address is not None
    assert on.from_address.endswith("@example.invalid")


async def follow(running: Running, address: str, mode: str) -> None:
    """Subscribe on the page and follow the confirmation mail's link, as a reader does."""
    response, _body = await running.post(f"{running.base}/topics/disinformation/subscribe",
                                         {"address": address, "mode": mode, "language": "en", "zone": "UTC"})
    assert response.status == 200
    (confirmation,) = await running.mails()
    response, _body = await running.post(link(confirmation, "confirm"), {})
    assert response.status == 200


async def announce(h: Harness, text: str) -> str:
    preview = await h.text("demo-coordinator", f"announce new disinformation {text}")
    number = re.search(r"announce confirm (\d+)", preview)
    assert number is not None, preview
    await h.text("demo-coordinator", f"announce confirm {number.group(1)}")
    return number.group(1)


async def test_a_daily_follower_gets_one_digest_mail(running: Running) -> None:
    await follow(running, "daily@example.org", "daily")
    await announce(running.h, "First daily item")
    await announce(running.h, "Second daily item")
    assert await running.mails() == []  # nothing immediate for a digest follower
    running.h.clock.advance(days=1)
    (digest,) = await running.mails()
    assert digest["To"] == "daily@example.org"
    body = text_of(digest)
    assert "First daily item" in body and "Second daily item" in body
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_refusals_fail_the_copy_show_in_the_report_and_pause_the_address(running: Running) -> None:
    await follow(running, "gone@example.org", "immediate")
    for attempt in range(3):
        running.smtp.rcpt_answers.append("550 5.1.1 no such mailbox")
        number = await announce(running.h, f"Item {attempt}")
        assert await running.mails() == []
        report = await running.h.text("demo-coordinator", f"announce status {number}")
        assert "g•••@example.org" in report and "refused this address (550)" in report, report
        assert "gone@example.org" not in report  # coordinators see the masked address only
    connections = running.smtp.connections
    await announce(running.h, "After the pause")
    assert await running.mails() == [] and running.smtp.connections == connections  # not even tried
    email = running.h.app.email
    assert email is not None
    key = await email.key_for("gone@example.org")
    _response, page = await running.get(f"{running.base}/email/manage/{key}")
    assert "paused" in page
