"""The payloads the outbox itself defines — a message queued as it is (``notice``, ``meeting-notice``,
``digest``) and a change to a delivered copy (``edit``, ``delete``) — and the small readers every feature's
payload uses, so each one refuses a malformed row the same way (:class:`PayloadError`, naming the key, never
the stored text: a payload may hold what a coordinator wrote).

Each payload class is the one place its JSON keys are written and read. The JSON is what earlier versions
stored, byte for byte, so rows queued before an upgrade still parse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.delivery.model import PayloadError
from bot.messages import Message


def load_object(stored: str) -> dict[str, Any]:
    """The stored payload as a JSON object; :class:`PayloadError` when it is not one."""
    try:
        data = json.loads(stored)
    except (TypeError, ValueError):
        raise PayloadError("the payload is not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("the payload is not a JSON object")
    return data


def int_field(data: dict[str, Any], key: str) -> int:
    """``data[key]`` as an integer (earlier versions stored ids and epoch seconds as JSON numbers)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PayloadError(f"the payload has no whole number “{key}”")
    try:
        return int(value)
    except ValueError:
        raise PayloadError(f"the payload has no whole number “{key}”") from None


@dataclass(frozen=True, slots=True)
class NoticePayload:
    """A message composed when it was queued, its texts kept lazy so each reader gets their own language:
    ``notice`` (the :class:`~bot.delivery.notify.Notifier`'s rows), ``meeting-notice`` and ``digest``."""

    message: Message

    def to_json(self) -> str:
        return json.dumps(self.message.to_json(), ensure_ascii=False)

    @classmethod
    def from_json(cls, stored: str) -> NoticePayload:
        data = load_object(stored)
        try:
            return cls(Message.from_json(data))
        except (KeyError, TypeError, ValueError):
            raise PayloadError("the payload is not a stored message") from None


_OF = "of"


@dataclass(frozen=True, slots=True)
class ChangePayload:
    """An ``edit`` or ``delete`` of a copy delivered earlier: ``of`` is that copy's outbox row, which holds its
    platform message ids; an edit rebuilds the copy from that row's own source when it is sent."""

    of: int

    def to_json(self) -> str:
        return json.dumps({_OF: self.of})

    @classmethod
    def from_json(cls, stored: str) -> ChangePayload:
        return cls(int_field(load_object(stored), _OF))
