"""Dates, times, weekdays, lengths of time, lists and repeat rules in the reader's language (issue 18 item 2).

Expected strings were checked against Babel 2.19's CLDR data, not guessed: e.g. Spanish writes "martes, 1 de
diciembre de 2026", Portuguese glues date and time with a space, Arabic with "،" and a 12-hour clock, and
English (CLDR "en") uses a narrow no-break space before AM/PM.
"""
# ruff: noqa: DTZ001 - naive datetimes here are wall-clock times, read in the zone beside them

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import dates
from bot.i18n import (
    Text,
    Translator,
    _,
    exact_duration,
    listing,
    moment,
    text_from_json,
    text_to_json,
    wall_clock,
    weekdays,
)
from bot.meetings.recurrence import describe_rule, parse_rule
from bot.messages import Message, stamp

LANGUAGES = ("en", "fr", "es", "pt", "ar", "sw")
NAIROBI = ZoneInfo("Africa/Nairobi")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
INSTANT = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 14:00 in Nairobi, a Tuesday
TR = Translator.untranslated()


def render(message: Text, language: str) -> str:
    return TR.render(message, language)


FULL = {
    "en": "Tuesday, December 1, 2026, 2:00\u202fPM (Africa/Nairobi)",
    "fr": "mardi 1 décembre 2026, 14:00 (Africa/Nairobi)",
    "es": "martes, 1 de diciembre de 2026, 14:00 (Africa/Nairobi)",
    "pt": "terça-feira, 1 de dezembro de 2026 14:00 (Africa/Nairobi)",
    "ar": "الثلاثاء، 1 ديسمبر 2026، 2:00 م (Africa/Nairobi)",
    "sw": "Jumanne, 1 Desemba 2026 14:00 (Africa/Nairobi)",
}
LONG_DATE = {"en": "December 1, 2026", "fr": "1 décembre 2026", "es": "1 de diciembre de 2026",
             "pt": "1 de dezembro de 2026", "ar": "1 ديسمبر 2026", "sw": "1 Desemba 2026"}
SHORT_TIME = {"en": "2:00\u202fPM", "fr": "14:00", "es": "14:00", "pt": "14:00", "ar": "2:00 م", "sw": "14:00"}
TUE_THU = {"en": "Tuesday and Thursday", "fr": "mardi et jeudi", "es": "martes y jueves",
           "pt": "terça-feira e quinta-feira", "ar": "الثلاثاء والخميس", "sw": "Jumanne na Alhamisi"}
THREE = {"en": "a, b, and c", "fr": "a, b et c", "es": "a, b y c", "pt": "a, b e c", "ar": "a وb وc",
         "sw": "a, b na c"}
TWO_COUNTS = {"en": "3 queued, 2 sent", "fr": "3 queued et 2 sent", "es": "3 queued y 2 sent",
              "pt": "3 queued e 2 sent", "ar": "3 queued و2 sent", "sw": "3 queued na 2 sent"}
