"""Resource links: the stored link is the one given, minus tracking parameters; the duplicate key is normalised
but keeps the routes of hash-routed apps."""

from __future__ import annotations

import pytest

from bot.resources.model import normalise_url
from tests.support import Harness


def _url(raw: str) -> str:
    return normalise_url(raw)[0]


def _key(raw: str) -> str:
    return normalise_url(raw)[1]


@pytest.mark.parametrize("link", [
    "https://example.org/x?download",
    "https://example.org/y?a=1;b=2",
    "https://example.org/z.pdf#page=12",
    "https://example.org/app#/reports/2024",
    "https://example.org/app#!/reports/2024",
    "https://example.org/search?q=%C3%B8+og+%C3%A6&b=c+d&a=1",
    "https://example.org/p?b=2&a=1&b=1",
    "https://example.org/p?x=%2F&y=a/b?c",
    "https://example.org/p?",
    "https://example.org",
    "http://example.org:443/x",
    "https://København.dk/sti/øre?q=ø#afsnit",
])
def test_stored_link_is_kept_as_given(link: str) -> None:
    assert _url(link) == link


@pytest.mark.parametrize(("raw", "stored"), [
    ("https://example.org/r?utm_source=news&id=3&utm_medium=mail", "https://example.org/r?id=3"),
    ("https://example.org/r?fbclid=abc&a=1;b=2&gclid=x", "https://example.org/r?a=1;b=2"),
    ("https://example.org/r?download&mc_cid=1&mc_eid=2#page=4", "https://example.org/r?download#page=4"),
    ("https://example.org/r?UTM_Campaign=x&utm%5Fterm=y", "https://example.org/r"),
    ("https://example.org/r?&utm_source=x&&id=3", "https://example.org/r?id=3"),
    ("https://example.org/r?utm_source=x#/reports/2024", "https://example.org/r#/reports/2024"),
    ("<https://example.org/r?utm_source=x>", "https://example.org/r"),
    ("HTTPS://Example.ORG/r?utm_source=x", "https://Example.ORG/r"),
])
def test_stored_link_loses_only_tracking_parameters(raw: str, stored: str) -> None:
    assert _url(raw) == stored


def test_utm_lookalikes_are_not_tracking() -> None:
    assert _url("https://example.org/r?xutm_source=1&fbclid2=2") == "https://example.org/r?xutm_source=1&fbclid2=2"


@pytest.mark.parametrize(("first", "second"), [
    ("http://example.org/report", "https://example.org/report"),
    ("https://EXAMPLE.org/report", "https://example.org/report"),
    ("https://example.org:443/report", "https://example.org/report"),
    ("http://example.org:80/report", "https://example.org/report"),
    ("https://example.org/report/", "https://example.org/report"),
    ("https://example.org", "https://example.org/"),
    ("https://example.org/report?utm_source=x&utm_campaign=y", "https://example.org/report"),
    ("https://example.org/report?fbclid=1&id=3&gclid=2", "https://example.org/report?id=3"),
    ("https://example.org/report#section", "https://example.org/report"),
    ("https://example.org/report.pdf#page=12", "https://example.org/report.pdf#page=13"),
    ("https://example.org/app#/reports/2024/", "https://example.org/app/#/reports/2024"),
    ("https://example.org/app#/", "https://example.org/app"),
    ("https://København.dk/sti", "https://københavn.dk/sti/"),
])
def test_keys_that_collide(first: str, second: str) -> None:
    assert _key(first) == _key(second)


@pytest.mark.parametrize(("first", "second"), [
    ("https://example.org/app#/reports/2024", "https://example.org/app#/reports/2025"),
    ("https://example.org/app#!/reports/2024", "https://example.org/app#!/reports/2025"),
    ("https://example.org/app#/reports/2024", "https://example.org/app"),
    ("https://example.org/app#!/reports", "https://example.org/app#reports"),
    ("https://example.org/report?id=3", "https://example.org/report?id=4"),
    ("https://example.org/report", "https://example.org/Report"),
    ("https://example.org:8443/report", "https://example.org/report"),
    ("https://example.org/report", "https://example.com/report"),
    ("https://example.org/report?page=2", "https://example.org/report"),
])
def test_keys_that_do_not_collide(first: str, second: str) -> None:
    assert _key(first) != _key(second)


def test_key_keeps_its_existing_form() -> None:
    """Keys are stored: apart from routes, a link's key must not change, or old duplicates would slip in."""
    assert _key("HTTPS://Example.ORG:443/report/?utm_source=x&id=3#part") == "example.org/report?id=3"
    assert _key("https://example.org/x?download") == "example.org/x?download="
    assert _key("https://København.dk/sti/øre?q=ø") == "københavn.dk/sti/øre?q=%C3%B8"
    assert _key("https://example.org/app/#/reports/2024") == "example.org/app#/reports/2024"


@pytest.mark.parametrize("bad", ["ftp://example.org/x", "javascript:alert(1)", "example.org", "https://",
                                 "https://a b.org/", "https://user:pw@example.org/", "https://example.org:99999/",
                                 "https://localhost2/", "https://example.org/" + "x" * 2000])
def test_invalid_links_are_still_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_url(bad)


async def _add(h: Harness, link: str, title: str) -> str:
    return await h.text("demo-admin", f"resource add {link} {title} visibility:public")


async def test_hash_routed_pages_are_not_refused_as_duplicates(h: Harness) -> None:
    assert (await _add(h, "https://example.org/app#/reports/2024", "Report 2024")).startswith("Added #")
    assert (await _add(h, "https://example.org/app#/reports/2025", "Report 2025")).startswith("Added #")
    assert "in the library already" in await _add(h, "http://EXAMPLE.org/app/#/reports/2025/", "Again")


async def test_shown_links_keep_query_and_page_anchor(h: Harness) -> None:
    await _add(h, "https://example.org/y?a=1;b=2&utm_source=x", "Semicolon query zebrafinch")
    await _add(h, "https://example.org/z.pdf?download#page=12", "Page anchor zebrafinch")
    reply = await h.text("demo-member", "resource search zebrafinch")
    assert "https://example.org/y?a=1;b=2\n" in reply + "\n"
    assert "https://example.org/z.pdf?download#page=12" in reply
    assert "in the library already" in await _add(h, "https://example.org/z.pdf?download=#page=13", "Again")
