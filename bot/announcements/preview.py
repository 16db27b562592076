"""What a draft will do before it is confirmed: who gets it by delivery mode and platform, which channels, when,
and how long the fan-out will take on each platform at the pace the delivery worker uses (issue 23, item 3).

Why an estimate port and not the worker: the worker is built last (it needs every message builder), after the
announcement service; the composition root hands the service something that reads each platform's current pace
when asked, so a pace that adapts to 429s is read as it is then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from bot.announcements.declarations import ANNOUNCE_CANCEL, ANNOUNCE_CONFIRM
from bot.announcements.model import Announcement
from bot.channels.model import ChannelPurpose
from bot.commands.context import Caller, ZoneSource
from bot.commands.invoke import invoke
from bot.delivery.status import listing, platform_name
from bot.i18n import Text, _, duration, moment
from bot.i18n import listing as join
from bot.messages import Action, ActionStyle, Field, Message, stamp
from bot.ports import Store
from bot.subscriptions.model import DeliveryMode
from bot.topics.model import Topic, Visibility

MINUTE = 60.0


class PaceEstimate(Protocol):
    """How long a platform takes to send a number of messages at the pace the delivery worker uses now."""

    def seconds_for(self, platform: str, messages: int) -> float | None:
        """Returns the seconds ``messages`` sends take on ``platform`` at its current pace (0 for a platform the
        worker does not pace); ``None`` for a platform that is not connected. Raises nothing."""
        ...


class NoEstimate:
    """No pace known (a service built without a worker, as in some tests): no estimate is shown."""

    def seconds_for(self, platform: str, messages: int) -> float | None:
        return None


def estimates(estimate: PaceEstimate, messages: Mapping[str | None, int]) -> dict[str, float]:
    """Seconds per platform for ``messages`` per platform; DMs whose platform is chosen when sent (``None``) and
    platforms with no estimate are left out."""
    found: dict[str, float] = {}
    for platform, n in messages.items():
        if platform is not None and n > 0 and (seconds := estimate.seconds_for(platform, n)) is not None:
            found[platform] = seconds
    return found


def time_to_send(per_platform: Mapping[str, float]) -> Text | None:
    """``Discord about 4 min, Slack about 9 min`` (platforms send side by side), or ``None`` with none known."""
    parts = [_("{platform} about {duration}", platform=platform_name(platform), duration=duration(seconds))
             if seconds >= MINUTE else _("{platform} in less than a minute", platform=platform_name(platform))
             for platform, seconds in sorted(per_platform.items())]
    return listing(parts) if parts else None


def immediate_by_platform(counts: Sequence[tuple[DeliveryMode, str | None, int]]) -> dict[str | None, int]:
    found: dict[str | None, int] = {}
    for mode, platform, n in counts:
        if mode is DeliveryMode.IMMEDIATE:
            found[platform] = found.get(platform, 0) + n
    return found


async def preview(store: Store, estimate: PaceEstimate, caller: Caller, announcement: Announcement,
                  topic: Topic) -> Message:
    """The draft as it will go out, with its audience, channels, time and how long sending will take."""
    counts = await store.subscriptions.audience_counts(topic.id)
    fields = []
    for mode in DeliveryMode:
        per_platform = [f"{'?' if platform is None else platform} {n}" for m, platform, n in counts if m is mode]
        total = sum(n for m, _p, n in counts if m is mode)
        fields.append(Field(mode.label, _("{total} ({platforms})", total=total,
                                          platforms=join(per_platform, counts=True) if per_platform else "—")))
    channels = await store.channels.bound(ChannelPurpose.TOPIC, topic.id)
    public = await store.channels.bound(ChannelPurpose.PUBLIC, None) \
        if topic.visibility is Visibility.PUBLIC else []
    bound = [f"{c.platform}:#{c.channel_id}" for c in channels + public]
    fields.append(Field(_("Channels"), join(bound, counts=True) if bound else _("none bound (setup topic-channel)")))
    if immediate_by_platform(counts):
        # The DMs by the platform they will go through (a preference, else the only identity), not only by
        # the stated preference the counts above show.
        dms = dict(await store.announcements.audience_platforms(topic.id))
        eta = time_to_send(estimates(estimate, dms))
        if eta is not None:
            fields.append(Field(_("Time to send"), eta))
    when: Text = _("Sends when you confirm.") if announcement.send_at is None else \
        _("Sends at {time} — {local} in your zone.", time=stamp(announcement.send_at),
          local=moment(announcement.send_at, caller.zone, with_zone=True))
    body: list[Text | str] = [announcement.text, when]
    if caller.timezone_source is ZoneSource.DEFAULT:
        body.append(_("That is the coalition's default zone; set yours with “settings timezone <zone>”."))
    return Message(
        title=_("Preview of announcement #{id} to “{topic}”", id=announcement.id, topic=topic.slug),
        body=tuple(body), fields=tuple(fields),
        actions=(Action(_("Confirm"), invoke(ANNOUNCE_CONFIRM, id=announcement.id), ActionStyle.PRIMARY),
                 Action(_("Cancel"), invoke(ANNOUNCE_CANCEL, id=announcement.id), ActionStyle.DANGER)),
    )
