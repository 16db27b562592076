"""Everything about one row that comes before the platform call: build the message from its source (so an edit
before sending applies), re-check that the reader may still see the topic, pick the person's identity (so the
platform is known before the row takes that platform's turn), render in the reader's language.

What comes out is a :class:`Route`: the platform and a ready call. Why split there: a DM's platform is only
known once the recipient's identity is picked, and the worker must know it to pace, pause or probe that
platform alone.

A row this version cannot read — an unknown kind, or a payload its kind's type refuses — raises
:class:`Unreadable`: the worker records it failed, with the kind in the reason, and goes on with the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.bidi import stripped
from bot.channels.model import ChannelBinding, ChannelPurpose
from bot.clock import Clock
from bot.delivery.accounts import NoAccount, Rerouted, pick_accounts
from bot.delivery.copies import Copies, CopyOnItsWay
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.model import Delivery, DeliveryKind, DeliveryStatus, PayloadError, SentMessage, UnknownKind
from bot.delivery.payloads import ChangePayload, NoticePayload
from bot.i18n import Msg, Translator, _, encode_text
from bot.messages import Message, RenderedAction, RenderedMessage
from bot.model import IdentityRecord
from bot.people.languages import own_name
from bot.people.service import PeopleService
from bot.ports import PlatformAdapter, PlatformRoles, Store
from bot.topics.access import may_receive
from bot.topics.model import Topic, Visibility

log = logging.getLogger(__name__)

Builder = Callable[[Delivery], Awaitable[Message | None]]
"""Builds a row's message when it is sent (so edits before sending apply); ``None`` means cancelled. Raises
:class:`~bot.delivery.model.PayloadError` when the row's payload is not its kind's."""
CHANGES = (DeliveryKind.EDIT, DeliveryKind.DELETE)


class Cancelled(Exception):
    def __init__(self, reason: Msg) -> None:
        super().__init__(reason)
        self.reason = reason


class Skip(Exception):
    def __init__(self, reason: Msg) -> None:
        super().__init__(reason)
        self.reason = reason


class Unreadable(Exception):
    """This version cannot read the row (its kind or its payload): reading it again gives the same answer, so
    it fails at once instead of being retried until its deadline."""

    def __init__(self, reason: Msg) -> None:
        super().__init__(reason)
        self.reason = reason


class HandBack(Exception):
    """Not now, and not a failure: the row goes back to the queue through ``platform`` until ``until`` at the
    earliest, nothing counted (a counted announcement row waiting for the copy it will adopt)."""

    def __init__(self, platform: str, until: datetime) -> None:
        super().__init__(platform, until)
        self.platform = platform
        self.until = until


class Waiting(TransientDeliveryError):
    """An edit or delete whose original is still on its way: try again shortly."""

    def __init__(self) -> None:
        super().__init__("waiting for the original to be delivered")


@dataclass(frozen=True, slots=True)
class Route:
    """A row ready to go: through ``platform``'s ``adapter`` with ``send``. ``posts``: a new post (an earlier
    attempt of it may have landed), not an edit or delete of a delivered copy."""

    platform: str
    adapter: PlatformAdapter
    send: Callable[[], Awaitable[SentMessage]]
    posts: bool


class Routes:
    """Turns claimed rows into :class:`Route` s; raises :class:`Skip`, :class:`Cancelled`, :class:`Waiting` or
    :class:`Unreadable`. A kind with no builder is a message queued as it is (a :class:`NoticePayload`)."""

    def __init__(self, store: Store, clock: Clock, translator: Translator, people: PeopleService,
                 adapters: Mapping[str, PlatformAdapter], builders: Mapping[DeliveryKind, Builder]) -> None:
        self._store = store
        self._translator = translator
        self._people = people
        self._adapters = adapters
        self._builders = builders
        self._topics: dict[int, Topic] = {}
        self._public: list[ChannelBinding] | None = None
        self._copies = Copies(store, clock)

    def forget_topics(self) -> None:
        """Topics (and the public channels) are read once per round, so access is re-checked at most a round
        late."""
        self._topics = {}
        self._public = None

    def builder(self, kind: DeliveryKind | UnknownKind) -> Builder | None:
        """The builder of rows of ``kind``; ``None`` for a message queued as it is, or a kind not known here. An
        ``announcement-copy`` is built as the counted announcement row is, unless a builder of its own is given."""
        if isinstance(kind, UnknownKind):
            return None
        return self._builders.get(kind) or (self._builders.get(DeliveryKind.ANNOUNCEMENT)
                                            if kind is DeliveryKind.ANNOUNCEMENT_COPY else None)

    async def route(self, delivery: Delivery) -> Route:
        kind = delivery.kind
        if isinstance(kind, UnknownKind):
            raise Unreadable(_("unknown kind “{kind}”: written by another version of the bot", kind=kind.value))
        try:
            if kind in CHANGES:
                return await self._change_delivered(delivery, kind)
            builder = self.builder(kind)
            message = await builder(delivery) if builder else NoticePayload.from_json(delivery.payload).message
        except PayloadError as error:
            log.warning("delivery %d of kind %s is unreadable: %s", delivery.id, kind, error)
            raise Unreadable(_("its content could not be read as “{kind}”", kind=str(kind))) from None
        if message is None:
            raise Cancelled(_("cancelled before it was sent"))
        if delivery.person_id is not None:
            return await self._direct(delivery, message, delivery.person_id)
        return await self._channel(delivery, message)

    async def render_for(self, delivery: Delivery, message: Message) -> RenderedMessage:
        """``message`` as ``delivery``'s copy reads: a DM in the language of the identity it went through, a
        channel post as :meth:`_channel` writes it."""
        if delivery.person_id is None:
            return await self._for_channel(delivery.platform or "", delivery.channel_id or "", message)
        try:
            recipient = await self._people.recipient(delivery.person_id)
        except LookupError:
            return message.render(self._translator, self._people.default_language)
        sent = delivery.sent
        through = next((i.identity for i in recipient.identities if sent and i.identity.platform == sent.platform),
                       recipient.caller.identity.identity)
        return message.render(self._translator, recipient.language_through(through).language)

    async def _change_delivered(self, delivery: Delivery, kind: DeliveryKind) -> Route:
        """An edit or delete of a copy delivered earlier, rebuilt from its current source."""
        original = await self._store.outbox.get(ChangePayload.from_json(delivery.payload).of)
        if original is not None and original.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            raise Waiting()
        if original is None or original.sent is None:
            raise Skip(_("the original was never delivered"))
        sent = original.sent
        if await self._copies.changed_through_copy(original):
            raise Skip(_("changed through its copy"))
        adapter = self._adapters.get(sent.platform)
        if adapter is None:
            raise Skip(_("platform {platform} is not running", platform=sent.platform))
        if kind is DeliveryKind.DELETE:
            async def delete() -> SentMessage:
                await adapter.delete(sent)
                return sent
            return Route(sent.platform, adapter, delete, posts=False)
        builder = self.builder(original.kind)
        message = await builder(original) if builder else None
        if message is None:
            raise Skip(_("nothing to update"))
        rendered = await self.render_for(original, message)

        async def edit() -> SentMessage:
            await adapter.edit(sent, rendered)
            return sent
        return Route(sent.platform, adapter, edit, posts=False)

    async def _topic(self, topic_id: int) -> Topic | None:
        topic = self._topics.get(topic_id) or await self._store.topics.get(topic_id)
        if topic is not None:
            self._topics[topic.id] = topic
        return topic

    async def _direct(self, delivery: Delivery, message: Message, person_id: int) -> Route:
        try:
            recipient = await self._people.recipient(person_id)
        except LookupError:
            raise Skip(_("the recipient no longer exists")) from None
        public = True
        if delivery.topic_id is not None:
            topic = await self._topic(delivery.topic_id)
            if topic is not None and topic.visibility is not Visibility.PUBLIC \
                    and await self._refresh_platform_roles(recipient.identities):
                recipient = await self._people.recipient(person_id)
            caller = recipient.caller
            subscribed = await self._store.subscriptions.get(person_id, delivery.topic_id) is not None
            if topic is None or not may_receive(topic, caller.role, caller.coordinated, subscribed=subscribed):
                raise Skip(_("the recipient may no longer see this topic"))
            public = topic.visibility is Visibility.PUBLIC
        # An attempt that may have landed is retried where it went, so the read-back looks in the right place.
        preferred = (delivery.uncertain and delivery.attempt_platform) or recipient.caller.person.preferred_platform
        try:
            accounts = pick_accounts(delivery, recipient.identities, self._adapters, preferred, public=public)
        except NoAccount as none:
            raise Skip(none.reason) from None
        identity = accounts.chosen
        platform = identity.identity.platform
        adapter = self._adapters[platform]
        try:
            adopted = await self._copies.before_posting(delivery, person_id, platform)
        except NoAccount as taken:
            raise Skip(taken.reason) from None
        except CopyOnItsWay as waiting:
            raise HandBack(platform, waiting.until) from None
        if adopted is not None:
            async def same() -> SentMessage:
                return adopted
            return Route(platform, adapter, same, posts=False)
        # In the language of the identity it goes through: its platform's locale may be another's.
        rendered = message.render(self._translator, recipient.language_through(identity.identity).language)

        async def send() -> SentMessage:
            try:
                sent = await adapter.send_direct(identity, rendered, delivery_key=delivery.dedupe_key)
            except PermanentDeliveryError as error:
                if not error.account_level:
                    raise  # the message was refused, not the account: another account would refuse it too
                if error.dm_closed or accounts.fallbacks:
                    # Not tried again until it talks to the bot; with a fallback left, the next round goes there.
                    await self._store.people.set_dm_closed(identity.identity, encode_text(error.reason))
                if accounts.fallbacks:
                    raise Rerouted(error.reason) from error
                if accounts.refused and delivery.platform is None:
                    raise PermanentDeliveryError(accounts.all_refused(error.reason), dm_closed=error.dm_closed,
                                                 account_level=True) from error
                raise
            if sent.channel_id != identity.dm_channel_id:
                # Remember the DM channel, so the next fan-out costs one request per recipient, not two.
                await self._store.people.set_dm_channel(identity.identity, sent.channel_id)
            return sent
        return Route(platform, adapter, send, posts=True)

    async def _refresh_platform_roles(self, identities: Sequence[IdentityRecord]) -> bool:
        """Ask each platform what it says about this person now, and store every answer as confirmed now, changed
        or not: for a person with several identities only a recently confirmed platform role counts
        (:func:`bot.people.roles.counted_platform_role`), so a member who never writes keeps theirs while their
        platform still gives it. True when the person must be read again (a role changed, or a confirmation may
        count now)."""
        now = self._people.now()
        reread = False
        for identity in identities:
            adapter = self._adapters.get(identity.identity.platform)
            if not isinstance(adapter, PlatformRoles):
                continue
            role = await adapter.current_role(identity.identity.external_id)
            if role is None:
                continue
            await self._store.people.set_platform_role(identity.identity, role, checked_at=now)
            reread = reread or role is not identity.platform_role or len(identities) > 1
        return reread

    async def _channel(self, delivery: Delivery, message: Message) -> Route:
        adapter = self._adapters.get(delivery.platform or "")
        if adapter is None or delivery.channel_id is None:
            raise Skip(_("platform {platform} is not running", platform=delivery.platform or "?"))
        if delivery.topic_id is not None:
            topic = await self._topic(delivery.topic_id)
            if topic is None or topic.archived:
                raise Skip(_("the topic was archived"))
        rendered = await self._for_channel(adapter.platform, delivery.channel_id, message)
        channel_id = delivery.channel_id

        async def send() -> SentMessage:
            return await adapter.send_channel(channel_id, rendered, delivery_key=delivery.dedupe_key)
        return Route(adapter.platform, adapter, send, posts=True)

    async def _for_channel(self, platform: str, channel_id: str, message: Message) -> RenderedMessage:
        """A channel has many readers: it gets the coalition's language — each of them, in order, in the
        read-only public channel when the coalition declares several (the public reads there, and cannot ask)."""
        languages = self._people.channel_languages
        if len(languages) > 1 and ChannelBinding(platform, channel_id) in await self._public_channels():
            return render_in_each(message, self._translator, languages)
        return message.render(self._translator, self._people.default_language)

    async def _public_channels(self) -> list[ChannelBinding]:
        if self._public is None:
            self._public = await self._store.channels.bound(ChannelPurpose.PUBLIC, None)
        return self._public


def render_in_each(message: Message, translator: Translator, languages: Sequence[str]) -> RenderedMessage:
    """One message holding ``message`` in each of ``languages``, in order: the body has a section per language,
    headed by the language's own name, with that language's text, fields and footer, so a reader finds theirs
    at a glance. A title or button label that reads the same in every language (a topic's name, a person's
    words) is shown once. Long posts are split by the adapters as any other."""
    renderings = [message.render(translator, language) for language in languages]
    body: list[str] = []
    for language, rendered in zip(languages, renderings, strict=True):
        body.append(f"── {own_name(language)} ──")
        body.extend(rendered.body)
        body.extend(f"{field.name}: {field.value}" for field in rendered.fields)
        if rendered.footer:
            body.append(rendered.footer)
    first = renderings[0]
    actions = tuple(RenderedAction(_distinct(r.actions[i].label for r in renderings), action.command, action.style)
                    for i, action in enumerate(first.actions))
    title = _distinct(r.title for r in renderings if r.title) if first.title else None
    return RenderedMessage(body=tuple(body), title=title, actions=actions, is_error=first.is_error,
                           attachment=first.attachment, language=first.language)


def _distinct(texts: Iterable[str | None]) -> str:
    """Texts that differ between languages joined with " / "; one that reads the same in all, once (the
    isolates an RTL rendering wraps around a name do not make it differ)."""
    seen: dict[str, str] = {}
    for text in texts:
        if text:
            seen.setdefault(stripped(text), text)
    return " / ".join(seen.values())
