"""``mydata`` and ``forget me``: a person sees everything the bot holds about them, and erases it.

Everyone may do both, outsiders included: it is their own data. An erasure is one transaction with its audit
entry, which says that an erasure happened and never whose; the one refusal is the last admin, who would leave
nobody able to run the bot.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.announcements.model import AnnouncementState
from bot.announcements.report import state_label
from bot.audit import AuditAction
from bot.clock import Clock
from bot.commands.context import Caller, ZoneSource
from bot.commands.invoke import invoke
from bot.delivery.model import DeliveryKind
from bot.delivery.status import platform_name
from bot.email.address import mask
from bot.errors import UserError
from bot.i18n import Msg, Text, _, _n, listing
from bot.meetings.model import Answer, MeetingState
from bot.meetings.service import answer_label
from bot.messages import Action, ActionStyle, Attachment, Field, Message, stamp
from bot.model import Identity, Role
from bot.people.languages import language_name, platform_language
from bot.ports import Store
from bot.privacy.declarations import CONFIRM, FORGET_ME
from bot.privacy.model import ERASED_SUBJECT, AuthoredData, PersonData, export_json
from bot.privacy.store import PrivacyStore
from bot.subscriptions.model import MODE_LABELS, DeliveryMode, RequestStatus
from bot.subscriptions.service import status_label

RECENT_DELIVERIES = 3
"""How many of the latest messages the chat summary lists (the file has them all)."""
EMAIL = "email"

def _status_count(status: str, n: int) -> Text:
    """A tally as delivery reports say it ("3 sent"), the in-flight states counted as queued."""
    if status in ("pending", "sending"):
        return _n("{n} queued", "{n} queued", n)
    if status == "sent":
        return _n("{n} sent", "{n} sent", n)
    if status == "failed":
        return _n("{n} failed", "{n} failed", n)
    if status == "skipped":
        return _n("{n} skipped", "{n} skipped", n)
    if status == "missed":
        return _n("{n} missed", "{n} missed", n)
    return _n("{n} cancelled", "{n} cancelled", n)


def shown_id(platform: str, external_id: str) -> str:
    """An identity as the chat summary shows it: an email address masked (a chat reply may be seen over a
    shoulder or forwarded), a platform's user id as it is (it is in every mention of them anyway)."""
    return f"{platform}:{mask(external_id) if platform == EMAIL else external_id}"


class PrivacyService:
    def __init__(self, privacy: PrivacyStore, store: Store, clock: Clock, admins: frozenset[Identity]) -> None:
        self._privacy = privacy
        self._store = store
        self._clock = clock
        self._admins = admins

    async def export(self, person_id: int) -> bytes | None:
        """The person's data as the JSON file (see :func:`~bot.privacy.model.export_json`); ``None`` for an unknown
        person."""
        now = self._clock.now()
        data = await self._privacy.person_data(person_id, now)
        return None if data is None else export_json(data, now)

    async def export_of(self, identity: Identity) -> bytes | None:
        """The JSON file of whoever ``identity`` belongs to (the email manage page's download); ``None`` when it
        belongs to nobody."""
        record = await self._store.people.identity(identity)
        return None if record is None else await self.export(record.person_id)

    async def mydata(self, caller: Caller) -> Message:
        now = self._clock.now()
        data = await self._privacy.person_data(caller.person.id, now)
        if data is None:  # erased by a concurrent "forget me" after this command began
            return Message(body=(_("The bot holds nothing about you."),))
        return Message(title=_("Your data"),
                       body=(_("This is what the bot holds about you; the attached file has all of it."),),
                       fields=_summary(data, caller),
                       attachment=Attachment(f"mydata-{now:%Y%m%d}.json", "application/json",
                                             export_json(data, now)))

    def ask(self) -> Message:
        return Message(
            title=_("Erase everything about you?"),
            body=(_("Your accounts, settings, subscriptions, requests, RSVPs and the messages waiting for you are "
                    "deleted. Announcements you wrote stay, signed “a former member”. This cannot be undone."),),
            actions=(Action(_("Erase my data"), invoke(FORGET_ME, confirmation=CONFIRM), ActionStyle.DANGER),))

    async def forget(self, caller: Caller) -> Message:
        """Erase the caller. Two confirms at once answer like two in a row: the second finds nobody left (or, in a
        row, the fresh person its own command made) and erases that."""
        now = self._clock.now()
        async with self._store.transaction():
            if caller.role >= Role.ADMIN:
                others = set(await self._store.grants.admins(tuple(self._admins))) - {caller.person.id}
                if not others:
                    raise UserError(_("You are the last admin: erasing you would leave nobody able to run the bot. "
                                      "Give someone else the admin role first."))
            erased = await self._privacy.erase(caller.person.id, now)
            if erased is not None:
                await self._store.audit.record(None, AuditAction.PERSON_ERASE, ERASED_SUBJECT, None, None, now)
        return Message(body=(_("Everything the bot held about you is erased. If you use the bot again, it starts "
                               "afresh."),))


