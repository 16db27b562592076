"""Typed times in each shipped language's words (and English, which always works), on the one strict grammar.

Exact UTC instants from a fixed ``now``: Tuesday 24 Nov 2026 13:00 in Africa/Nairobi (UTC+3, no DST). Europe/Lisbon
2026: 29 Mar 01:00 WET → 02:00 WEST, 25 Oct 02:00 WEST → 01:00 WET.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.bidi import stripped
from bot.commands.values import read_occasion
from bot.errors import UserError
from bot.i18n import Translator
from bot.when import EXAMPLES, TABLES, examples, fold, parse_when, read_when, time_length, vocabulary

NAIROBI = ZoneInfo("Africa/Nairobi")
LISBON = ZoneInfo("Europe/Lisbon")
NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
TRANSLATOR = Translator.load()


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def refusal(text: str, language: str, zone: ZoneInfo = NAIROBI, now: datetime = NOW) -> str:
    """The refusal ``text`` gets from a reader of ``language``, rendered in English: it names the reader's
    examples."""
    with pytest.raises(UserError) as caught:
        parse_when(text, zone, now, language=language)
    rendered = Translator.untranslated().render(caught.value.message, "en")
    assert rendered.endswith(f"Try, for example: {examples(language)}."), rendered
    return rendered


ACCEPTED = [
    # French
    ("fr", "demain 09:00", utc(11, 25, 6)),
    ("fr", "Demain 9h", utc(11, 25, 6)),
    ("fr", "demain à 9h30", utc(11, 25, 6, 30)),
    ("fr", "DEMAIN A 9H30", utc(11, 25, 6, 30)),
    ("fr", "lundi 14:00", utc(11, 30, 11)),
    ("fr", "lun 14h", utc(11, 30, 11)),
    ("fr", "lun. 14h", utc(11, 30, 11)),
    ("fr", "dans 2h", utc(11, 24, 12)),
    ("fr", "dans 2 heures", utc(11, 24, 12)),
    ("fr", "dans 1 jour", utc(11, 25, 10)),
    ("fr", "dans 30 minutes", utc(11, 24, 10, 30)),
    ("fr", "aujourd'hui 17h", utc(11, 24, 14)),
    ("fr", "aujourd’hui 17h", utc(11, 24, 14)),
    ("fr", "à 14h", utc(11, 24, 11)),
    ("fr", "14h", utc(11, 24, 11)),
    ("fr", "maintenant", NOW),
    ("fr", "mardi 14h", utc(11, 24, 11)),  # today is Tuesday and 14:00 is still ahead
    ("fr", "mardi 12h", utc(12, 1, 9)),  # today's 12:00 has passed: next Tuesday
    ("fr", "tomorrow 09:00", utc(11, 25, 6)),  # English always works
    # Spanish
    ("es", "mañana 9:00", utc(11, 25, 6)),
    ("es", "manana 9:00", utc(11, 25, 6)),
    ("es", "MAÑANA 9:00", utc(11, 25, 6)),
    ("es", "el lunes a las 14:00", utc(11, 30, 11)),
    ("es", "lunes 14:00", utc(11, 30, 11)),
    ("es", "mié 14:00", utc(11, 25, 11)),
    ("es", "mie 14:00", utc(11, 25, 11)),
    ("es", "mar 14:00", utc(11, 24, 11)),
    ("es", "en 2 horas", utc(11, 24, 12)),
    ("es", "dentro de 30 minutos", utc(11, 24, 10, 30)),
    ("es", "mañana 9 p. m.", utc(11, 25, 18)),
    ("es", "mañana a las 9 p.m.", utc(11, 25, 18)),
    ("es", "mañana 9 pm", utc(11, 25, 18)),
    ("es", "mañana 9 a. m.", utc(11, 25, 6)),
    ("es", "hoy 17:00", utc(11, 24, 14)),
    ("es", "ahora", NOW),
    ("es", "in 2h", utc(11, 24, 12)),
    # Portuguese
    ("pt", "amanhã às 9h", utc(11, 25, 6)),
    ("pt", "amanha as 9h", utc(11, 25, 6)),
    ("pt", "amanhã 09:00", utc(11, 25, 6)),
    ("pt", "segunda 14:00", utc(11, 30, 11)),
    ("pt", "segunda-feira 14:00", utc(11, 30, 11)),
    ("pt", "seg. 14h", utc(11, 30, 11)),
    ("pt", "terça 14h", utc(11, 24, 11)),
    ("pt", "terca 14h", utc(11, 24, 11)),
    ("pt", "daqui a 2 horas", utc(11, 24, 12)),
    ("pt", "em 30 minutos", utc(11, 24, 10, 30)),
    ("pt", "hoje 17h", utc(11, 24, 14)),
    ("pt", "agora", NOW),
    ("pt", "sábado 10h", utc(11, 28, 7)),
    # Arabic
    ("ar", "غدا 09:00", utc(11, 25, 6)),
    ("ar", "غداً ٠٩:٠٠", utc(11, 25, 6)),
    ("ar", "غـــدا ۰۹:۰۰", utc(11, 25, 6)),
    ("ar", "الاثنين 14:00", utc(11, 30, 11)),
    ("ar", "يوم الإثنين ١٤:٠٠", utc(11, 30, 11)),
    ("ar", "بعد ساعتين", utc(11, 24, 12)),
    ("ar", "بعد ٣٠ دقيقة", utc(11, 24, 10, 30)),
    ("ar", "بعد 3 أيام", utc(11, 27, 10)),
    ("ar", "غدا 9 م", utc(11, 25, 18)),
    ("ar", "غدا الساعة 9 مساء", utc(11, 25, 18)),
    ("ar", "الآن", NOW),
    ("ar", "اليوم 17:00", utc(11, 24, 14)),
    # Swahili
    ("sw", "kesho 09:00", utc(11, 25, 6)),
    ("sw", "leo 14:00", utc(11, 24, 11)),
    ("sw", "Jumatatu 14:00", utc(11, 30, 11)),
    ("sw", "jumatatu 2pm", utc(11, 30, 11)),
    ("sw", "baada ya dakika 30", utc(11, 24, 10, 30)),
    ("sw", "baada ya masaa 2", utc(11, 24, 12)),
    ("sw", "baada ya siku 2", utc(11, 26, 10)),
    ("sw", "sasa", NOW),
    ("sw", "baada ya 2h", utc(11, 24, 12)),
]


@pytest.mark.parametrize(("language", "text", "expected"), ACCEPTED)
def test_a_time_in_the_readers_words(language: str, text: str, expected: datetime) -> None:
    assert parse_when(text, NAIROBI, NOW, language=language) == expected
    assert time_length([*text.split(), "Webinar"], language) == len(text.split())


@pytest.mark.parametrize(("language", "text"), [
    ("en", "demain 09:00"), ("en", "mañana 9:00"), ("en", "غدا 09:00"), ("en", "kesho 09:00"), ("en", "9h"),
    ("fr", "mañana 9:00"), ("es", "demain 09:00"), ("pt", "kesho 09:00"), ("ar", "amanhã 9h"),
    ("sw", "demain 09:00"), ("en", "mar 14:00"), ("fr", "lunes 14:00"),
    ("fr", "dans deux heures"), ("fr", "demain 9hpm"), ("es", "el 14:00"), ("pt", "daqui 2 horas"),
    ("sw", "kesho saa 3"),  # Swahili clock time counts from dawn: "saa 3" is 09:00, so it is not guessed
    ("sw", "baada ya saa 2"),  # "two hours" or "after 08:00": refused
    ("ar", "بعد غد"),
])
def test_words_of_another_language_or_none_are_refused(language: str, text: str) -> None:
    assert "could not read" in refusal(text, language)


@pytest.mark.parametrize(("language", "text", "shown"), [
    ("fr", "demain 25h", "25h"), ("es", "mañana 13 p. m.", "13 p. m."), ("ar", "غدا ١٣ م", "13 م"),
])
def test_an_invalid_clock_in_any_words_is_refused(language: str, text: str, shown: str) -> None:
    assert refusal(text, language).startswith(f"{shown} is not a valid time")


def test_a_time_begun_in_the_readers_words_but_not_finished_is_refused() -> None:
    with pytest.raises(UserError):
        time_length("demain 9 Webinaire".split(), "fr")
    with pytest.raises(UserError):
        time_length("el Webinar".split(), "es")  # "el" begins "el lunes" and stops
    assert time_length("demain 14h Webinaire".split(), "en") == 0
    assert time_length("demain 14h Webinaire".split()) == 2  # a caller that knows no reader: any language


def test_arabic_indic_digits_and_diacritics_fold_away() -> None:
    assert fold("٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹") == "0123456789 0123456789"
    assert fold("غـــداً") == fold("غدا") == "غدا"
    assert fold("Peut-Être") == "peut-etre"
    assert parse_when("٢٠٢٦-١٢-٠١ ١٤:٠٠", NAIROBI, NOW) == utc(12, 1, 11)  # digits are read in any language


@pytest.mark.parametrize("language", sorted(TABLES))
def test_every_example_a_reader_is_shown_is_accepted(language: str) -> None:
    shown = re.split(r"[,،]\s*", examples(language))
    assert len(shown) == 6
    for text in shown:
        parse_when(text, NAIROBI, NOW, language=language)


def test_no_phrase_means_two_things_and_weekdays_come_from_cldr() -> None:
    for language in TABLES:
        words = vocabulary(language)
        assert not words.ambiguous, (language, dict(words.ambiguous))
        weekdays = [p for p, meaning in words.phrases["start"].items() if meaning.startswith("weekday:")]
        assert len(weekdays) >= 14, language  # seven from CLDR (and abbreviations), besides English's
    assert vocabulary("de").language == "en"  # a language without a table reads English


@pytest.mark.parametrize(("language", "expected"), [
    ("fr", "maintenant, dans 2h, dans 30 minutes, demain 09:00, lundi 14h, 2026-12-01 14:00"),
    ("es", "ahora, en 2 horas, en 30 minutos, mañana 09:00, el lunes a las 14:00, 2026-12-01 14:00"),
    ("ar", "الآن، بعد ساعتين، بعد 30 دقيقة، غدا 09:00، الاثنين 14:00، 2026-12-01 14:00"),
])
def test_a_refusal_shows_examples_in_the_readers_language(language: str, expected: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when("whenever", NAIROBI, NOW, language=language)
    rendered = stripped(TRANSLATOR.render(caught.value.message, language))  # Arabic's isolates aside
    assert rendered.rstrip(".").endswith(expected), rendered
    assert EXAMPLES not in rendered
    assert "whenever" in rendered


# --- DST in Europe/Lisbon, in Portuguese words ---------------------------------------------------------------

SPRING = datetime(2026, 3, 28, 12, tzinfo=UTC)  # Saturday 12:00 WET
AUTUMN = datetime(2026, 10, 24, 12, tzinfo=UTC)  # Saturday 13:00 WEST


@pytest.mark.parametrize(("text", "now", "expected", "shifted"), [
    ("amanhã às 1h30", SPRING, utc(3, 29, 1, 30), True),  # 01:30 does not exist: 02:30 WEST
    ("amanhã às 9h", SPRING, utc(3, 29, 8), False),  # WEST, UTC+1
    ("domingo 9h", SPRING, utc(3, 29, 8), False),
    ("daqui a 1 dia", SPRING, utc(3, 29, 11), False),  # the same wall clock, 23 hours later
    ("daqui a 24 horas", SPRING, utc(3, 29, 12), False),  # elapsed
    ("domingo 1h30", AUTUMN, utc(10, 25, 0, 30), False),  # repeated: the first 01:30 (WEST)
    ("amanhã 9h", AUTUMN, utc(10, 25, 9), False),  # WET, UTC+0
])
def test_portuguese_times_across_lisbon_dst(text: str, now: datetime, expected: datetime, shifted: bool) -> None:
    reading = read_when(text, LISBON, now, language="pt")
    assert reading.instant == expected
    assert reading.shifted is shifted


# --- occasions: one of a series' days ------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "text", "day"), [
    ("fr", "mardi", date(2026, 11, 24)),  # a weekday that is today names today, all day
    ("fr", "aujourd'hui", date(2026, 11, 24)), ("fr", "demain", date(2026, 11, 25)),
    ("es", "el lunes", date(2026, 11, 30)), ("pt", "quinta-feira", date(2026, 11, 26)),
    ("ar", "الخميس", date(2026, 11, 26)), ("sw", "kesho", date(2026, 11, 25)), ("sw", "Jumanne", date(2026, 11, 24)),
    ("fr", "demain 14h", date(2026, 11, 25)),
])
def test_an_occasion_in_the_readers_words(language: str, text: str, day: date) -> None:
    now = NOW + timedelta(hours=8)  # 21:00 in Nairobi: today's 09:00 is past, today still counts
    assert read_occasion(text, NAIROBI, now, max_ahead=timedelta(days=366), language=language).day == day


@pytest.mark.parametrize(("language", "text"), [
    ("fr", "prochain"), ("fr", "Prochaine"), ("es", "próximo"), ("es", "proximo"), ("pt", "próxima"),
    ("ar", "القادم"), ("sw", "ijayo"), ("sw", "next"),
])
def test_next_in_the_readers_words(language: str, text: str) -> None:
    assert read_occasion(text, NAIROBI, NOW, max_ahead=timedelta(days=366), language=language).day is None


def test_next_of_another_language_is_refused() -> None:
    with pytest.raises(UserError):
        read_occasion("prochain", NAIROBI, NOW, max_ahead=timedelta(days=366), language="es")
