"""A reminder row's payload: which reminder of which occurrence, for whom. The reminder itself is built when it
is sent (``bot/meetings/reminders.py``), so a meeting cancelled or moved in between sends nothing stale."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from bot.delivery.model import PayloadError
from bot.delivery.payloads import int_field, load_object
from bot.meetings.model import epoch

# The JSON keys, named once. storage/delivery_reports.py reads MEETING, START and OFFSET in SQL, to group a
# meeting's missed reminders in the database (one line per reminder, however many recipients it had).
MEETING: Final = "meeting"
ORIGINAL: Final = "original"
START: Final = "start"
OFFSET: Final = "offset"
LATE: Final = "late"
TARGET: Final = "target"


class ReminderTarget(StrEnum):
    """Where a reminder goes: a person's DM carries the RSVP buttons, a channel post does not."""

    DM = "dm"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class ReminderPayload:
    """The reminder ``offset_minutes`` before the occurrence first planned at ``original_start`` and now at
    ``start`` (whole seconds, as stored). ``target`` is ``None`` on the ``missed`` rows recorded while the bot
    was down: they are never sent, only reported."""

    meeting_id: int
    original_start: datetime
    start: datetime
    offset_minutes: int
    late: bool = False
    target: ReminderTarget | None = None

    def to_json(self) -> str:
        data: dict[str, object] = {MEETING: self.meeting_id, ORIGINAL: epoch(self.original_start),
                                   START: epoch(self.start), OFFSET: self.offset_minutes, LATE: self.late}
        if self.target is not None:
            data[TARGET] = self.target.value
        return json.dumps(data)

    @classmethod
    def from_json(cls, stored: str) -> ReminderPayload:
        data = load_object(stored)
        late = data.get(LATE, False)
        target = data.get(TARGET)
        if not isinstance(late, bool):
            raise PayloadError(f"the payload's “{LATE}” is not true or false")
        try:
            parsed_target = ReminderTarget(target) if target is not None else None
        except ValueError:
            raise PayloadError(f"the payload's “{TARGET}” is not a reminder target") from None
        try:
            original = datetime.fromtimestamp(int_field(data, ORIGINAL), UTC)
            start = datetime.fromtimestamp(int_field(data, START), UTC)
        except (OverflowError, OSError):
            raise PayloadError("the payload's times are out of range") from None
        return cls(meeting_id=int_field(data, MEETING), original_start=original, start=start,
                   offset_minutes=int_field(data, OFFSET), late=late, target=parsed_target)
