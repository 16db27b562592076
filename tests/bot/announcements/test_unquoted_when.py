"""``when:`` written unquoted, as the README writes it, takes the whole time (issue 15, item 6)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import Harness

# The harness clock: Monday 23 Nov 2026, 12:00 UTC = 15:00 in Nairobi.


async def test_unquoted_when_takes_every_word_of_the_time(h: Harness) -> None:
    await h.say("demo-coordinator", "settings timezone Africa/Nairobi")
    await h.say("demo-coordinator", "announce new disinformation Webinar soon when:monday 14:00")
    await h.say("demo-coordinator", "announce new disinformation when:in 2h Webinar later")
    first, second = sorted(await h.app.store.announcements.recent(None), key=lambda a: a.id)
    assert (first.text, first.send_at) == ("Webinar soon", datetime(2026, 11, 30, 11, 0, tzinfo=UTC))
    assert (second.text, second.send_at) == ("Webinar later", datetime(2026, 11, 23, 14, 0, tzinfo=UTC))


async def test_unquoted_when_that_does_not_finish_its_time_is_refused(h: Harness) -> None:
    reply = await h.text("demo-coordinator", "announce new disinformation when:tomorrow 9 Webinar for 9 people")
    assert "“tomorrow 9 Webinar” is not a complete date or time" in reply
    assert "now, in 2h" in reply and "Usage: /announce new" in reply
    assert await h.app.store.announcements.recent(None) == []