NINETY_MINUTES = {"en": "1 hour, 30 minutes", "fr": "1\xa0heure et 30 minutes", "es": "1 hora y 30 minutos",
                  "pt": "1 hora e 30 minutos", "ar": "ساعة و30 دقيقة", "sw": "saa 1 na dakika 30"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_moment_in_a_named_zone(language: str) -> None:
    assert render(moment(INSTANT, NAIROBI, with_zone=True), language) == FULL[language]
    assert render(moment(INSTANT, NAIROBI, "D"), language) == LONG_DATE[language]
    assert render(moment(INSTANT, NAIROBI, "t"), language) == SHORT_TIME[language]
    assert render(moment(INSTANT, NAIROBI, "f"), language).startswith(LONG_DATE[language])


@pytest.mark.parametrize("language", LANGUAGES)
def test_weekdays_lists_and_exact_durations(language: str) -> None:
    assert render(weekdays([3, 1]), language) == TUE_THU[language]  # in week order, whatever the order given
    assert render(listing(["a", "b", "c"]), language) == THREE[language]
    assert render(listing(["3 queued", "2 sent"], counts=True), language) == TWO_COUNTS[language]
    assert render(exact_duration(90 * 60), language) == NINETY_MINUTES[language]


def test_nothing_is_zero_padded_or_hand_made() -> None:
    january = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    assert render(moment(january, ZoneInfo("UTC"), "F"), "en") == "Tuesday, January 5, 2027, 9:00\u202fAM"
    assert render(moment(january, ZoneInfo("UTC"), "D"), "fr") == "5 janvier 2027"
    assert "05 January" not in render(moment(january, ZoneInfo("UTC"), "f"), "en")


@pytest.mark.parametrize(("instant", "en", "fr"), [
    (datetime(2027, 3, 28, 0, 59, tzinfo=UTC), "March 28, 2027, 1:59\u202fAM", "28 mars 2027, 01:59"),  # before the gap
    (datetime(2027, 3, 28, 1, 0, tzinfo=UTC), "March 28, 2027, 3:00\u202fAM", "28 mars 2027, 03:00"),  # after it
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "October 25, 2026, 2:30\u202fAM", "25 octobre 2026, 02:30"),  # twice:
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "October 25, 2026, 2:30\u202fAM", "25 octobre 2026, 02:30"),  # both
])
def test_dst_edges_read_as_the_local_wall_clock(instant: datetime, en: str, fr: str) -> None:
    assert render(moment(instant, COPENHAGEN, "f"), "en") == en
    assert render(moment(instant, COPENHAGEN, "f"), "fr") == fr
    assert dates.format_stamp(int(instant.timestamp()), "f", COPENHAGEN, "fr") == f"{fr} (Europe/Copenhagen)"


def test_a_wall_clock_time_that_does_not_exist_is_shown_as_typed() -> None:
    skipped = datetime(2027, 3, 28, 2, 30)  # Copenhagen skips it
    assert render(wall_clock(skipped, "t"), "en") == "2:30\u202fAM"
    assert render(wall_clock(skipped, "f"), "es") == "28 de marzo de 2027, 2:30"
    with pytest.raises(ValueError, match="style"):
        wall_clock(skipped, "x")


LAZY = [
    moment(INSTANT, NAIROBI, "F", with_zone=True), moment(INSTANT, COPENHAGEN, "t"),
    wall_clock(datetime(2027, 3, 28, 2, 30)),
    weekdays([0, 2, 4]), listing(["a", _("yes"), exact_duration(60)]), listing(["x"], counts=True),
    exact_duration(3600 * 25), _("First: {time}, {rule}", time=moment(INSTANT, NAIROBI), rule=describe_rule(
        "FREQ=WEEKLY;BYDAY=TU,TH")),
]


@pytest.mark.parametrize("value", LAZY)
def test_lazy_values_survive_a_json_round_trip_and_render_the_same(value: Text) -> None:
    again = text_from_json(json.loads(json.dumps(text_to_json(value))))
    assert again == value
    for language in LANGUAGES:
        assert TR.render(again, language) == TR.render(value, language) != ""


def test_a_message_carries_its_language_and_keeps_lazy_dates_in_its_json() -> None:
    message = Message(title=_("Meeting"), body=(_("Starts {time}", time=moment(INSTANT, NAIROBI)),))
    again = Message.from_json(json.loads(json.dumps(message.to_json())))
    rendered = again.render(TR, "es")
    assert rendered.language == "es"
    assert rendered.body == ("Starts martes, 1 de diciembre de 2026, 14:00",)


