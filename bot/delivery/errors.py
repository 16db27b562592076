"""What a platform adapter raises when a send fails, and how the delivery worker tells a retry from a give-up.

They live with the delivery feature rather than in :mod:`bot.ports`: the port (``PlatformAdapter``) names them,
the worker (``bot/delivery/attempts.py``, ``routes.py``) decides on them, and the adapters raise them.
"""

from __future__ import annotations

from bot.i18n import Msg


class DeliveryError(Exception):
    """Base of the errors an adapter raises from a send."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying later (rate limit, 5xx, network); ``retry_after`` in seconds when the platform said.

    ``may_have_landed``: the platform may have stored the message before the failure (a 5xx, a dropped
    connection), so the retry must first look for it (:class:`InFlightAware`) instead of posting again. The
    worker keeps that in the row, so a restart does not forget it. ``rate_limited``: the platform asked us to
    slow down — it pauses that platform's queue, it is not a sign the platform is down. ``route``: with
    ``rate_limited``, the limit applies to this route only (opening DMs, one channel) — the adapter refuses
    further calls to it until it lifts, the worker defers just the row and the rest of the platform goes on.
    """

    def __init__(self, reason: Msg, retry_after: float | None = None, *, may_have_landed: bool = False,
                 rate_limited: bool = False, route: str | None = None) -> None:
        super().__init__(reason if isinstance(reason, str) else reason.msgid)
        self.reason = reason
        self.retry_after = retry_after
        self.may_have_landed = may_have_landed
        self.rate_limited = rate_limited
        self.route = route
        self.platform: str | None = None  # filled in by the worker: whose pacing to slow down


class PermanentDeliveryError(DeliveryError):
    """Will never succeed as is (user gone, DMs closed, channel deleted, a message the platform refuses).

    ``dm_closed`` marks the identity closed (the person accepts no DMs from the bot). ``account_level``: the account
    itself cannot be reached (DMs closed, user gone, address refused), so a DM falls back to the person's other
    accounts and this one is avoided until it talks to the bot; ``dm_closed`` implies it. Without it the *message*
    was refused (too long, malformed blocks, a mail server refusing the data): another account would refuse the same
    message, and this one is fine for the next, so the row fails as it is and the account stays open. The
    adapters' error mapping sets it; only they know which answers are about the account.
    """

    def __init__(self, reason: Msg, *, dm_closed: bool = False, account_level: bool = False) -> None:
        super().__init__(reason if isinstance(reason, str) else reason.msgid)
        self.reason = reason
        self.dm_closed = dm_closed
        self.account_level = account_level or dm_closed
