"""Commands for meetings (``meeting …``, ``meetings``, ``rsvp``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.commands.context import Context, ZoneSource
from bot.commands.invoke import invoke
from bot.commands.routes import Route, route
from bot.commands.spec import Arg, ArgKind, Option
from bot.delivery.status import OutboxReports, reason_text
from bot.i18n import Msg, Text, _, _n, exact_duration, listing, moment, wall_clock
from bot.meetings.declarations import (
    ANSWER,
    MEETING_CANCEL,
    MEETING_ICS,
    MEETING_SHOW,
    MEETINGS,
    NUMBER,
    OCCURRENCE,
    ONLY_TOPIC,
    PAGE,
    RSVP,
    SCOPE,
)
from bot.meetings.ics import calendar_for
from bot.meetings.model import Answer, Meeting, MeetingInput, MeetingState, OccurrenceState, RsvpScope
from bot.meetings.recurrence import describe_rule, gap_moves, reminder_minutes
from bot.meetings.service import DEFAULT_REMIND, MeetingService, answer_label, series_start
from bot.messages import Action, ActionStyle, Attachment, Field, Message, stamp
from bot.model import Role
from bot.people.service import PeopleService
from bot.topics.service import TopicService

DEFAULT_DURATION = timedelta(hours=1)
ICS_TYPE = "text/calendar"
PAGE_SIZE = 25
MAX_PAGE = 1000
GAP_LOOKAHEAD = timedelta(days=366)
CANCELLED_KEPT = timedelta(days=90)
"""How long a cancelled series stays in its topic's calendar file (as STATUS:CANCELLED)."""


TOPIC = Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC)
TITLE = Arg("title", _("The title; quote it when it has several words"), max_length=200)
WHEN = Arg("when", _("tomorrow 14:00, tuesday 14:00, 2026-12-01 14:00"), ArgKind.TIME, rest=True)
DURATION = Option("duration", _("How long, e.g. 1h or 90m (default 1h)"), ArgKind.DURATION)
REPEAT = Option("repeat", _("daily, weekdays, weekly, biweekly, monthly, tue,thu or an RRULE"), max_length=300)
REMIND = Option("remind", _("Reminder times before the start, e.g. 24h,1h (the default)"), ArgKind.DURATIONS)
LINK = Option("link", _("The call or agenda link (http or https)"), max_length=500)
ZONE = Option("zone", _("The meeting's time zone, e.g. Europe/Brussels (default: yours)"), ArgKind.ZONE)
TYPED_ZONE = Option("zone", _("The zone of the times you type (default: the meeting's zone)"), ArgKind.ZONE)


@dataclass(frozen=True, slots=True)
class MeetingCommandDeps:
    meetings: MeetingService
    topics: TopicService
    people: PeopleService
    outbox: OutboxReports
    """Read-only: a meeting's missed reminders for ``meeting show``."""


async def meeting_create(ctx: Context[MeetingCommandDeps]) -> Message:
    service = ctx.deps.meetings
    topic = await ctx.deps.topics.coordinated_topic(ctx.caller, ctx.value(TOPIC))
    typed_zone = ctx.optional_zone(ZONE)
    zone = typed_zone or ctx.caller.zone
    start = ctx.time(WHEN, zone=zone, max_ahead=service.config.max_ahead)
    remind = ctx.optional_durations(REMIND)
    data = MeetingInput(
        title=ctx.value(TITLE), start=start.instant, zone=zone,
        duration=ctx.optional_duration(DURATION) or DEFAULT_DURATION,
        repeat=ctx.get(REPEAT), remind_minutes=reminder_minutes(remind) if remind else DEFAULT_REMIND,
        link=ctx.get(LINK), wall_clock=start.typed)
    meeting, notices = await service.create(ctx.caller, topic, data)
    first = await service.next_occurrence(meeting)
    body: list[Text | str] = [_("Meeting #{id} “{title}” in “{topic}” is scheduled.", id=meeting.id,
                                title=meeting.title, topic=topic.slug)]
    if first is not None:
        body.append(_("First: {time} — {local} in the meeting's zone.", time=stamp(first.start),
                      local=moment(first.start, meeting.tz, with_zone=True)))
    body += _gap_notes(meeting.start_local, meeting.tz, meeting.rrule, ctx.now)
    if typed_zone is None and ctx.caller.timezone_source is ZoneSource.DEFAULT:
        body.append(_("That is the coalition's default zone; set yours with “settings timezone <zone>” or give "
                      "zone:<IANA name>."))
    body.append(_n("{n} notice is on its way.", "{n} notices are on their way.", notices))
    return Message(body=tuple(body), fields=_fields(meeting),
                   actions=(Action(_("Show"), invoke(MEETING_SHOW, id=meeting.id)),
                            Action(_("Cancel"), invoke(MEETING_CANCEL, id=meeting.id), ActionStyle.DANGER)))