def _language_applied(data: PersonData, caller: Caller) -> Text:
    """The language the caller is answered in and why, as ``whoami`` says it. The caller carries the language
    :class:`~bot.people.service.PeopleService` chose (own setting, else their platform's locale, else the
    coalition's); only the reason is read back here, from the same data in the same order."""
    if data.language and data.language == caller.language:
        source: Text = _("your setting")
    else:
        mine = caller.identity.identity
        locale = next((i.platform_locale for i in data.identities
                       if (i.platform, i.external_id) == (mine.platform, mine.external_id)), None)
        source = _("from your {platform} settings", platform=platform_name(mine.platform)) \
            if platform_language(locale, (caller.language,)) else _("the coalition default")
    return _("{language} ({source})", language=language_name(caller.language, caller.language), source=source)


def _zone_applied(caller: Caller) -> Text:
    """The time zone the caller's times are shown in and why, as ``whoami`` says it."""
    source = {ZoneSource.OWN: _("your setting"), ZoneSource.PLATFORM: _("from your platform profile"),
              ZoneSource.DEFAULT: _("the coalition default")}[caller.timezone_source]
    return _("{zone} ({source})", zone=caller.timezone, source=source)


_SIGNUP_STATES: dict[str, Text] = {
    "confirmed": _("confirmed"), "waiting": _("waiting for the link in the mail"), "expired": _("expired"),
}
_CODE_STATES: dict[str, Text] = {
    "issued": _("not typed yet"), "proposed": _("typed, waiting for your confirmation"), "used": _("used"),
    "expired": _("expired"),
}


