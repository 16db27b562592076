"""The meeting commands that buttons run (show, cancel, calendar file, answer, pages), declared where a
service can build a button without importing the router (:mod:`bot.meetings.commands`)."""

from __future__ import annotations

from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.i18n import _
from bot.meetings.model import Answer, RsvpScope
from bot.model import Role

NUMBER = Arg("id", _("The meeting number, e.g. 3"), ArgKind.MEETING, max_length=12)
OCCURRENCE = Option("occurrence", _("Only one occurrence: next, or its day (2026-12-01, tuesday), read in the "
                                    "meeting's zone"), ArgKind.TIME)

ONLY_TOPIC = Arg("topic", _("Only this topic"), ArgKind.TOPIC, required=False)
PAGE = Option("page", _("Page number"), ArgKind.INTEGER, max_length=4)
ANSWER = Arg("answer", _("yes, no or maybe"), ArgKind.CHOICE, choices=tuple(Answer))
SCOPE = Arg("scope", _("all: every occurrence"), ArgKind.CHOICE, required=False, choices=tuple(RsvpScope))

MEETINGS = Command(("meetings",), _("Upcoming meetings, in your time zone."), args=(ONLY_TOPIC,), options=(PAGE,))
MEETING_SHOW = Command(("meeting", "show"), _("A meeting's details and next dates."), args=(NUMBER,))
MEETING_CANCEL = Command(("meeting", "cancel"), _("Cancel a meeting series, or one occurrence of it."),
                         role=Role.COORDINATOR, args=(NUMBER,), options=(OCCURRENCE,))
RSVP = Command(("rsvp",), _("Answer whether you will attend the next meeting (or all with “all”)."),
               role=Role.MEMBER,
               args=(NUMBER, ANSWER, SCOPE))
MEETING_ICS = Command(("meeting", "ics"), _("A calendar file (.ics) for a meeting."), args=(NUMBER,))