def _gap_notes(start_local: datetime, zone: ZoneInfo, rrule: str | None, now: datetime) -> list[Text]:
    """Where a DST gap moves the series' wall-clock time within the next year (said, never silent)."""
    moves = gap_moves(start_local, zone, rrule, now, now + GAP_LOOKAHEAD, 4)
    if not moves:
        return []
    moved: list[Msg] = [wall_clock(when, "f") for _typed, when in moves[:3]]
    return [_("{time} does not exist in {zone} when the clocks go forward, so the meeting starts later then: "
              "{moved}.", time=wall_clock(moves[0][0], "t"), zone=zone.key,
              moved=listing([*moved, "…"] if len(moves) > 3 else moved))]


def _fields(meeting: Meeting) -> tuple[Field, ...]:
    reminders = [exact_duration(minutes * 60) for minutes in meeting.remind_minutes]
    fields = [Field(_("Duration"), exact_duration(meeting.duration_minutes * 60)),
              Field(_("Repeats"), describe_rule(meeting.rrule, meeting.start_local)),
              Field(_("Zone"), meeting.zone),
              Field(_("Reminders"), listing(reminders) if reminders else "—")]
    if meeting.link:
        fields.append(Field(_("Link"), meeting.link))
    return tuple(fields)


async def meetings_list(ctx: Context[MeetingCommandDeps]) -> Message:
    topics = ctx.deps.topics
    page = ctx.page(PAGE, MAX_PAGE)
    only = ctx.get(ONLY_TOPIC)
    if only:
        visible = [await topics.find_visible(ctx.caller, only)]
    else:
        visible = [t for t in await topics.visible(ctx.caller) if not t.archived]
    by_id = {t.id: t for t in visible}
    upcoming = await ctx.deps.meetings.upcoming(visible, ctx.now, ctx.now + timedelta(days=31))
    if not upcoming:
        return Message(body=(_("No meetings in the next 31 days."),))
    shown = upcoming[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    if not shown:
        return Message(body=(_("There are no more meetings in the next 31 days: the last page is {last}.",
                               last=-(-len(upcoming) // PAGE_SIZE)),))
    lines: list[Text | str] = []
    for meeting, occurrence in shown:
        lines.append(_("#{id} {topic} — {time}: {title}", id=meeting.id, topic=by_id[meeting.topic_id].slug,
                       time=stamp(occurrence.start), title=meeting.title))
    first = (page - 1) * PAGE_SIZE + 1
    lines.append(_n("Meetings {first}–{last} of {n} in the next 31 days.",
                    "Meetings {first}–{last} of {n} in the next 31 days.", len(upcoming), first=first,
                    last=first + len(shown) - 1))
    actions = [Action(_("Show #{id}", id=m.id), invoke(MEETING_SHOW, id=m.id))
               for m in dict((m.id, m) for m, _o in shown).values()][:3]
    topic = {"topic": visible[0].slug} if only else {}
    if page > 1:
        actions.append(Action(_("Previous page"), invoke(MEETINGS, **topic, page=page - 1)))
    if page * PAGE_SIZE < len(upcoming):
        actions.append(Action(_("Next page"), invoke(MEETINGS, **topic, page=page + 1), ActionStyle.PRIMARY))
    return Message(title=_("Upcoming meetings — page {page}", page=page), body=tuple(lines), actions=tuple(actions))



async def meeting_show(ctx: Context[MeetingCommandDeps]) -> Message:
    service = ctx.deps.meetings
    meeting, topic = await service.visible(ctx.caller, ctx.number(NUMBER))
    body: list[Text | str] = []
    if meeting.state is MeetingState.CANCELLED:
        body.append(_("This meeting is cancelled."))
    occurrences = await service.occurrences(meeting, ctx.now, 6)
    for occurrence in occurrences[:6]:
        if occurrence.state is OccurrenceState.CANCELLED:
            body.append(_("• {time} — cancelled", time=stamp(occurrence.original_start)))
        elif occurrence.state is OccurrenceState.MOVED:
            body.append(_("• {time} — moved from {old}", time=stamp(occurrence.start),
                          old=stamp(occurrence.original_start)))
        else:
            body.append(_("• {time}", time=stamp(occurrence.start)))
    missed = await ctx.deps.outbox.missed_reminders(meeting.id)
    if missed:  # never silent: whoever looks at the meeting sees what was not sent, and why
        body.append(_("Missed reminders (not sent):"))
        body += [_("• {time}: the {offset} reminder — {reason}", time=stamp(m.start, "f"),
                   offset=exact_duration(m.offset_minutes * 60), reason=reason_text(m.reason)) for m in missed]
    next_occurrence = await service.next_occurrence(meeting)
    answers = await service.answers(meeting.id, next_occurrence)
    fields = list(_fields(meeting))
    if ctx.caller.person.id in answers:
        fields.append(Field(_("Your answer"), answer_label(answers[ctx.caller.person.id])))
    actions = [Action(_("Yes"), invoke(RSVP, id=meeting.id, answer="yes"), ActionStyle.PRIMARY),
               Action(_("Maybe"), invoke(RSVP, id=meeting.id, answer="maybe")),
               Action(_("No"), invoke(RSVP, id=meeting.id, answer="no"), ActionStyle.DANGER),
               Action(_("Calendar file"), invoke(MEETING_ICS, id=meeting.id))] \
        if meeting.state is MeetingState.ACTIVE and ctx.caller.role >= Role.MEMBER else \
        [Action(_("Calendar file"), invoke(MEETING_ICS, id=meeting.id))]
    return Message(title=_("Meeting #{id}: {title}", id=meeting.id, title=meeting.title), body=tuple(body),
                   fields=(Field(_("Topic"), topic.slug), *fields), actions=tuple(actions))


async def meeting_cancel(ctx: Context[MeetingCommandDeps]) -> Message:
    """One occurrence is named in the meeting's own zone, so the meeting is found first."""
    service = ctx.deps.meetings
    meeting, _topic = await service.coordinated(ctx.caller, ctx.number(NUMBER))
    occasion = ctx.occasion(OCCURRENCE, zone=meeting.tz, max_ahead=service.config.max_ahead)
    return await service.cancel(ctx.caller, meeting.id, occasion)


async def meeting_reschedule(ctx: Context[MeetingCommandDeps]) -> Message:
    """The new time is read in the meeting's zone unless ``zone:`` names another, and the reply says which."""
    service = ctx.deps.meetings
    meeting, _topic = await service.coordinated(ctx.caller, ctx.number(NUMBER))
    typed_zone = ctx.optional_zone(TYPED_ZONE)
    zone = typed_zone or meeting.tz
    new = ctx.time(WHEN, zone=zone, max_ahead=service.config.max_ahead)
    when = new.text
    occurrence = ctx.occasion(OCCURRENCE, zone=zone, max_ahead=service.config.max_ahead)
    reply = await service.reschedule(ctx.caller, meeting.id, new, occurrence)
    notes: list[Text | str] = [
        _("“{when}” was read in {zone}, as you asked.", when=when, zone=zone.key) if typed_zone else
        _("“{when}” was read in the meeting's zone, {zone}; give zone:<IANA name> to use another.",
          when=when, zone=zone.key)]
    if occurrence is not None and new.shifted and new.typed is not None:
        notes.append(_("{typed} does not exist in {zone}: the clocks go forward then, so it is {moved}.",
                       typed=wall_clock(new.typed, "f"), zone=zone.key, moved=moment(new.instant, zone, "f")))
    elif occurrence is None:
        notes += _gap_notes(series_start(new, meeting), meeting.tz, meeting.rrule, ctx.now)
    return replace(reply, body=(*reply.body, *notes))


async def rsvp(ctx: Context[MeetingCommandDeps]) -> Message:
    return await ctx.deps.meetings.rsvp(ctx.caller, ctx.number(NUMBER), ctx.choice(ANSWER, Answer),
                                            ctx.optional_choice(SCOPE, RsvpScope) is RsvpScope.ALL)


async def meeting_attendees(ctx: Context[MeetingCommandDeps]) -> Message:
    service = ctx.deps.meetings
    meeting, _topic = await service.coordinated(ctx.caller, ctx.number(NUMBER))
    occurrence = await service.next_occurrence(meeting)
    answers = await service.answers(meeting.id, occurrence)
    fields = []
    for answer in Answer:
        names = []
        for person_id, given in answers.items():
            if given is answer:
                names.append(await ctx.deps.people.display_name(person_id))
        fields.append(Field(answer_label(answer), listing(sorted(names)) if names else "—"))
    when: Text = _("Answers for {time}.", time=stamp(occurrence.start)) if occurrence else \
        _("There is no upcoming occurrence.")
    return Message(title=_("Attendees of meeting #{id}: {title}", id=meeting.id, title=meeting.title),
                   body=(when,), fields=tuple(fields))


async def meeting_ics(ctx: Context[MeetingCommandDeps]) -> Message:
    service = ctx.deps.meetings
    meeting, _topic = await service.visible(ctx.caller, ctx.number(NUMBER))
    occurrences = await service.occurrences(meeting)
    data = calendar_for([(meeting, occurrences)], service.coalition_slug, ctx.now, name=meeting.title)
    return Message(body=(_("The calendar file for meeting #{id}: open it to add the meeting to your calendar.",
                           id=meeting.id),),
                   attachment=Attachment(f"meeting-{meeting.id}.ics", ICS_TYPE, data))


async def meeting_calendar(ctx: Context[MeetingCommandDeps]) -> Message:
    service = ctx.deps.meetings
    topic = await ctx.deps.topics.find_visible(ctx.caller, ctx.value(TOPIC))
    meetings = await service.for_calendar(topic, ctx.now - CANCELLED_KEPT)
    series = [meeting for meeting, _occurrences in meetings]
    data = calendar_for(meetings, service.coalition_slug, ctx.now, name=topic.title)
    cancelled = sum(1 for m in series if m.state is MeetingState.CANCELLED)
    body: list[Text] = [_n("The calendar of “{topic}” with {n} meeting series.",
                           "The calendar of “{topic}” with {n} meeting series.", len(series) - cancelled,
                           topic=topic.slug)]
    if cancelled:
        # Importing the file again removes them from calendars that took them from an earlier copy.
        body.append(_n("It also holds a series cancelled in the last {days} days, marked cancelled.",
                       "It also holds {n} series cancelled in the last {days} days, marked cancelled.", cancelled,
                       days=CANCELLED_KEPT.days))
    return Message(body=tuple(body), attachment=Attachment(f"{topic.slug}.ics", ICS_TYPE, data))


def routes() -> list[Route[MeetingCommandDeps]]:
    return [
        route(("meeting", "create"), _("Schedule a meeting, once or repeating, with reminders."), meeting_create,
              role=Role.COORDINATOR, topic_arg="topic",
              args=(TOPIC, TITLE, WHEN), options=(DURATION, REPEAT, REMIND, LINK, ZONE)),
        Route(MEETINGS, meetings_list),
        Route(MEETING_SHOW, meeting_show),
        Route(MEETING_CANCEL, meeting_cancel),
        route(("meeting", "reschedule"), _("Move a meeting series, or one occurrence of it."),
              meeting_reschedule, role=Role.COORDINATOR, args=(NUMBER, WHEN),
              options=(OCCURRENCE, TYPED_ZONE)),
        Route(RSVP, rsvp),
        route(("meeting", "attendees"), _("Who answered yes, maybe or no for the next meeting."),
              meeting_attendees, role=Role.COORDINATOR, args=(NUMBER,)),
        Route(MEETING_ICS, meeting_ics),
        route(("meeting", "calendar"), _("A calendar file (.ics) with all of a topic's meetings."),
              meeting_calendar, args=(TOPIC,)),
    ]