def _summary(data: PersonData, caller: Caller) -> tuple[Field, ...]:
    none = _("none")

    def joined(items: Iterable[Msg]) -> Msg:
        listed = list(items)
        return listing(listed) if listed else none

    settings = _("language {language}, time zone {zone}, preferred platform {platform}",
                 language=_language_applied(data, caller), zone=_zone_applied(caller),
                 platform=platform_name(data.preferred_platform) if data.preferred_platform else none)
    counts = data.delivery_counts()
    recent = sorted(data.deliveries, key=lambda d: (d.created_at, d.id))[-RECENT_DELIVERIES:]
    return (
        Field(_("Name"), data.display_name),
        Field(_("Accounts"), joined(shown_id(i.platform, i.external_id) for i in data.identities)),
        Field(_("Settings"), settings),
        Field(_("Subscriptions"), joined(_("{topic} ({mode})", topic=s.topic, mode=_mode(s.mode))
                                         for s in data.subscriptions)),
        Field(_("Requests"), joined(_("{topic} ({status})", topic=r.topic, status=_request_status(r.status))
                                    for r in data.requests)),
        Field(_("RSVPs"), joined(_("{meeting}: {answer}", meeting=r.meeting, answer=_answer(r.answer))
                                 for r in data.rsvps)),
        Field(_("Written by you"), joined(_("{item} in {topic} ({state}, {date})", item=_written(a), topic=a.topic,
                                            state=_state(a), date=stamp(a.created_at, "d"))
                                          for a in data.authored)),
        Field(_("Messages to you"), listing([_status_count(status, n) for status, n in counts.items()], counts=True)
              if counts else none),
        Field(_("Latest messages"), joined(_("#{id} {kind} {status} ({date})", id=d.id, kind=_kind(d.kind),
                                             status=_delivery_status(d.status), date=stamp(d.created_at, "d"))
                                           for d in recent)),
        Field(_("Waiting for your digest"), joined(
            _("announcement #{id} in {topic} ({mode})", id=d.announcement_id, topic=d.topic, mode=_mode(d.mode))
            for d in data.digest_items)),
        Field(_("Email sign-ups"), joined(
            _("{address} for {topic} ({state}, {date})", address=mask(s.address), topic=s.topic,
              state=_SIGNUP_STATES.get(s.state, s.state), date=stamp(s.created_at, "d"))
            for s in data.signups)),
        Field(_("Email manage links"), joined(
            _("a link to manage {address}, made {date}", address=mask(k.address), date=stamp(k.created_at, "d"))
            for k in data.email_keys)),
        Field(_("Resources you added"), joined(_("{title} ({date})", title=r.title, date=stamp(r.created_at, "d"))
                                               for r in data.resources)),
        Field(_("Link codes"), joined(
            _("a code from your {platform} account, {date} ({state})", platform=platform_name(c.platform),
              date=stamp(c.issued_at, "f"), state=_CODE_STATES.get(c.state, c.state))
            for c in data.link_codes)),
        Field(_("Wrong link codes typed"), joined(
            _("on {platform}, {date}", platform=platform_name(a.platform), date=stamp(a.at, "f"))
            for a in data.link_attempts)),
        Field(_("Audit entries"), _n("{n} entry by or about you", "{n} entries by or about you", len(data.audit))),
    )


def _mode(stored: str) -> Msg:
    """A delivery mode as subscription replies name it; a mode this version does not know, as stored."""
    try:
        return MODE_LABELS[DeliveryMode(stored)]
    except ValueError:
        return stored


def _written(item: AuthoredData) -> Text:
    return _("announcement #{id}", id=item.id) if item.kind == "announcement" else _("meeting #{id}", id=item.id)


def _state(item: AuthoredData) -> Msg:
    """An announcement's state as its reports say it; a meeting's as words."""
    if item.kind == "announcement":
        try:
            return state_label(AnnouncementState(item.state))
        except ValueError:
            return item.state
    return _("cancelled") if item.state == MeetingState.CANCELLED else _("planned")


def _request_status(stored: str) -> Msg:
    try:
        return status_label(RequestStatus(stored))
    except ValueError:
        return stored


def _answer(stored: str) -> Msg:
    try:
        return answer_label(Answer(stored))
    except ValueError:
        return stored


KIND_LABELS: dict[str, Text] = {
    DeliveryKind.ANNOUNCEMENT: _("an announcement"),
    DeliveryKind.ANNOUNCEMENT_COPY: _("a copy of an announcement on another of your accounts"),
    DeliveryKind.REPORT: _("a delivery report"),
    DeliveryKind.EDIT: _("a correction"), DeliveryKind.DELETE: _("a withdrawal"), DeliveryKind.DIGEST: _("a digest"),
    DeliveryKind.REMINDER: _("a reminder"), DeliveryKind.NOTICE: _("a notice"),
    DeliveryKind.MEETING_NOTICE: _("a meeting notice"),
}
"""Every :class:`DeliveryKind` in words (a test checks): a new kind must add its own here, or ``mydata`` shows
the stored value."""
_STATUSES: dict[str, Text] = {
    "pending": _("queued"), "sending": _("queued"), "sent": _("sent"), "failed": _("failed"),
    "skipped": _("skipped"), "missed": _("missed"), "cancelled": _("cancelled"),
}


def _kind(stored: str) -> Msg:
    """What a message to you was, in words; a kind this version does not know, as stored."""
    return KIND_LABELS.get(stored, stored)


def _delivery_status(stored: str) -> Msg:
    return _STATUSES.get(stored, stored)
