"""``meeting show`` lists the meeting's missed reminders (issue 16): whoever looks at a meeting sees what was
not sent and why, in their own zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.console import format_stamp
from bot.messages import render_stamps
from tests.support import FixedClock, Harness, console_settings, harness


async def _show(h: Harness, user: str, command: str, zone: str) -> str:
    return render_stamps(await h.text(user, command), lambda unix, style: format_stamp(unix, style, zone))


async def test_meeting_show_lists_a_reminder_missed_during_downtime(tmp_path: Path) -> None:
    settings, clock = console_settings(tmp_path), FixedClock()
    async with harness(settings, clock) as h:
        await h.text("demo-coordinator", "meeting create disinformation Soon 2026-11-24 12:30 remind:2h,1h zone:UTC "
                                         "repeat:daily")
        before = await _show(h, "demo-member", "meeting show 2", "UTC")
        assert "Missed reminders" not in before
    clock.current = datetime(2026, 11, 24, 12, 45, tzinfo=UTC)  # down while both reminders were due
    async with harness(settings, clock) as h:
        await h.app.run_due()
        shown = await _show(h, "demo-outsider", "meeting show 2", "America/New_York")
        assert "Missed reminders (not sent):" in shown
        assert ("• November 24, 2026, 7:30\u202fAM (America/New_York): the 2 hours reminder — missed: the bot was "
                "offline") in shown
        assert ("• November 24, 2026, 7:30\u202fAM (America/New_York): the 1 hour reminder — missed: the bot was "
                "offline") in shown
        other = await _show(h, "demo-member", "meeting show 1", "UTC")  # another meeting: nothing missed
        assert "Missed reminders" not in other
