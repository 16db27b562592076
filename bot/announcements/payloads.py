"""What an announcement's outbox rows carry: only the announcement's id (and where the copy goes). The worker
asks :meth:`~bot.announcements.service.AnnouncementService.build` for the message when it sends, so an edit
before sending needs no rewrite of queued rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.delivery.model import PayloadError
from bot.delivery.payloads import int_field, load_object

_ANNOUNCEMENT: Final = "announcement"
_TARGET: Final = "target"


class AnnouncementTarget(StrEnum):
    """Where a copy goes: the topic's channel, the coalition's public channel, or a subscriber's DM (which
    carries the unsubscribe and mute buttons)."""

    CHANNEL = "channel"
    PUBLIC = "public"
    DM = "dm"


@dataclass(frozen=True, slots=True)
class AnnouncementPayload:
    """An ``announcement`` row: one copy of ``announcement_id`` for ``target``."""

    announcement_id: int
    target: AnnouncementTarget

    def to_json(self) -> str:
        return json.dumps({_ANNOUNCEMENT: self.announcement_id, _TARGET: self.target.value})

    @classmethod
    def from_json(cls, stored: str) -> AnnouncementPayload:
        data = load_object(stored)
        try:
            target = AnnouncementTarget(str(data.get(_TARGET)))
        except ValueError:
            raise PayloadError(f"the payload's “{_TARGET}” is not an announcement target") from None
        return cls(int_field(data, _ANNOUNCEMENT), target)


@dataclass(frozen=True, slots=True)
class ReportPayload:
    """A ``report`` row: the author's delivery report of ``announcement_id``, rebuilt and edited in place as
    its copies go out."""

    announcement_id: int

    def to_json(self) -> str:
        return json.dumps({_ANNOUNCEMENT: self.announcement_id})

    @classmethod
    def from_json(cls, stored: str) -> ReportPayload:
        return cls(int_field(load_object(stored), _ANNOUNCEMENT))
