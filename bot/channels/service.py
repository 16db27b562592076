"""Channels bound to the coalition: the public read-only channel and each topic's channel, per platform.

Binding asks the platform the admin typed on (through its adapter) whether everyone can read the channel,
so a members-only topic is never bound to a channel the public reads, and lets the adapter make the public
channel read-only for everyone but the bot. The check fails closed: a platform that cannot answer ("could
not tell") refuses the change exactly as a public channel would, because an unknown channel may be public.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.audit import AuditAction
from bot.channels.model import ChannelBinding, ChannelPurpose
from bot.clock import Clock
from bot.commands.context import Caller
from bot.errors import UserError
from bot.i18n import Msg, _
from bot.ports import ChannelInspector, ChannelPreparer, PlatformAdapter, Store
from bot.topics.model import Topic, Visibility

Platforms = Callable[[str], PlatformAdapter | None]
"""The running adapter of a platform, ``None`` when that platform is not configured at all; raises
:class:`PlatformNotReady` while it is configured but still connecting."""


class PlatformNotReady(UserError):
    """A channel check cannot be answered yet: refusing is safe, skipping the check would not be."""

    def __init__(self, platform: str) -> None:
        super().__init__(_("{platform} is still connecting, so the channel cannot be checked yet. Nothing was "
                           "changed; try again in a minute.", platform=platform))


class ChannelUnknown(UserError):
    """The platform could not say whether everyone reads a channel: treated as public, so nothing changes."""

    def __init__(self, platform: str, channel: str) -> None:
        super().__init__(_("{platform} could not say whether #{channel} can be read by everyone, so nothing was "
                           "changed: members-only announcements must never reach a public channel. Check that "
                           "the bot can see the channel, then try again.", platform=platform, channel=channel))


class PlatformGone(UserError):
    """A binding on a platform that is not running cannot be checked: it may be public when it returns."""

    def __init__(self, platform: str, channel: str) -> None:
        super().__init__(_("#{channel} on {platform} cannot be checked because {platform} is not connected, so "
                           "nothing was changed. Connect {platform} again, then try again.", platform=platform,
                           channel=channel))


async def may_forward(store: Store, platform: str, channel_id: str) -> bool:
    """Whether what is posted in ``channel_id`` may also be forwarded beyond the coalition's server (Discord
    publishes an announcement channel's posts to every server that follows it).

    Only the channel bound as ``platform``'s public channel, which only public announcements go to — and
    only while no topic that is not public is bound to it as well (a binding made before that was refused):
    a platform adapter cannot tell which topic a channel post belongs to, so the channel must carry nothing
    else.
    """
    public = await store.channels.bound(ChannelPurpose.PUBLIC, None)
    if ChannelBinding(platform, channel_id) not in public:
        return False
    for topic in await store.topics.all(include_archived=True):
        if topic.visibility is not Visibility.PUBLIC and \
                ChannelBinding(platform, channel_id) in await store.channels.bound(ChannelPurpose.TOPIC,
                                                                                           topic.id):
            return False
    return True


class ChannelService:
    def __init__(self, store: Store, clock: Clock, platforms: Platforms) -> None:
        self._store = store
        self._clock = clock
        self._platforms = platforms

    async def public_topic_channel(self, topic_id: int) -> str | None:
        """A channel bound to the topic that everyone can read, if there is one.

        Raises :class:`UserError` when a bound channel cannot be checked (its platform is not running, or
        cannot tell): the caller is about to make the topic private, and that channel may be public.
        """
        for binding in await self._store.channels.bound(ChannelPurpose.TOPIC, topic_id):
            adapter = self._platforms(binding.platform)
            if adapter is None:
                raise PlatformGone(binding.platform, binding.channel_id)
            if await self._is_public(adapter, binding.channel_id):
                return binding.channel_id
        return None

    async def bind_public(self, caller: Caller, platform: str, channel: str) -> list[Msg]:
        """Send public announcements on ``platform`` to ``channel``; returns notes on what the adapter did."""
        adapter = self._platforms(platform)
        notes: list[Msg] = []
        if isinstance(adapter, ChannelPreparer):
            notes.append(await adapter.prepare_public_channel(channel))
        else:
            notes.append(_("Make sure only the bot can post there."))
        now = self._clock.now()
        await self._store.channels.bind(ChannelPurpose.PUBLIC, None, platform, channel, now)
        await self._store.audit.record(caller.person.id, AuditAction.SETUP_PUBLIC_CHANNEL, f"{platform}:{channel}",
                                       None, channel, now)
        return notes

    async def bind_topic(self, caller: Caller, topic: Topic, platform: str, channel: str) -> list[Msg]:
        """Also send ``topic``'s announcements to ``channel``; refuses a channel everyone reads — or one the
        platform cannot vouch for — for a topic that is not public."""
        adapter = self._platforms(platform)
        if topic.visibility is not Visibility.PUBLIC:
            if adapter is None:
                raise PlatformGone(platform, channel)
            if await self._is_public(adapter, channel):
                raise UserError(_("#{channel} can be read by everyone, but “{topic}” is not public. Choose a "
                                  "private channel.", channel=channel, topic=topic.slug))
        notes: list[Msg] = []
        if isinstance(adapter, ChannelPreparer):
            notes.append(await adapter.prepare_topic_channel(channel))
            if topic.visibility is not Visibility.PUBLIC and not await self._still_private(adapter, channel):
                raise UserError(_("#{channel} may be readable by everyone now that the bot has set it up, so "
                                  "“{topic}” was not bound to it. Check that only members can see the channel, "
                                  "then try again.", channel=channel, topic=topic.slug))
        now = self._clock.now()
        await self._store.channels.bind(ChannelPurpose.TOPIC, topic.id, platform, channel, now)
        await self._store.audit.record(caller.person.id, AuditAction.SETUP_TOPIC_CHANNEL, topic.slug, None,
                                       f"{platform}:{channel}", now)
        return notes

    @classmethod
    async def _still_private(cls, adapter: PlatformAdapter, channel: str) -> bool:
        """Asked again after the adapter changed the channel's permissions: if preparing opened it (an adapter
        bug, or an admin's edit at that moment), members-only posts would reach everyone. Unknown is not
        private."""
        try:
            return not await cls._is_public(adapter, channel)
        except ChannelUnknown:
            return False

    @staticmethod
    async def _is_public(adapter: PlatformAdapter, channel: str) -> bool:
        """Whether everyone may read ``channel``; an adapter without the notion (the console, whose channels
        only the operator reads) says no; an inspector that cannot tell refuses (:class:`ChannelUnknown`)."""
        if not isinstance(adapter, ChannelInspector):
            return False
        public = await adapter.channel_is_public(channel)
        if public is None:
            raise ChannelUnknown(adapter.platform, channel)
        return public
