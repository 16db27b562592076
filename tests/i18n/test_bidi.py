"""bot.bidi: which languages are right to left, isolating values, and checking that isolates balance."""

from __future__ import annotations

import pytest

from bot.bidi import FSI, LRI, PDI, RLI, balanced, closed, cut, is_rtl, isolate


@pytest.mark.parametrize(("language", "rtl"), [
    ("ar", True), ("ar_EG", True), ("ar-EG", True), ("he", True), ("fa", True),
    ("en", False), ("fr", False), ("es", False), ("pt", False), ("pt-BR", False), ("sw", False),
    ("", False), (None, False), ("xx-not-a-language", False), ("klingon", False),
])
def test_is_rtl_follows_cldr_character_order(language: str | None, rtl: bool) -> None:
    assert is_rtl(language) is rtl


def test_isolate_wraps_in_first_strong_isolate() -> None:
    assert isolate("Election Watch 2026") == f"{FSI}Election Watch 2026{PDI}"
    assert isolate("https://example.org/a/") == f"{FSI}https://example.org/a/ {PDI}"  # the link ends at a space
    assert isolate("#12") == f"{FSI}#12{PDI}"


def test_empty_text_stays_empty() -> None:
    assert isolate("") == ""


@pytest.mark.parametrize("text", ["topic", "مرحبا 12", "a\nb", "x\u2067y", "\u2069z", "", "\n\n"])
def test_isolate_is_idempotent(text: str) -> None:
    once = isolate(text)
    assert isolate(once) == once
    assert balanced(once)


@pytest.mark.parametrize("already", [f"{FSI}x{PDI}", f"{LRI}x{PDI}", f"{RLI}نص{PDI}", f"{FSI}a{FSI}b{PDI}c{PDI}"])
def test_text_that_is_exactly_one_isolate_is_kept(already: str) -> None:
    assert isolate(already) == already


def test_two_isolates_side_by_side_are_not_one_isolate() -> None:
    """``⁨a⁩ ⁨b⁩`` starts with an opener and ends with a PDI, but the first PDI closes the first opener."""
    text = f"{FSI}a{PDI} {FSI}b{PDI}"
    assert isolate(text) == f"{FSI}{text}{PDI}"


def test_each_line_is_isolated_on_its_own() -> None:
    """The bidi algorithm closes isolates at a paragraph break, and adapters split text at line breaks."""
    assert isolate("first line\nsecond\r\n\nlast") == f"{FSI}first line{PDI}\n{FSI}second{PDI}\r\n\n{FSI}last{PDI}"


def test_stray_controls_in_user_content_are_repaired() -> None:
    """A pasted PDI must not close the wrapper early, nor an opener left open swallow the closing PDI."""
    assert isolate(f"a{PDI}b") == f"{FSI}ab{PDI}"
    assert isolate(f"a{RLI}b") == f"{FSI}a{RLI}b{PDI}{PDI}"
    assert isolate(f"{PDI}{PDI}x{LRI}") == f"{FSI}x{LRI}{PDI}{PDI}"
    for text in (f"a{PDI}b", f"a{RLI}b", f"{PDI}{PDI}x{LRI}", f"{FSI}a{PDI} {FSI}b"):
        assert balanced(isolate(text)), repr(text)


@pytest.mark.parametrize("text", [
    "", "plain", f"{FSI}x{PDI}", f"{LRI}{RLI}{FSI}x{PDI}{PDI}{PDI}", f"a {FSI}b{PDI} c {RLI}d{PDI}",
    f"{FSI}one{PDI}\n{FSI}two{PDI}",
])
def test_balanced(text: str) -> None:
    assert balanced(text)


@pytest.mark.parametrize("text", [
    FSI, PDI, f"{PDI}{FSI}", f"{FSI}x", f"x{PDI}", f"{FSI}{FSI}x{PDI}", f"{FSI}x{PDI}{PDI}",
    f"{FSI}spans\nlines{PDI}", f"{RLI}a{PDI}\n{LRI}b",
])
def test_unbalanced(text: str) -> None:
    assert not balanced(text)


def test_closed_mends_text_cut_inside_an_isolate() -> None:
    """A preview cut at a platform's limit keeps its isolates balanced."""
    full = f"ردّك {FSI}Disinformation working group call{PDI} في {FSI}#12{PDI}"
    cut = full[:20]
    assert not balanced(cut)
    assert closed(cut) == cut + PDI and balanced(closed(cut))
    assert closed(full) == full
    assert closed(f"a{PDI}b\n{FSI}c") == f"ab\n{FSI}c{PDI}"


@pytest.mark.parametrize("limit", [1, 5, 10, 21, 22, 23, 40, 80])
def test_cut_keeps_within_the_limit_and_closes_what_it_cut_open(limit: int) -> None:
    label = f"سجّل في {FSI}Disinformation working group{PDI} الآن"
    shortened = cut(label, limit)
    assert len(shortened) <= limit and balanced(shortened)
    assert shortened == label or shortened.endswith("…")


def test_cut_leaves_text_within_the_limit_alone() -> None:
    assert cut("short", 80) == "short"
    assert cut(f"{FSI}x{PDI}", 3) == f"{FSI}x{PDI}"
