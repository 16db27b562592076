"""The public site in a real browser: Debian's chromium, driven by Playwright over the site on loopback.

What only a browser shows: the Content-Security-Policy lets the page's own style and script run and nothing
else loads (a CSP violation is a console error here, and every request must stay on the site); the links a
reader follows lead where they should; the search form submits; the language switcher turns the page
right-to-left; the page fits a phone's width; and times read the same in UTC with JavaScript off.

The browser is Debian's ``chromium`` (``make test`` installs it), never a ``playwright install`` download. When it
is missing these tests fail with the command to run, never skip: a green run must mean the browser tests ran.
``SCREENSHOTS_DIR`` (set by ``make screenshots``) also copies the screenshots there, for the README.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.support import FixedClock, console_settings, harness
from tests.web.conftest import TIMEOUT_MS, Site, site_for

TEST_LIMIT = 120
"""Seconds for a whole test, for the calls Playwright gives no timeout of their own (new page, evaluate …)."""
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1024, height=800)
MEMBERS_ONLY_TOPIC = "Online harassment of women human-rights defenders"
ANNOUNCEMENT = "Our fact-check of the election deepfake is out: read it, share it."


@pytest.fixture
async def demo_site(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Site]:
    """The demo coalition with one announcement sent the way a coordinator sends it, nothing hostile: these
    pages end up in the README."""
    async with harness(console_settings(tmp_path), clock) as h:
        await h.say("demo-coordinator", f"announce new disinformation {ANNOUNCEMENT}")
        await h.say("demo-coordinator", "announce confirm 1")
        await h.app.run_due()
        async for running in site_for(h):
            yield running


class Watch:
    """What a page did that a reader would not see: console errors and warnings (CSP refusals among them),
    script errors, requests that left the site, error answers. Chromium asks every site for ``/favicon.ico``
    by itself; that one 404 is not the page's doing."""

    def __init__(self, page: Page, origin: str) -> None:
        self.problems: list[str] = []
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") and not m.text.startswith("Failed to load resource") else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("request", lambda r: None if r.url.startswith(origin + "/")
                else self.problems.append(f"request off the site: {r.url}"))
        page.on("response", lambda r: self.problems.append(f"{r.status} for {r.url}")
                if r.status >= 400 and r.url != f"{origin}/favicon.ico" else None)


