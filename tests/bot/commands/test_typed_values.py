"""The framework's typed conversions: each kind's good value, its translated refusal, and times across DST.

A handler reads zones, languages, durations and times through ``ctx.zone`` … (never as text), so these are the
only places they are parsed; ``test_typed_arguments`` fails a handler that parses one again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.commands.context import Caller, Context, ZoneSource
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.commands.values import ZONE_EXAMPLES, language_list
from bot.errors import UsageError, UserError
from bot.i18n import _
from bot.model import Identity, IdentityRecord, Person, Role, RoleSources
from bot.when import EXAMPLES

ZONE = Arg("zone", _("x"), ArgKind.ZONE)
LANG = Option("lang", _("x"), ArgKind.LANGUAGE)
DURATION = Option("duration", _("x"), ArgKind.DURATION)
REMIND = Option("remind", _("x"), ArgKind.DURATIONS)
WHEN = Arg("when", _("x"), ArgKind.TIME, required=False)
OCCURRENCE = Option("occurrence", _("x"), ArgKind.TIME)
TEXT = Option("note", _("x"))
COMMAND = Command(("try",), _("x"), args=(ZONE, WHEN), options=(LANG, DURATION, REMIND, OCCURRENCE, TEXT))

# Copenhagen springs forward on Sunday 2027-03-28: 02:00 local becomes 03:00 (UTC+1 → UTC+2).
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
BEFORE_SPRING = datetime(2027, 3, 26, 12, tzinfo=UTC)  # a Friday
YEAR = timedelta(days=366)


def _context(values: dict[str, str], *, zone: str = "Europe/Copenhagen", now: datetime = BEFORE_SPRING,
             command: Command = COMMAND) -> Context[None]:
    identity = Identity("console", "ada")
    caller = Caller(person=Person(1, "Ada", None, None, None, None, None, None, now),
                    identity=IdentityRecord(identity, 1, "Ada", Role.MEMBER, None, None),
                    roles=RoleSources(Role.OUTSIDER, Role.MEMBER, Role.OUTSIDER), coordinated=frozenset(),
                    language="en", timezone=zone, timezone_source=ZoneSource.OWN)
    return Context(caller=caller, command=command, values={"zone": "UTC", **values}, deps=None, now=now)


def _refusal(read: object) -> object:
    assert callable(read)
    with pytest.raises(UserError) as refused:
        read()
    return refused.value.message


# --- zones -------------------------------------------------------------------------------------------------


def test_a_zone_arrives_as_its_zoneinfo_under_its_canonical_name() -> None:
    zone = _context({"zone": " europe/PARIS "}).zone(ZONE)
    assert zone == ZoneInfo("Europe/Paris") and zone.key == "Europe/Paris"


def test_an_unknown_zone_is_refused_with_a_suggestion_or_examples() -> None:
    assert _refusal(lambda: _context({"zone": "Europe/Pari"}).zone(ZONE)) == _(
        "Unknown time zone “{zone}”. Did you mean {suggestion}? Use an IANA name such as {examples}.",
        zone="Europe/Pari", suggestion="Europe/Paris", examples=ZONE_EXAMPLES)
    assert _refusal(lambda: _context({"zone": "Nowhere"}).zone(ZONE)) == _(
        "Unknown time zone “{zone}”. Use an IANA name such as {examples}.", zone="Nowhere", examples=ZONE_EXAMPLES)


# --- languages ---------------------------------------------------------------------------------------------


def test_a_language_arrives_as_its_normalised_code() -> None:
    assert _context({"lang": "pt_BR"}).optional_language(LANG) == "pt"
    assert _context({"lang": "FR"}).optional_language(LANG, among=("en", "fr")) == "fr"
    assert _context({}).optional_language(LANG) is None


def test_a_language_that_is_not_one_is_refused() -> None:
    assert _refusal(lambda: _context({"lang": "klingon"}).optional_language(LANG)) == _(
        "“{language}” is not a language code. Use a code such as en, fr or es.", language="klingon")
    assert _refusal(lambda: _context({"lang": "de"}).optional_language(LANG, among=("fr", "en"))) == _(
        "“{language}” is not available. Supported languages: {languages}.", language="de",
        languages="en (English), fr (français)")
    assert language_list(("fr", "en")) == "en (English), fr (français)"


# --- durations ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "minutes"), [("1h", 60), ("90m", 90), ("1h30m", 90), ("45", 45), ("2d", 2880),
                                               ("1H 30MIN", 90)])
def test_a_duration_arrives_as_a_timedelta(text: str, minutes: int) -> None:
    assert _context({"duration": text}).optional_duration(DURATION) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["long", "1x", "h", "٤٥", "30m1h"])
def test_a_duration_that_is_not_one_is_refused(text: str) -> None:
    assert _refusal(lambda: _context({"duration": text}).optional_duration(DURATION)) == _(
        "“{duration}” is not a duration. Write it like 1h, 90m or 1h30m.", duration=text)


@pytest.mark.parametrize(("text", "minutes"), [("24h,1h,15m", (1440, 60, 15)), ("1h, 1d, 60m", (1440, 60)),
                                               ("1h30m", (90,)), ("15m,2h", (120, 15))])
def test_durations_arrive_distinct_and_longest_first(text: str, minutes: tuple[int, ...]) -> None:
    assert _context({"remind": text}).optional_durations(REMIND) == tuple(timedelta(minutes=m) for m in minutes)


@pytest.mark.parametrize("text", ["soon", ",", "1h,,", "1h,x", "1h;2h"])
def test_a_list_that_is_not_durations_is_refused(text: str) -> None:
    assert _refusal(lambda: _context({"remind": text}).optional_durations(REMIND)) == _(
        "“{durations}” is not a list of durations. Write them like 24h,1h,15m.", durations=text)


# --- times -------------------------------------------------------------------------------------------------


def test_a_time_is_read_on_the_callers_wall_clock_unless_a_zone_is_given() -> None:
    ctx = _context({"when": "tomorrow 14:00"}, zone="Asia/Kolkata")
    assert ctx.time(WHEN, max_ahead=YEAR).instant == datetime(2027, 3, 27, 8, 30, tzinfo=UTC)  # UTC+5:30
    assert ctx.time(WHEN, max_ahead=YEAR, zone=COPENHAGEN).instant == datetime(2027, 3, 27, 13, tzinfo=UTC)
    assert ctx.time(WHEN, max_ahead=YEAR).text == "tomorrow 14:00"


def test_a_time_in_the_spring_forward_gap_moves_by_the_gap_and_says_so() -> None:
    reading = _context({"when": "2027-03-28 02:30"}).time(WHEN, max_ahead=YEAR)
    assert reading.instant == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 summer time
    assert reading.typed == datetime(2027, 3, 28, 2, 30) and reading.shifted  # noqa: DTZ001
    after = _context({"when": "2027-03-28 03:30"}).time(WHEN, max_ahead=YEAR)
    assert after.instant == reading.instant and not after.shifted


def test_a_time_in_the_past_or_too_far_ahead_is_refused() -> None:
    past = _refusal(lambda: _context({"when": "2027-03-25 10:00"}).time(WHEN, max_ahead=YEAR))
    assert past == _("{problem} Try, for example: {examples}.", examples=EXAMPLES,
                     problem=_("{when} is in the past.", when="2027-03-25 10:00 (Europe/Copenhagen)"))
    too_far = _refusal(lambda: _context({"when": "in 8 days"}).time(WHEN, max_ahead=timedelta(days=7)))
    assert "too far ahead" in str(too_far)
    assert _context({}).optional_time(WHEN, max_ahead=YEAR) is None
    with pytest.raises(UsageError):
        _context({}).time(WHEN, max_ahead=YEAR)


def test_an_occurrence_is_next_or_a_day_and_a_lone_day_word_includes_today() -> None:
    friday_evening = datetime(2027, 3, 26, 19, tzinfo=UTC)  # 20:00 in Copenhagen, long past 09:00

    def read(text: str) -> object:
        occasion = _context({"occurrence": text}, now=friday_evening).occasion(
            OCCURRENCE, zone=COPENHAGEN, max_ahead=YEAR)
        assert occasion is not None and occasion.text == text and occasion.zone is COPENHAGEN
        return occasion.day, occasion.at

    assert read("next") == (None, None)
    assert read("today") == (date(2027, 3, 26), None)
    assert read("friday") == (date(2027, 3, 26), None)  # today, not next week
    assert read("tomorrow") == (date(2027, 3, 27), None)
    assert read("2027-04-02") == (date(2027, 4, 2), None)
    assert read("monday 14:00") == (date(2027, 3, 29), datetime(2027, 3, 29, 12, tzinfo=UTC))
    assert _refusal(lambda: read("2027-02-30")) == _("“{date}” is not a date. Write it as YYYY-MM-DD.",
                                                      date="2027-02-30")


# --- declarations ------------------------------------------------------------------------------------------


def test_reading_an_argument_as_another_kind_is_a_bug() -> None:
    ctx = _context({"note": "Europe/Paris", "lang": "fr"})
    with pytest.raises(LookupError):
        ctx.optional_zone(TEXT)
    with pytest.raises(LookupError):
        ctx.optional_duration(LANG)
    with pytest.raises(LookupError):
        ctx.optional_zone(Option("zone", _("x"), ArgKind.ZONE))  # an option this command does not declare