def test_rows_written_by_the_previous_version_still_render() -> None:
    # Before: the rule and dates were plain strings inside the stored texts, times stamp markers.
    old = {"title": {"msgid": "Reminder: {title}", "plural": None, "n": None, "params": [["title", "Call"]]},
           "body": [{"msgid": "Meeting #{id} starts {time}, repeating {rule}.", "plural": None, "n": None,
                     "params": [["id", 2], ["rule", "weekly"], ["time", stamp(INSTANT)]]}],
           "fields": [[{"msgid": "Repeats", "plural": None, "n": None, "params": []}, "tu,th"]],
           "actions": [], "footer": None}
    rendered = Message.from_json(old).render(TR, "fr")
    assert rendered.body == (f"Meeting #2 starts {stamp(INSTANT)}, repeating weekly.",)
    assert rendered.fields[0].value == "tu,th"


def test_a_damaged_or_unknown_value_falls_back_rather_than_failing() -> None:
    assert render(Text("\x00moment", params=(("at", 0), ("style", "f"), ("zone", "Mars/Base"))), "en") \
        == "January 1, 1970, 12:00\u202fAM"  # an unknown zone reads as UTC
    assert render(Text("\x00wall-clock", params=(("local", "not a time"), ("style", "f"))), "en") == ""
    assert render(moment(INSTANT, NAIROBI, "t"), "xx") == SHORT_TIME["en"]  # an unknown language: English


# --- repeat rules in words -----------------------------------------------------------------------------------

TUESDAY = datetime(2026, 12, 1, 14, 0)  # the first Tuesday of December
LAST_TUESDAY = datetime(2026, 12, 29, 14, 0)


@pytest.mark.parametrize(("typed", "start", "words"), [
    ("daily", TUESDAY, "every day"),
    ("weekdays", TUESDAY, "every weekday"),
    ("weekly", TUESDAY, "every Tuesday"),
    ("biweekly", TUESDAY, "every two weeks on Tuesday"),
    ("monthly", TUESDAY, "on the first Tuesday of each month"),
    ("monthly", LAST_TUESDAY, "on the last Tuesday of each month"),
    ("tue,thu", TUESDAY, "every Tuesday and Thursday"),
    ("mo,we,fr", TUESDAY, "every Monday, Wednesday, and Friday"),
    ("FREQ=MONTHLY;BYDAY=-1FR", TUESDAY, "on the last Friday of each month"),
    ("FREQ=MONTHLY;BYMONTHDAY=15", TUESDAY, "on day 15 of each month"),
    ("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO", TUESDAY, "every 3 weeks on Monday"),
    ("FREQ=HOURLY;INTERVAL=6", TUESDAY, "every 6 hours"),
    ("FREQ=DAILY;INTERVAL=2", TUESDAY, "every 2 days"),
    ("FREQ=YEARLY", TUESDAY, "every year"),
])
def test_each_shorthand_and_a_custom_set_read_as_words(typed: str, start: datetime, words: str) -> None:
    body = parse_rule(typed, start)
    assert render(describe_rule(body, start), "en") == words
    for language in LANGUAGES:
        shown = render(describe_rule(body, start), language)
        assert "FREQ" not in shown and "BYDAY" not in shown and "=" not in shown


def test_weekday_names_in_a_rule_are_the_readers() -> None:
    body = parse_rule("tue,thu", TUESDAY)
    for language in LANGUAGES:
        assert TUE_THU[language] in render(describe_rule(body, TUESDAY), language)


def test_once_and_rules_the_words_cannot_say() -> None:
    assert render(describe_rule(None), "en") == "once"
    assert render(describe_rule("FREQ=WEEKLY"), "en") == "every week"  # no start to name the day
    assert render(describe_rule("FREQ=WEEKLY;INTERVAL=2"), "en") == "every two weeks"
    generic = "on a schedule of its own (see the calendar file)"
    for body in ("FREQ=DAILY;COUNT=5", "FREQ=WEEKLY;UNTIL=20270101T000000Z", "FREQ=MONTHLY;BYDAY=MO,TU",
                 "FREQ=DAILY;BYHOUR=9,17", "FREQ=MONTHLY;BYDAY=2MO;INTERVAL=3", "FREQ=WEEKLY;INTERVAL=0"):
        assert render(describe_rule(body, TUESDAY), "en") == generic, body
