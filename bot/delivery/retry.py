"""When a row that could not go now goes next: retry until a deadline, not a count, and never past relevance.

Why a deadline: an outage of a few minutes used to use up eight attempts and fail every row in it for good.
Counting time from the first failure of a streak (``retrying_since``) rides out a platform incident however
the attempts fall, while a row nobody can deliver still ends, with a reason, after ``retry_for``. Why relevance
first: a reminder after its meeting started, or yesterday's digest, is noise — such a row is ``missed``
(reported), never sent late.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.model import Delivery
from bot.i18n import Msg, Text, _, _n

EXPIRED = _("no longer relevant: it expired before it could be sent")
GAVE_UP_BEFORE = _("gave up after {n} attempts: {reason}", n=0, reason="")
"""The reason rows failed by the previous version (a count of attempts) still carry; kept so they still render
in the reader's language."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped, jittered exponential backoff for one row, within ``retry_for`` of its first failure."""

    base_seconds: float = 2.0
    max_seconds: float = 300.0
    retry_for: timedelta = timedelta(hours=24)

    def backoff(self, attempts: int, rng: random.Random) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones: half to all of the capped doubling."""
        cap = min(self.max_seconds, self.base_seconds * 2.0 ** min(max(0, attempts - 1), 32))
        return rng.uniform(cap / 2, cap)


@dataclass(frozen=True, slots=True)
class Later:
    at: datetime


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Failed after retrying for ``retry_for``; ``retryable``: a coordinator may queue it again."""

    reason: Text


@dataclass(frozen=True, slots=True)
class Missed:
    reason: Msg


Verdict = Later | GiveUp | Missed


def next_step(policy: RetryPolicy, delivery: Delivery, now: datetime, wanted: datetime, error: Msg | None,
              expired: Msg, *, streak: bool = True) -> Verdict:
    """What becomes of a row that cannot go now and would go at ``wanted``.

    Missed when ``wanted`` is at or past ``expires_at``. With ``streak`` (a failure, or a paused platform) the
    deadline's clock runs from ``retrying_since`` (now, for the first): past it the row fails; otherwise it goes
    at ``wanted``, but no later than the deadline, so the last attempt happens on time. Without ``streak`` (a
    busy platform: normal pacing) only relevance applies.
    """
    if delivery.expires_at is not None and wanted >= delivery.expires_at:
        return Missed(missed_reason(expired, error))
    if not streak:
        return Later(wanted)
    since = delivery.retrying_since or now
    deadline = since + policy.retry_for
    if now >= deadline:
        return GiveUp(_("gave up after retrying for {duration}: {reason}", duration=duration(now - since),
                        reason=error if error is not None else _("unknown error")))
    return Later(min(wanted, deadline))


def missed_reason(expired: Msg, error: Msg | None) -> Msg:
    return _("{reason} (last error: {error})", reason=expired, error=error) if error is not None else expired


def duration(span: timedelta) -> Text:
    """A span as people say it: hours above ninety minutes, minutes above ninety seconds, else seconds."""
    seconds = span.total_seconds()
    if seconds >= 5400:
        return _n("{n} hour", "{n} hours", round(seconds / 3600))
    if seconds >= 90:
        return _n("{n} minute", "{n} minutes", round(seconds / 60))
    return _n("{n} second", "{n} seconds", round(seconds))
