"""The meeting commands that buttons run (show, cancel, calendar file, answer, pages), declared where a
service can build a button without importing the router (:mod:`bot.meetings.commands`)."""

from __future__ import annotations

from bot.commands.spec import Arg, ArgKind, ChoiceWords, Command, Option
from bot.i18n import _
from bot.meetings.model import Answer, RsvpScope
from bot.model import Role

NUMBER = Arg("id", _("The meeting number, e.g. 3"), ArgKind.MEETING, max_length=12)
OCCURRENCE = Option("occurrence", _("Only one occurrence: next, or its day (2026-12-01, tuesday), read in the "
                                    "meeting's zone"), ArgKind.TIME)

ONLY_TOPIC = Arg("topic", _("Only this topic"), ArgKind.TOPIC, required=False)
PAGE = Option("page", _("Page number"), ArgKind.INTEGER, max_length=4)
ANSWER_WORDS = (
    ChoiceWords("fr", Answer.YES, ("oui",)), ChoiceWords("fr", Answer.NO, ("non",)),
    ChoiceWords("fr", Answer.MAYBE, ("peut-être", "peutetre")),
    ChoiceWords("es", Answer.YES, ("sí",)), ChoiceWords("es", Answer.NO, ("no",)),
    ChoiceWords("es", Answer.MAYBE, ("quizás", "quizá")),
    ChoiceWords("pt", Answer.YES, ("sim",)), ChoiceWords("pt", Answer.NO, ("não",)),
    ChoiceWords("pt", Answer.MAYBE, ("talvez",)),
    ChoiceWords("ar", Answer.YES, ("نعم",)), ChoiceWords("ar", Answer.NO, ("لا",)),
    ChoiceWords("ar", Answer.MAYBE, ("ربما",)),
    ChoiceWords("sw", Answer.YES, ("ndiyo", "ndio")), ChoiceWords("sw", Answer.NO, ("hapana",)),
    ChoiceWords("sw", Answer.MAYBE, ("labda", "pengine")),
)
"""``rsvp 1 oui``: each answer in each shipped language (the first word is the one a refusal shows)."""
SCOPE_WORDS = (
    ChoiceWords("fr", RsvpScope.ALL, ("toutes", "tout", "tous")), ChoiceWords("es", RsvpScope.ALL, ("todas", "todos")),
    ChoiceWords("pt", RsvpScope.ALL, ("todas", "todos")), ChoiceWords("ar", RsvpScope.ALL, ("الكل", "كلها")),
    ChoiceWords("sw", RsvpScope.ALL, ("zote", "yote")),
)

ANSWER = Arg("answer", _("yes, no or maybe"), ArgKind.CHOICE, choices=tuple(Answer), words=ANSWER_WORDS)
SCOPE = Arg("scope", _("all: every occurrence"), ArgKind.CHOICE, required=False, choices=tuple(RsvpScope),
            words=SCOPE_WORDS)

MEETINGS = Command(("meetings",), _("Upcoming meetings, in your time zone."), args=(ONLY_TOPIC,), options=(PAGE,))
MEETING_SHOW = Command(("meeting", "show"), _("A meeting's details and next dates."), args=(NUMBER,))
MEETING_CANCEL = Command(("meeting", "cancel"), _("Cancel a meeting series, or one occurrence of it."),
                         role=Role.COORDINATOR, args=(NUMBER,), options=(OCCURRENCE,))
RSVP = Command(("rsvp",), _("Answer whether you will attend the next meeting (or all with “all”)."),
               role=Role.MEMBER,
               args=(NUMBER, ANSWER, SCOPE))
MEETING_ICS = Command(("meeting", "ics"), _("A calendar file (.ics) for a meeting."), args=(NUMBER,))
