"""A delivered mail as a mail client shows it: the HTML part of a real announcement mail (sent through the app,
the email adapter and a real SMTP server on loopback) opened in chromium with scripts off, as mail clients
do. It must show the announcement and the footer's links, fetch nothing, and fit a phone. ``make screenshots``
keeps the picture for the README (``docs/screenshots/email.png``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.email.test_end_to_end import Running, announce, follow, running, text_of
from tests.web.test_browser import PHONE, TEST_LIMIT, _context, _screenshot

__all__ = ["running"]  # the fixture, shared with the end-to-end email tests

ANNOUNCEMENT = ("Our fact-check of the election deepfake is out: https://example.org/fact-check — "
                "read it, share it.")


async def test_an_announcement_mail_reads_well_in_a_mail_client(browser: Browser, running: Running,
                                                                tmp_path: Path) -> None:
    email = running.h.app.email
    assert email is not None
    await follow(running, "reader@example.org", "immediate")
    await announce(running.h, ANNOUNCEMENT)
    (mail,) = await running.mails()
    html_part = mail.get_body(("html",))
    assert html_part is not None and "fact-check" in text_of(mail)
    async with asyncio.timeout(TEST_LIMIT):
        context = await _context(browser, javascript=False, viewport=PHONE)
        try:
            page = await context.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            await page.set_content(str(html_part.get_content()))
            await expect(page.get_by_text("Our fact-check of the election deepfake")).to_be_visible()
            await expect(page.get_by_role("link", name="https://example.org/fact-check")).to_have_attribute(
                "href", "https://example.org/fact-check")
            unsubscribe = page.get_by_role("link", name="Unsubscribe")
            key = await email.key_for("reader@example.org")
            await expect(unsubscribe).to_have_attribute("href", f"{running.base}/email/unsubscribe/{key}")
            assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert requested == []  # no image, font or tracker: nothing leaves when the mail is opened
            await _screenshot(page, tmp_path, "email")
        finally:
            await context.close()
