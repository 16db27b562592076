"""People: who is calling (roles, language, zone), finding a person by reference, personal settings."""

from __future__ import annotations

import asyncio
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.audit import AuditAction
from bot.clock import Clock
from bot.commands.context import Caller, IncomingCommand, ZoneSource
from bot.commands.values import zone_names
from bot.config import CoreConfig
from bot.errors import UserError
from bot.i18n import Translator, _
from bot.model import Identity, IdentityRecord, Person, Role
from bot.people.languages import LanguageChoice, LanguageSource, platform_language
from bot.people.roles import (
    ROLE_CHECK_SECONDS,
    ROLE_RETRY,
    RoleChecker,
    counted_platform_role,
    due_for_check,
    resolve_roles,
)
from bot.people.store import Profile
from bot.ports import Store

log = logging.getLogger(__name__)

_MENTION = re.compile(r"^<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>$")
SEEN_EVERY = timedelta(hours=1)
"""How stale ``last_seen_at`` may get before a command writes it again: a command that changes nothing else then
reads only, and needs no write transaction (nothing reads the time more precisely than that)."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person as a delivery sees them: the caller view (roles for access checks), every identity, and the
    language each identity is answered in — a DM goes through one identity, picked after this is read, and
    is rendered in that identity's language (its platform's locale may differ from another's)."""

    caller: Caller
    identities: tuple[IdentityRecord, ...]
    languages: tuple[tuple[Identity, LanguageChoice], ...]

    def language_through(self, identity: Identity) -> LanguageChoice:
        """The language a message to this person through ``identity`` is written in (an identity that is not
        theirs: the first one's)."""
        return dict(self.languages).get(identity, self.languages[0][1])


@dataclass(frozen=True, slots=True)
class _Recent:
    writes: int
    caller: Caller
    locale: str | None


# The caller this task worked out last, and the store's write count then. The dispatcher asks for the caller again
# after the handler (it may have changed their language); when nothing was written since, this is that caller.
# Per task, so it never outlives the command that read it.
_recent: ContextVar[_Recent | None] = ContextVar("recent_caller", default=None)


