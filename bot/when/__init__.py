"""Reading a point in time typed by a person, e.g. for scheduling an announcement or a meeting.

:func:`parse_when` turns the text into an aware UTC instant, reading wall-clock times in the author's
IANA zone. The words are the reader's language's and English's (:mod:`bot.when.words`, one table per
language, weekday names from CLDR), compared case- and accent-insensitively, with Arabic-Indic digits read as
ASCII. Accepted forms (shown in English; ``demain 09:00``, ``el lunes a las 14:00``, ``amanhã às 9h``,
``غدا 09:00``, ``kesho 09:00`` are the same forms in other words):

* ``now`` — anything that resolves to within the past 60 seconds also counts as now and returns ``now``.
* ``in 2h``, ``in 2 hours``, ``in 30m``, ``in 30 minutes``, ``in 1h30m``, ``in 1 day``, ``in 3d``,
  ``in 2 weeks`` — days and weeks are *calendar* arithmetic on the local wall clock (``in 1 day`` across a
  DST change is the same wall-clock time tomorrow), hours and minutes are *elapsed* time (``in 24h`` across
  a DST change shows a different wall-clock time). In a mix such as ``in 1d 2h`` the days are applied to
  the wall clock first, then the hours are added as elapsed time. (Arabic duals hold their count:
  ``بعد ساعتين``; Swahili puts the unit first: ``baada ya dakika 30``.)
* ``today 17:00``, ``tomorrow 09:00``, ``tomorrow 9am``, ``tomorrow at 9:30pm``.
* ``monday 14:00`` / ``mon 14:00`` — the next such day; today if it is that weekday and the time is still
  ahead, otherwise the same weekday next week.
* ``14:00``, ``9:30``, ``9pm`` alone — the next such time: today if still ahead, otherwise tomorrow; French
  and Portuguese readers may also write ``9h``, ``9h30``, ``14h``; CLDR's day periods (``9 p. m.``, ``9 م``)
  are read besides ``am``/``pm``.
* ``2026-12-01 14:00``, ``2026-12-01T14:00`` (seconds optional).
* A day without a time (``2026-12-01``, ``tomorrow``, ``monday``) means **09:00 local time** that day.
* ISO 8601 with an offset or ``Z`` (``2026-12-01T14:00:00+03:00``, ``2026-12-01T11:00Z``) — the offset wins
  over the zone.

The forms are a small grammar over words (:mod:`bot.when.grammar`), so a command line can ask how many of its
words form a time (:func:`time_length`): ``when:monday 14:00 Webinar`` takes two, ``when:tomorrow 9 Webinar``
is refused (``9`` begins a time it does not finish), never guessed.

Refused with a :class:`~bot.errors.UserError` (ending with examples in the reader's words): ``01/12/2026``
and other day/month orders that could be read either way (the message suggests ``YYYY-MM-DD``), invalid dates
or times (``2026-02-30``, ``25:00``), times in the past, times more than ``max_ahead`` ahead, a word that
means two things in the reader's words, and anything else.

DST: a local time that does not exist (02:30 on the spring-forward day) is moved forward by the length of
the gap (03:30); a local time that occurs twice (the repeated autumn hour) means the first occurrence. Both
follow from PEP 495 with ``fold=0`` and a round trip through UTC, never from naive arithmetic on offsets.
(So ``02:30`` typed at 02:10 during the *second* pass through a repeated hour means tomorrow's 02:30; an
explicit offset, ``2026-10-25T02:30+01:00``, reaches the second occurrence.) :func:`read_when` also gives
the wall-clock time typed, so a caller can say when a gap moved it.
"""

from __future__ import annotations

from bot.when.messages import EXAMPLES, examples
from bot.when.reading import DEFAULT_TIME, NOW_GRACE, Reading, not_a_time, parse_when, read_when, time_length
from bot.when.words import TABLES, Vocabulary, fold, vocabulary

__all__ = ["DEFAULT_TIME", "EXAMPLES", "NEXT_WORDS", "NOW_GRACE", "TABLES", "TODAY_WORDS", "TOMORROW_WORDS", "WEEKDAYS",
           "Reading", "Vocabulary", "examples", "fold", "not_a_time", "parse_when", "read_when",
           "time_length", "vocabulary"]

_ENGLISH = vocabulary("en")
# The English words, as this module named them before it read other languages (a reader's own words:
# ``vocabulary(language)``).
TODAY_WORDS = frozenset(p[0] for p, meaning in _ENGLISH.phrases["start"].items() if meaning == "today")
TOMORROW_WORDS = frozenset(p[0] for p, meaning in _ENGLISH.phrases["start"].items() if meaning == "tomorrow")
NEXT_WORDS = _ENGLISH.next
WEEKDAYS = {p[0]: int(meaning.partition(":")[2]) for p, meaning in _ENGLISH.phrases["start"].items()
            if meaning.startswith("weekday:")}
