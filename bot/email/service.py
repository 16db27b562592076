"""Followers by email: double opt-in on the web, then a person like any other.

An address is an identity (``email:<address>``) of a person whose platform role is outsider; what they may follow
is decided by the one rule (:mod:`bot.topics.access` through :mod:`bot.topics.visibility` and the subscription
service), never here. Before the confirmation link is followed the address has no subscription, so nothing but
the one mail per request can reach it, and the form's rate limits bound those. Addresses and tokens never go into
a log line.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.clock import Clock
from bot.commands.context import Caller, ZoneSource
from bot.commands.values import parse_language, parse_zone
from bot.delivery.notify import Notifier
from bot.email.address import mailbox, mask, normalise
from bot.email.links import EmailLinks
from bot.email.mails import already_mail, confirm_mail
from bot.email.model import (
    EMAIL_MODES,
    PLATFORM,
    Confirmation,
    EmailConfig,
    EmailKey,
    FollowedTopic,
    ManageView,
    Signup,
)
from bot.errors import UserError
from bot.i18n import _, available_languages
from bot.model import Identity, IdentityRecord, Person, Role, RoleSources
from bot.people.service import PeopleService
from bot.ports import Store
from bot.public.service import ANONYMOUS_ID
from bot.subscriptions.model import DeliveryMode
from bot.subscriptions.service import SubscriptionService
from bot.topics.model import Topic, Visibility
from bot.topics.service import TopicService
from bot.topics.visibility import known_topics

log = logging.getLogger(__name__)

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
"""A confirm token or a person key: 32 url-safe characters (``secrets.token_urlsafe(24)``)."""

STAMPS_KEPT = timedelta(days=1)
"""Rate-limit stamps older than the longest window count for nothing."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def email_mode(mode: DeliveryMode | str) -> DeliveryMode:
    """``mode`` if a mail can follow a topic that way (not "channel only"); :class:`UserError` otherwise."""
    try:
        chosen = DeliveryMode(mode)
    except ValueError:
        chosen = None
    if chosen not in EMAIL_MODES:
        raise UserError(_("Choose how to receive it: immediately, a daily digest or a weekly digest."))
    assert chosen is not None
    return chosen


@dataclass(frozen=True, slots=True)
class ChatSide:
    """What the manage page says of the person beyond the address, never by name: how many topics they follow
    that mail does not carry, and whether they have chat accounts (``linked``)."""

    chat_topics: int
    linked: bool


def _mailed(topic: Topic) -> bool:
    """Mail carries public topics only; the manage page (its key is in every mail) names and changes no other."""
    return topic.visibility is Visibility.PUBLIC


def no_topic(slug: str) -> UserError:
    """The one answer for a topic that is missing, hidden or archived: the form cannot tell them apart."""
    return UserError(_("There is no public topic “{topic}”.", topic=slug[:40]))