class PeopleService:
    """``roles`` asks an identity's own platform what role it gives now: a caller's role that would come from
    another of their identities is checked there first (:mod:`bot.people.roles`)."""

    def __init__(self, store: Store, config: CoreConfig, translator: Translator, clock: Clock,
                 roles: RoleChecker) -> None:
        self._store = store
        self._config = config
        self._translator = translator
        self._clock = clock
        self._roles = roles
        self._unanswered: dict[Identity, datetime] = {}
        """When each platform last could not say an identity's role (asked again after :data:`ROLE_RETRY`)."""

    async def caller_for(self, incoming: IncomingCommand) -> Caller:
        """Register a first contact, refresh what the platform says, and compute roles, language and zone.

        One query when nothing changed (the usual case); a write transaction only for a first contact or when
        the platform says something new (name, role, zone, locale), DMs were marked closed, or the last contact
        is older than :data:`SEEN_EVERY`. The locale is remembered for the identity, so what is sent to them
        later (announcements, reminders, digests) is in their client's language too.

        When what lifts them is another identity's platform role, that platform is asked first (at most every
        :data:`~bot.people.roles.ROLE_CHECK_EVERY`, before any write transaction) and its answer stored.
        """
        people = self._store.people
        now = self._clock.now()
        writes = people.writes()  # before the read: a write during it makes the reused caller suspect
        profile = await people.profile_of(incoming.identity)
        contact = profile is None or self._outdated(profile, incoming, now)
        answers = [] if profile is None else await self._check_roles(profile, incoming.identity,
                                                                     incoming.platform_role, now)
        if profile is None or contact or answers:
            async with self._store.transaction():
                if profile is None:
                    await people.ensure_identity(incoming.identity, incoming.display_name, now)
                if contact:
                    await people.touch_identity(incoming.identity, incoming.display_name, incoming.platform_role,
                                                incoming.platform_timezone, now, platform_locale=incoming.locale)
                for identity, role in answers:
                    await people.set_platform_role(identity, role, checked_at=now)
            writes = people.writes()
            profile = await people.profile_of(incoming.identity)
            if profile is None:
                raise LookupError(f"{incoming.identity} vanished while it was registered")
        caller = self._caller(profile, incoming.identity, incoming.locale)
        _recent.set(_Recent(writes, caller, incoming.locale))
        return caller

    async def _check_roles(self, profile: Profile, via: Identity | None, via_role: Role,
                           now: datetime) -> list[tuple[Identity, Role]]:
        """Ask their own platforms about the stored roles of the identities other than ``via`` (every one when
        nobody is calling) that would lift this person above what they have anyway (``via_role``, the settings file,
        grants); returns the answers (an identity whose platform cannot say is left out, and not asked again for
        :data:`~bot.people.roles.ROLE_RETRY`). Nothing for a person with one identity: its role needs no check."""
        if len(profile.identities) < 2:
            return []
        sources, _coordinated = resolve_roles((i.identity for i in profile.identities), self._config.admins,
                                              Role.OUTSIDER, profile.grants)
        floor = max(via_role, sources.from_settings, sources.from_grants)
        answers: list[tuple[Identity, Role]] = []
        for identity in due_for_check(profile.identities, via, floor, profile.role_checked_at, now):
            failed = self._unanswered.get(identity)
            if failed is not None and now - failed < ROLE_RETRY:
                continue
            role = await self._ask(identity)
            if role is None:
                self._unanswered = {i: at for i, at in self._unanswered.items() if now - at < ROLE_RETRY}
                self._unanswered[identity] = now
            else:
                self._unanswered.pop(identity, None)
                answers.append((identity, role))
        return answers

    async def _ask(self, identity: Identity) -> Role | None:
        """The role ``identity``'s platform gives it now; ``None`` when it cannot say within
        :data:`~bot.people.roles.ROLE_CHECK_SECONDS` (the command goes on without it)."""
        try:
            async with asyncio.timeout(ROLE_CHECK_SECONDS):
                return await self._roles.current_role(identity)
        except TimeoutError:
            log.warning("asking %s for the role of a linked account took over %g s", identity.platform,
                        ROLE_CHECK_SECONDS)
            return None

    @staticmethod
    def _outdated(profile: Profile, incoming: IncomingCommand, now: datetime) -> bool:
        """Whether contact must be recorded: what :meth:`PeopleStore.touch_identity` would change differs."""
        record = next((i for i in profile.identities if i.identity == incoming.identity), None)
        return (record is None or record.display_name != incoming.display_name
                or record.platform_role != incoming.platform_role or record.dm_closed_reason is not None
                or (bool(incoming.platform_timezone)
                    and incoming.platform_timezone != profile.person.platform_timezone)
                or (bool(incoming.locale) and incoming.locale != profile.locale_of(incoming.identity))
                or profile.last_seen_at is None or now - profile.last_seen_at >= SEEN_EVERY)

    async def caller_for_person(self, person_id: int, via: Identity | None = None,
                                locale: str | None = None) -> Caller:
        """The caller view of a person by id: the dispatcher's second look at whoever is calling through ``via``,
        or, without ``via``, a person nobody is calling as (a digest being built, a request approved, an
        invitation). Then, as for a command (:meth:`caller_for`), each platform whose stored role would lift them is
        asked first, its answer stored: for a person with several identities only a recently confirmed platform
        role counts (:func:`~bot.people.roles.counted_platform_role`), and this keeps one still given fresh.

        Raises ``LookupError`` for an unknown person or one with no identity."""
        recent = _recent.get()
        if (recent is not None and recent.caller.person.id == person_id and recent.locale == locale
                and via == recent.caller.identity.identity and recent.writes == self._store.people.writes()):
            return recent.caller
        if via is not None:
            return (await self.recipient(person_id, via=via, locale=locale)).caller
        profile = await self._store.people.profile(person_id)
        now = self._clock.now()
        answers = [] if profile is None else await self._check_roles(profile, None, Role.OUTSIDER, now)
        if answers:
            async with self._store.transaction():
                for identity, role in answers:
                    await self._store.people.set_platform_role(identity, role, checked_at=now)
            profile = await self._store.people.profile(person_id)
        if profile is None:
            raise LookupError(f"no person {person_id}")
        return self._caller(profile, None, None)

    async def recipient(self, person_id: int, via: Identity | None = None,
                        locale: str | None = None) -> Recipient:
        """The same view of a person without a platform event: deliveries re-check roles with it, and render
        in :meth:`Recipient.language_through` the identity they pick. Asks no platform: the delivery worker asks
        each one itself before a members-only delivery, and reads this again after.

        ``locale`` is the platform's language hint for ``via`` now (it wins over the one remembered for it),
        used until they choose a language. Raises ``LookupError`` for an unknown person or one with no identity.
        """
        profile = await self._store.people.profile(person_id)
        if profile is None:
            raise LookupError(f"no person {person_id}")
        caller = self._caller(profile, via, locale)
        languages = tuple((record.identity, self._language(profile, record.identity,
                                                           locale if record.identity == via else None))
                          for record in profile.identities)
        return Recipient(caller, profile.identities, languages)

    def _caller(self, profile: Profile, via: Identity | None, locale: str | None) -> Caller:
        person, identities = profile.person, profile.identities
        if not identities:
            raise LookupError(f"person {person.id} has no identity")
        identity = next((i for i in identities if i.identity == via), identities[0])
        # Calling through ``via``: another identity's platform role counts only while its platform vouches for it.
        platform_role = counted_platform_role(identities, via, profile.role_checked_at, self._clock.now())
        roles, coordinated = resolve_roles((i.identity for i in identities), self._config.admins, platform_role,
                                           profile.grants)
        timezone, source = self.zone_of(person)
        # Without ``via`` (a digest, a notice) the language of the identity a DM goes through first.
        speaks = via if via is not None else self._dm_identity(profile)
        language = self._language(profile, speaks, locale if via is not None else None).language
        return Caller(person=person, identity=identity, roles=roles, coordinated=coordinated, language=language,
                      timezone=timezone, timezone_source=source)

    def _language(self, profile: Profile, identity: Identity, locale: str | None) -> LanguageChoice:
        """Their own setting, else the locale ``identity``'s platform gives (``locale`` now, or the one
        remembered), mapped to a shipped language, else the coalition's language."""
        own = profile.person.language
        if own and self._translator.supports(own):
            return LanguageChoice(own, LanguageSource.OWN)
        hinted = platform_language(locale or profile.locale_of(identity), self._translator.languages)
        if hinted is not None:
            return LanguageChoice(hinted, LanguageSource.PLATFORM, identity.platform)
        return LanguageChoice(self._config.default_language, LanguageSource.DEFAULT)

    @staticmethod
    def _dm_identity(profile: Profile) -> Identity:
        """The identity a DM to this person is sent through when every platform runs: their preferred
        platform's, else the first (as :class:`bot.delivery.routes.Routes` picks)."""
        preferred = profile.person.preferred_platform
        open_dms = [i for i in profile.identities if not i.dm_closed_reason] or list(profile.identities)
        return next((i.identity for i in open_dms if i.identity.platform == preferred), open_dms[0].identity)

    def zone_of(self, person: Person) -> tuple[str, ZoneSource]:
        """Their own setting, else their platform's zone, else the coalition default."""
        if person.timezone:
            return person.timezone, ZoneSource.OWN
        if person.platform_timezone and person.platform_timezone.lower() in zone_names():
            return zone_names()[person.platform_timezone.lower()], ZoneSource.PLATFORM
        return self._config.default_timezone, ZoneSource.DEFAULT

    @property
    def default_language(self) -> str:
        return self._config.default_language

    @property
    def channel_languages(self) -> tuple[str, ...]:
        """The languages the read-only public channel is written in, in order (at least the default)."""
        return self._config.channel_languages

    async def find(self, reference: str, caller: Caller) -> Person:
        """A person from ``slack:U1``, a platform mention ``<@U1>``, or a display name / user id.

        Raises :class:`UserError` when nobody or more than one person matches.
        """
        reference = reference.strip().lstrip("@")
        identity: Identity | None = None
        mention = _MENTION.match(reference.strip())
        if mention:
            identity = Identity(caller.identity.identity.platform, mention.group(1))
        elif ":" in reference:
            try:
                identity = Identity.parse(reference)
            except ValueError:
                identity = None
        if identity is not None:
            record = await self._store.people.identity(identity)
            person = await self._store.people.get(record.person_id) if record else None
            if person is None:
                raise UserError(_("Nobody known as “{person}”. They need to talk to the bot once first.",
                                  person=reference))
            return person
        matches = await self._store.people.find_by_name(reference)
        if not matches:
            raise UserError(_("Nobody known as “{person}”. They need to talk to the bot once first.",
                              person=reference))
        if len(matches) > 1:
            raise UserError(_("More than one person is called “{person}”; use their platform id, "
                              "such as slack:U123 or discord:4567.", person=reference))
        return matches[0]

    async def describe(self, person: Person) -> str:
        identities = await self._store.people.identities_of(person.id)
        handles = ", ".join(str(i.identity) for i in identities)
        return f"{person.display_name} ({handles})" if handles else person.display_name

    async def display_name(self, person_id: int) -> str:
        """Their name, or their number when the person is gone."""
        person = await self._store.people.get(person_id)
        return person.display_name if person else str(person_id)

    async def zone_for(self, identity: Identity) -> str:
        """The zone times are shown in to ``identity`` (the default for someone unknown)."""
        record = await self._store.people.identity(identity)
        person = await self._store.people.get(record.person_id) if record else None
        return self.zone_of(person)[0] if person else self._config.default_timezone

    async def set_timezone(self, caller: Caller, zone: ZoneInfo) -> None:
        await self._store.people.set_timezone(caller.person.id, zone.key)

    async def set_language(self, caller: Caller, language: str) -> None:
        await self._store.people.set_language(caller.person.id, language)

    async def grant(self, caller: Caller, person_id: int, role: Role, topic_id: int | None, scope: str) -> bool:
        """Store a grant (audited); ``False`` when the person held it already. ``scope`` names the topic."""
        now = self._clock.now()
        async with self._store.transaction():
            added = await self._store.grants.add(person_id, role, topic_id, caller.person.id, now)
            if added:
                await self._store.audit.record(caller.person.id, AuditAction.ROLE_GRANT, f"person:{person_id}", None,
                                               f"{role.name.lower()} {scope}".strip(), now)
        return added

    async def revoke(self, caller: Caller, person_id: int, role: Role, topic_id: int | None, scope: str) -> bool:
        """Remove a stored grant (audited); ``False`` when there was none. Never touches a role that comes
        from the settings file or the platform."""
        now = self._clock.now()
        async with self._store.transaction():
            removed = await self._store.grants.remove(person_id, role, topic_id)
            if removed:
                await self._store.audit.record(caller.person.id, AuditAction.ROLE_REVOKE, f"person:{person_id}",
                                               f"{role.name.lower()} {scope}".strip(), None, now)
        return removed

    def now(self) -> datetime:
        return self._clock.now()