async def _context(browser: Browser, *, javascript: bool = True, zone: str = "UTC",
                   viewport: ViewportSize = DESKTOP) -> BrowserContext:
    context = await browser.new_context(java_script_enabled=javascript, timezone_id=zone, locale="en-GB",
                                        viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


async def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    png = await page.screenshot(full_page=True, timeout=TIMEOUT_MS)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    _save(png, f"{name}.png", tmp_path, *([Path(os.environ["SCREENSHOTS_DIR"])] if "SCREENSHOTS_DIR" in os.environ
                                           else []))


def _save(png: bytes, name: str, *folders: Path) -> None:
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(png)


WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName + ": " + (e.textContent || "").trim().slice(0, 60));
}"""
"""What sticks out to the right of the screen, when anything makes the page scroll sideways."""


async def _wider_than_screen(page: Page) -> list[str]:
    """No sideways scrolling: what "readable on a phone" needs first."""
    return list(await page.evaluate(WIDER_THAN_SCREEN))


async def test_a_reader_follows_topic_announcement_and_search_then_reads_arabic(browser: Browser, demo_site: Site,
                                                                                tmp_path: Path) -> None:
    async with asyncio.timeout(TEST_LIMIT):
        context = await _context(browser)
        page = await context.new_page()
        watch = Watch(page, demo_site.base.rstrip("/"))

        await page.goto(demo_site.base)
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await expect(page.locator("html")).to_have_attribute("dir", "ltr")
        await expect(page.get_by_role("link", name=MEMBERS_ONLY_TOPIC)).to_have_count(0)
        await _screenshot(page, tmp_path, "home")

        await page.get_by_role("link", name="Countering disinformation").first.click()
        await expect(page).to_have_url(re.compile(r"/topics/disinformation$"))
        await expect(page.get_by_role("heading", level=1)).to_have_text("Countering disinformation")
        await expect(page.get_by_text(ANNOUNCEMENT)).to_be_visible()
        await _screenshot(page, tmp_path, "topic")

        await page.locator("li", has_text=ANNOUNCEMENT).get_by_role("link", name="Read and share").click()
        await expect(page).to_have_url(re.compile(r"/announcements/[0-9a-f]{16}$"))
        await expect(page.locator("article")).to_contain_text(ANNOUNCEMENT)
        await expect(page.get_by_role("heading", level=1)).to_have_text(ANNOUNCEMENT.splitlines()[0])
        await _screenshot(page, tmp_path, "announcement")

        await page.get_by_role("link", name="Resource library").click()
        await expect(page).to_have_url(re.compile(r"/resources$"))
        search = page.get_by_role("searchbox")
        await search.fill("reseau structre")  # "réseau structuré", accent-less and misspelt
        await search.press("Enter")
        await expect(page).to_have_url(re.compile(r"/resources\?.*q=reseau\+structre"))
        await expect(page.get_by_text("Portal Kombat : un réseau structuré et coordonné de propagande prorusse")
                     ).to_be_visible()
        await _screenshot(page, tmp_path, "search")

        await page.get_by_role("link", name="العربية").click()
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await expect(page.locator("html")).to_have_attribute("lang", "ar")
        await expect(page.get_by_role("searchbox")).to_have_value("reseau structre")
        await expect(page.get_by_text("Portal Kombat : un réseau structuré et coordonné de propagande prorusse")
                     ).to_be_visible()
        await _screenshot(page, tmp_path, "search-ar")
        await page.get_by_role("link", name="Countering disinformation").first.click()
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await _screenshot(page, tmp_path, "topic-ar")

        assert watch.problems == []
        await context.close()


async def test_pages_fit_a_phone(browser: Browser, demo_site: Site, tmp_path: Path) -> None:
    async with asyncio.timeout(TEST_LIMIT):
        context = await _context(browser, viewport=PHONE)
        page = await context.new_page()
        watch = Watch(page, demo_site.base.rstrip("/"))
        for path, name in (("", "phone-home"), ("resources?q=disinformation&lang=ar", "phone-search-ar")):
            await page.goto(demo_site.base + path)
            wide = await _wider_than_screen(page)
            assert not wide, f"{path or '/'} scrolls sideways on a phone; too wide: {wide}"
            await _screenshot(page, tmp_path, name)
        assert watch.problems == []
        await context.close()


class _Times(HTMLParser):
    """``(datetime attribute, text)`` of every ``<time>`` in a page as the server sent it."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[tuple[str, str]] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "time":
            self._open = dict(attrs).get("datetime") or ""
            self.times.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            stamp, text = self.times[-1]
            self.times[-1] = (stamp, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "time":
            self._open = None


async def test_times_read_in_utc_without_javascript_and_in_the_readers_zone_with_it(browser: Browser,
                                                                                   demo_site: Site) -> None:
    async with asyncio.timeout(TEST_LIMIT):
        no_script = await _context(browser, javascript=False, zone="Asia/Tokyo")
        page = await no_script.new_page()
        response = await page.goto(demo_site.base)
        assert response is not None and response.ok
        parser = _Times()
        parser.feed(await response.text())
        assert parser.times, "the home page shows no <time> (the demo data has a weekly meeting)"
        assert all(stamp.endswith("Z") for stamp, _text in parser.times)
        assert all("UTC" in text for _stamp, text in parser.times), parser.times
        shown = await page.locator("time").all_inner_texts()
        assert shown == [text.strip() for _stamp, text in parser.times]
        await no_script.close()

        scripted = await _context(browser, zone="Asia/Tokyo")
        page = await scripted.new_page()
        watch = Watch(page, demo_site.base.rstrip("/"))
        await page.goto(demo_site.base)
        first = page.locator("time").first
        await expect(first).not_to_have_text(parser.times[0][1].strip())  # the script rewrote it for Tokyo
        await expect(first).to_have_attribute("title", parser.times[0][1].strip())
        assert "GMT+9" in await first.inner_text() or "JST" in await first.inner_text()
        assert watch.problems == []
        await scripted.close()
