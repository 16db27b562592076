"""Delivery status for people: an announcement's copies per platform (``announce status``), the whole outbox
per platform and kind with each platform's circuit (``delivery status``), and a meeting's missed reminders.

Only counts, kinds and platforms are shown, never a message's text: ``delivery status`` spans every topic,
members-only and private ones included. Times are :func:`stamp` markers, shown in each reader's zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.delivery.model import DeliveryKind, UnknownKind
from bot.delivery.outcomes import (
    OPEN_STATUSES,
    DeliveryCount,
    MissedReminder,
    PlatformCircuit,
    Tally,
    tally_by,
)
from bot.i18n import Msg, Text, _, _n, decode_text
from bot.i18n import listing as join
from bot.messages import Message, stamp
from bot.ports import Store

RECENT = timedelta(hours=24)
"""The window of recent outcomes ``delivery status`` counts."""
MISSED_SHOWN = 5
"""How many missed reminders ``meeting show`` lists (the latest occurrences)."""
NOT_CHOSEN = "\uffff"  # sorts last; shown as "not chosen yet"


class KindGroup(StrEnum):
    """Kinds as people name them in ``delivery status`` (listed in this order: by value)."""

    ANNOUNCEMENT = "announcement"
    CHANGE = "change"
    DIGEST = "digest"
    NOTICE = "notice"
    REMINDER = "reminder"


KIND_GROUPS: dict[DeliveryKind, KindGroup] = {
    DeliveryKind.ANNOUNCEMENT: KindGroup.ANNOUNCEMENT, DeliveryKind.ANNOUNCEMENT_COPY: KindGroup.ANNOUNCEMENT,
    DeliveryKind.REMINDER: KindGroup.REMINDER,
    DeliveryKind.DIGEST: KindGroup.DIGEST, DeliveryKind.EDIT: KindGroup.CHANGE, DeliveryKind.DELETE: KindGroup.CHANGE}
"""The kinds features queue; anything else is a notice (reports, requests, meeting notices, unknown kinds)."""


def kind_group(kind: DeliveryKind | UnknownKind) -> KindGroup:
    return KindGroup.NOTICE if isinstance(kind, UnknownKind) else KIND_GROUPS.get(kind, KindGroup.NOTICE)


def kind_label(group: KindGroup) -> Text:
    match group:
        case KindGroup.ANNOUNCEMENT:
            return _("announcement copies")
        case KindGroup.REMINDER:
            return _("reminders")
        case KindGroup.DIGEST:
            return _("digests")
        case KindGroup.CHANGE:
            return _("edits and removals of sent copies")
    return _("notices")


PLATFORM_NAMES = {"console": "Console", "discord": "Discord", "slack": "Slack"}
"""Platforms as their makers spell them: proper nouns, the same in every language (the sentence around them
is translated)."""


def platform_name(platform: str) -> str:
    """``Discord`` for ``discord``; a platform not listed here (a test's) by its own name."""
    return PLATFORM_NAMES.get(platform, platform)


def platform_label(platform: str) -> Msg:
    """A platform's name; a DM whose platform is picked when it is sent is "not chosen yet"."""
    return _("not chosen yet") if platform == NOT_CHOSEN else platform_name(platform)


def until(instant: datetime, now: datetime) -> str:
    """A time of day when it is within the next half day, else a date and time (in the reader's zone)."""
    return stamp(instant, "t" if instant - now < timedelta(hours=12) else "f")


def listing(parts: Sequence[Text]) -> Text:
    """Tallies joined in the reader's language ("3 queued, 2 sent"; CLDR's list for measures), or "nothing"."""
    if not parts:
        return _("nothing")
    return join(parts, counts=True)


def reason_text(stored: str | None) -> Msg:
    return decode_text(stored) if stored else _("no reason recorded")


def queued_parts(tally: Tally, circuit: PlatformCircuit | None, now: datetime) -> list[Text]:
    parts: list[Text] = []
    if tally.queued:
        parts.append(_n("{n} queued", "{n} queued", tally.queued))
    if tally.paused and circuit is not None and circuit.retry_at is not None:
        parts.append(_n("{n} paused until {time}", "{n} paused until {time}", tally.paused,
                        time=until(circuit.retry_at, now)))
    return parts


def outcome_parts(tally: Tally) -> list[Text]:
    parts: list[Text] = []
    if tally.sent:
        parts.append(_n("{n} sent", "{n} sent", tally.sent))
    if tally.failed and tally.retryable:
        parts.append(_n("{n} failed ({retryable} can be retried)", "{n} failed ({retryable} can be retried)",
                        tally.failed, retryable=tally.retryable))
    elif tally.failed:
        parts.append(_n("{n} failed", "{n} failed", tally.failed))
    if tally.skipped:
        parts.append(_n("{n} skipped", "{n} skipped", tally.skipped))
    if tally.missed:
        parts.append(_n("{n} missed", "{n} missed", tally.missed))
    if tally.cancelled:
        parts.append(_n("{n} cancelled", "{n} cancelled", tally.cancelled))
    return parts


def circuit_line(platform: str, circuit: PlatformCircuit | None, now: datetime) -> Text:
    platform = platform_name(platform)
    if circuit is not None and circuit.paused(now) and circuit.retry_at is not None:
        return _("• {platform}: sending paused until {time} — {reason}", platform=platform,
                 time=until(circuit.retry_at, now), reason=reason_text(circuit.reason))
    if circuit is not None and circuit.probing(now):
        return _("• {platform}: trying again — the next send decides whether it is back", platform=platform)
    if circuit is not None and circuit.failures:
        return _n("• {platform}: sending normally ({n} recent failure)",
                  "• {platform}: sending normally ({n} recent failures)",
                  circuit.failures, platform=platform)
    return _("• {platform}: sending normally", platform=platform)


def _kind_queued_parts(tally: Tally) -> list[Text]:
    """A kind spans platforms, so a paused count carries no single reopening time."""
    parts = [_n("{n} queued", "{n} queued", tally.queued)] if tally.queued else []
    if tally.paused:
        parts.append(_n("{n} paused", "{n} paused", tally.paused))
    return parts


def _via(count: DeliveryCount) -> str:
    return count.platform or NOT_CHOSEN


def _kind(count: DeliveryCount) -> KindGroup:
    return kind_group(count.kind)


class OutboxReports:
    """Reads the outbox for status commands. ``platforms`` names the platforms running now (their circuit is
    shown even when it never opened)."""

    def __init__(self, store: Store, clock: Clock, platforms: Callable[[], Iterable[str]]) -> None:
        self._store = store
        self._clock = clock
        self._platforms = platforms

    async def _circuits(self) -> dict[str, PlatformCircuit]:
        return {c.platform: c for c in await self._store.circuits.all()}

    async def announcement_lines(self, announcement_id: int) -> list[Text]:
        """One line per platform the announcement's copies went or go through."""
        now = self._clock.now()
        circuits = await self._circuits()
        paused = frozenset(p for p, c in circuits.items() if c.paused(now))
        counts = await self._store.delivery_reports.announcement_counts(announcement_id)
        tallies = tally_by(counts, _via, paused)
        if not tallies:
            return []
        lines: list[Text] = [_("By platform:")]
        for platform, tally in sorted(tallies.items()):
            parts = queued_parts(tally, circuits.get(platform), now) + outcome_parts(tally)
            lines.append(_("• {platform}: {counts}", platform=platform_label(platform), counts=listing(parts)))
        return lines

    async def overview(self) -> Message:
        """What is queued now and what ended recently, per platform and per kind, and every circuit."""
        now = self._clock.now()
        circuits = await self._circuits()
        paused = frozenset(p for p, c in circuits.items() if c.paused(now))
        counts = await self._store.delivery_reports.outbox_counts(now - RECENT)
        open_counts = [c for c in counts if c.status in OPEN_STATUSES]
        ended_counts = [c for c in counts if c.status not in OPEN_STATUSES]
        hours = int(RECENT.total_seconds() // 3600)
        body: list[Msg] = []
        queued_by_platform = tally_by(open_counts, _via, paused)
        if queued_by_platform:
            body.append(_("Queued now, by platform:"))
            body += [_("• {platform}: {counts}", platform=platform_label(platform),
                       counts=listing(queued_parts(tally, circuits.get(platform), now)))
                     for platform, tally in sorted(queued_by_platform.items())]
            body.append(_("Queued now, by kind:"))
            body += [_("• {kind}: {counts}", kind=kind_label(group), counts=listing(_kind_queued_parts(tally)))
                     for group, tally in sorted(tally_by(open_counts, _kind, paused).items())]
        else:
            body.append(_("Nothing is queued now."))
        ended_by_platform = tally_by(ended_counts, _via, paused)
        if ended_by_platform:
            body.append(_n("In the last hour, by platform:", "In the last {n} hours, by platform:", hours))
            body += [_("• {platform}: {counts}", platform=platform_label(platform),
                       counts=listing(outcome_parts(tally))) for platform, tally in sorted(ended_by_platform.items())]
            body.append(_n("In the last hour, by kind:", "In the last {n} hours, by kind:", hours))
            body += [_("• {kind}: {counts}", kind=kind_label(group), counts=listing(outcome_parts(tally)))
                     for group, tally in sorted(tally_by(ended_counts, _kind, paused).items())]
        else:
            body.append(_n("Nothing was sent, failed or missed in the last hour.",
                           "Nothing was sent, failed or missed in the last {n} hours.", hours))
        body.append(_("Platforms:"))
        for platform in sorted(set(self._platforms()) | set(circuits)):
            body.append(circuit_line(platform, circuits.get(platform), now))
        return Message(title=_("Delivery status"), body=tuple(body),
                       footer=_("Counts only, never message text. An announcement's copies: “announce status "
                                "<number>”; a meeting's missed reminders: “meeting show <number>”."))

    async def missed_reminders(self, meeting_id: int) -> list[MissedReminder]:
        """The meeting's latest missed reminders, one per occurrence and reminder time."""
        return await self._store.delivery_reports.missed_reminders(meeting_id, MISSED_SHOWN)