class EmailFollowers:
    """What the web's email pages call. ``people`` builds the caller a follower acts as (their roles, as for any
    person); ``languages``: the languages a follower may choose (default: every shipped one)."""

    def __init__(self, store: Store, clock: Clock, subscriptions: SubscriptionService, topics: TopicService,
                 notifier: Notifier, links: EmailLinks, config: EmailConfig | None = None, *,
                 people: PeopleService, languages: Collection[str] | None = None) -> None:
        self._store = store
        self._clock = clock
        self._subscriptions = subscriptions
        self._topics = topics
        self._notifier = notifier
        self._links = links
        self._config = config or EmailConfig()
        self._people = people
        self._languages = tuple(languages) if languages is not None else available_languages()

    @property
    def config(self) -> EmailConfig:
        return self._config

    # --- the subscribe form ---------------------------------------------------------------------------

    async def request(self, address: str, topic_slug: str, mode: DeliveryMode | str, language: str, zone: str,
                      client: str) -> None:
        """Ask for ``topic_slug`` by mail: queue one confirmation mail (or, when the address already follows the
        topic, one saying so with the manage link).

        Raises :class:`UserError` (translated; nothing stored or sent) for a bad address, a topic an anonymous
        outsider may not see (worded as for a missing one), a mode other than immediate/daily/weekly (a form's
        text is fine: it is checked here), a language
        not shipped or an unknown zone. Over a rate limit (per address, per ``client``: an opaque key such as the
        remote address, stored only as a salted hash) it stores and sends nothing and returns as on success, so
        the answer never tells what an address is doing.
        """
        address = normalise(address)
        topic = await self._public_topic(topic_slug)
        chosen = email_mode(mode)
        language = parse_language(language, among=self._languages)
        zone = parse_zone(zone).key
        now = self._clock.now()
        salt = await self._store.email.client_salt()
        subjects = (_subject(salt, "address", mailbox(address)), _subject(salt, "client", client),
                    _subject(salt, "site", "all"))
        store = self._store
        # One write transaction from the count to the stamp: two requests at once count each other.
        async with store.transaction():
            if await self._over_limit(*subjects, now):
                log.info("an email signup was over a rate limit: nothing stored or sent")
                return
            # Named by the masked address: delivery reports show coordinators who a copy failed for, and a
            # follower's full address is for the mail server, not for every coordinator.
            record = await store.people.ensure_identity(Identity(PLATFORM, address), mask(address), now)
            key = await store.email.ensure_key(address, new_token(), now)
            person_id = record.person_id
            following = await store.subscriptions.get(person_id, topic.id)
            if await store.email.follower_key(address) is None and await self._only_email(person_id):
                # Nobody confirmed anything for this address yet: its mail may as well be in the language asked
                # for. A follower's own choices (or a chat person's) change only through their link or in chat —
                # never because a stranger typed their address into a form.
                await store.people.set_language(person_id, language)
                await store.people.set_timezone(person_id, zone)
            signup = await store.email.add_signup(person_id, address, topic.id, chosen, language, zone, new_token(),
                                                  now, now + self._config.confirm_expiry,
                                                  used=following is not None)
            await store.email.stamp(subjects, now)
            if following is not None:
                message = already_mail(topic, following.mode, self._links.manage_url(key))
            else:
                hours = max(1, round(self._config.confirm_expiry.total_seconds() / 3600))
                message = confirm_mail(topic, self._links.confirm_url(signup.token), hours)
            await self._notifier.to_people([person_id], message, key=f"email-confirm:{signup.id}",
                                           expires_at=signup.expires_at)

    async def _over_limit(self, address_subject: str, client_subject: str, site_subject: str,
                          now: datetime) -> bool:
        email, config = self._store.email, self._config
        return (await email.count_stamps(site_subject, now - timedelta(hours=1)) >= config.site_hourly
                or await email.count_stamps(client_subject, now - timedelta(hours=1)) >= config.client_hourly
                or await email.count_stamps(address_subject, now - config.address_interval) >= 1
                or await email.count_stamps(address_subject, now - timedelta(days=1)) >= config.address_daily)

    async def _only_email(self, person_id: int) -> bool:
        profile = await self._store.people.profile(person_id)
        return profile is not None and all(i.identity.platform == PLATFORM for i in profile.identities)

    async def _public_topic(self, slug: str) -> Topic:
        """The topic ``slug`` names if an anonymous outsider may see it and it is not archived."""
        wanted = slug.strip().lstrip("#").lower()
        if wanted and len(wanted) <= 40:
            for known in await known_topics(self._store.topics, self._outsider(), slug=wanted):
                if known.visible and not known.topic.archived:
                    return known.topic
        raise no_topic(wanted)

    @staticmethod
    def _outsider() -> Caller:
        """Someone on the web with no grants, subscriptions or invitations (as the public pages see a reader)."""
        person = Person(ANONYMOUS_ID, "", None, None, None, None, None, None, _EPOCH)
        identity = IdentityRecord(Identity("web", "anonymous"), ANONYMOUS_ID, "", Role.OUTSIDER, None, None)
        return Caller(person, identity, RoleSources(Role.OUTSIDER, Role.OUTSIDER, Role.OUTSIDER), frozenset(),
                      "en", "UTC", ZoneSource.DEFAULT)

    # --- the confirmation link ------------------------------------------------------------------------

    async def confirmation(self, token: str) -> Confirmation | None:
        """What the confirm page shows before the button is pressed (mail scanners follow links); ``None`` for
        an unknown, used or expired token. Reads only."""
        signup = await self._live_signup(token)
        if signup is None:
            return None
        topic = await self._store.topics.get(signup.topic_id)
        if topic is None:
            return None
        return Confirmation(topic.slug, topic.title, mask(signup.address), signup.mode)

    async def confirm(self, token: str) -> Confirmation | None:
        """Start the subscription the token's mail asked for, as that person (the visibility rule and the topic's
        policy apply: an approval topic gets a request, told by ``awaiting_approval``), and set their language
        and zone to those chosen on the form. Single use: a second call, even at the same time, gets ``None``, as
        does an unknown or expired token, or a topic no longer open to them (the token is then spent)."""
        signup = await self._live_signup(token)
        if signup is None:
            return None
        store, now = self._store, self._clock.now()
        async with store.transaction():
            if not await store.email.use_signup(signup.id, now):
                return None  # another confirm got there first, or it expired meanwhile
            topic = await store.topics.get(signup.topic_id)
            caller = await self._caller(signup.person_id, signup.address)
            if topic is None or caller is None or not await self._open_to(caller, topic):
                return None  # archived or hidden since the request: the token is spent, nothing else changes
            await store.people.set_language(signup.person_id, signup.language)
            await store.people.set_timezone(signup.person_id, signup.zone)
            await store.email.mark_confirmed(signup.address, now)
            await self._subscriptions.subscribe(caller, topic, signup.mode)
            following = await store.subscriptions.get(signup.person_id, topic.id)
            key = await store.email.follower_key(signup.address)
        return Confirmation(topic.slug, topic.title, mask(signup.address), signup.mode,
                            awaiting_approval=following is None, key=key)

    async def _live_signup(self, token: str) -> Signup | None:
        if not TOKEN.fullmatch(token):
            return None
        signup = await self._store.email.signup(token)
        if signup is None or signup.confirmed_at is not None or signup.expires_at <= self._clock.now():
            return None
        return signup

    async def _open_to(self, caller: Caller, topic: Topic) -> bool:
        for known in await known_topics(self._store.topics, caller, slug=topic.slug):
            return known.visible and not known.topic.archived
        return False

    async def _caller(self, person_id: int, address: str) -> Caller | None:
        try:
            return await self._people.caller_for_person(person_id, via=Identity(PLATFORM, address))
        except LookupError:
            return None

    # --- the manage and unsubscribe links -------------------------------------------------------------

    async def manage(self, key: str) -> ManageView | None:
        """What the manage page shows for ``key``; ``None`` for an unknown (or rotated) key. The page acts with the
        rights of the address alone, as an outsider: public topics only, whatever roles a linked chat person holds
        (:meth:`chat_side` counts the rest, unnamed)."""
        found = await self._by_key(key)
        if found is None:
            return None
        owner, caller = found
        subscribed = await self._subscriptions.followed(caller)
        followed = [FollowedTopic(topic.slug, topic.title, mode) for topic, mode in subscribed if _mailed(topic)]
        ids = {topic.id for topic, _mode in subscribed}
        available = [FollowedTopic(topic.slug, topic.title, None) for topic in await self._topics.visible(
            self._outsider()) if topic.id not in ids and not topic.archived and _mailed(topic)]
        return ManageView(address=owner.address, language=caller.language, zone=caller.timezone,
                          followed=tuple(followed), available=tuple(available),
                          paused=await self._store.email_health.is_paused(owner.address))

    async def chat_side(self, key: str) -> ChatSide | None:
        """What the manage page may say of the person beyond the address; ``None`` for an unknown key."""
        if (found := await self._by_key(key)) is None:
            return None
        hidden = [topic for topic, _mode in await self._subscriptions.followed(found[1]) if not _mailed(topic)]
        identities = await self._store.people.identities_of(found[0].person_id)
        return ChatSide(len(hidden), any(i.identity.platform != PLATFORM for i in identities))

    async def update(self, key: str, *, language: str | None, zone: str | None,
                     modes: Mapping[str, DeliveryMode | str | None], resume: bool) -> bool:
        """Change what the manage page changes: ``modes[slug]`` a mode follows the topic (or changes how, as the
        subscription service does: an approval topic gets a request), ``None`` leaves it; ``resume`` sends to a
        paused address again. Returns ``False`` for an unknown key. Raises :class:`UserError` (nothing changed) for
        a language not shipped, an unknown zone, a mode a mail cannot take, or a topic an outsider may not follow:
        a leaked key reaches no chat-only topic (leaving one is a no-op, as for an unknown one)."""
        found = await self._by_key(key)
        if found is None:
            return False
        owner, caller = found
        chosen_language = parse_language(language, among=self._languages) if language else None
        chosen_zone = parse_zone(zone).key if zone else None
        current = {topic.slug: mode for topic, mode in await self._subscriptions.followed(caller)}
        plan: list[tuple[Topic, DeliveryMode | None]] = []
        for slug, wanted in modes.items():
            if wanted is None:
                topic = await self._subscriptions.own_topic(caller, slug)
                if topic is not None and _mailed(topic):
                    plan.append((topic, None))
                continue
            mode = email_mode(wanted)
            if current.get(slug.strip().lower()) is mode:
                continue
            plan.append((await self._topics.find_visible(self._outsider(), slug), mode))
        store = self._store
        async with store.transaction():
            if chosen_language is not None:
                await store.people.set_language(owner.person_id, chosen_language)
            if chosen_zone is not None:
                await store.people.set_timezone(owner.person_id, chosen_zone)
            for topic, change in plan:
                if change is None:
                    await self._subscriptions.unsubscribe(caller, topic)
                    await self._subscriptions.withdraw(caller, topic)
                else:
                    await self._subscriptions.subscribe(caller, topic, change)
            if resume:
                await store.email_health.resume(owner.address)
        return True

    async def unsubscribe_all(self, key: str) -> bool:
        """Leave every public topic and withdraw every waiting request for one (RFC 8058 one-click): all that mail
        carries, and all the key may change; ``False`` for an unknown key. Repeating it is harmless."""
        if (found := await self._by_key(key)) is None:
            return False
        caller, subscriptions = found[1], self._subscriptions
        async with self._store.transaction():
            for topic, _mode in await subscriptions.followed(caller):
                if _mailed(topic):
                    await subscriptions.unsubscribe(caller, topic)
            for _request, topic in await subscriptions.own_requests(caller):
                if _mailed(topic):
                    await subscriptions.withdraw(caller, topic)
        return True

    async def remove(self, key: str) -> bool:
        """Forget the address: its pending signups, its health, the identity and its key (the links stop
        working), and — when the address was the person's only identity — their subscriptions and the person (with
        chat accounts, the person keeps all of that). ``False`` for an unknown key."""
        found = await self._by_key(key)
        if found is None:
            return False
        owner, caller = found
        store = self._store
        async with store.transaction():
            only_identity = [i.identity for i in await store.people.identities_of(owner.person_id)] == \
                [Identity(PLATFORM, owner.address)]
            if only_identity:
                await self._subscriptions.unsubscribe_all(caller)
            await store.email.remove_address(owner.address)
            await store.email_health.delivered(owner.address)  # forgets its refusals and pause
            if only_identity:
                await store.email.remove_person_if_unused(owner.person_id)
        return True

    async def key_for(self, address: str) -> str | None:
        """The key of a follower's manage and unsubscribe links, for the footer and ``List-Unsubscribe`` of mails
        to them (the adapter's ``KeyLookup``); ``None`` while the address has never confirmed anything (a
        confirmation mail carries no unsubscribe: there is nothing to leave)."""
        return await self._store.email.follower_key(address)

    async def language_of(self, address: str) -> str | None:
        """The language the follower at ``address`` chose (the adapter's ``LanguageLookup``); ``None`` for an
        unknown address or no choice."""
        record = await self._store.people.identity(Identity(PLATFORM, address))
        person = await self._store.people.get(record.person_id) if record else None
        return person.language if person else None

    async def caller(self, key: str) -> Caller | None:
        """Whom the manage page's owner acts as in the core's other features (``link <code>`` from the page): the
        person behind ``email:<address>``, with their roles; ``None`` for an unknown key."""
        found = await self._by_key(key)
        return None if found is None else found[1]

    async def _by_key(self, key: str) -> tuple[EmailKey, Caller] | None:
        if not TOKEN.fullmatch(key):
            return None
        owner = await self._store.email.by_key(key)
        if owner is None:
            return None
        caller = await self._caller(owner.person_id, owner.address)
        return (owner, caller) if caller is not None else None

    # --- upkeep ---------------------------------------------------------------------------------------

    async def prune(self, now: datetime) -> int:
        """Delete expired signups and old rate-limit stamps, and forget addresses that never confirmed anything
        (their identity, key and person, when nothing else holds them). Returns how many signups went. For the
        scheduler; safe to run at any time."""
        signups, people = await self._store.email.prune(now, now - STAMPS_KEPT)
        if signups or people:
            log.info("pruned %d expired email signups and %d unconfirmed email followers", signups, people)
        return signups


def _subject(salt: str, kind: str, value: str) -> str:
    """What a rate-limit stamp is kept under: neither an address nor a client key is stored as such."""
    return hashlib.sha256(f"{salt}:{kind}:{value}".encode()).hexdigest()
