"""Which of a person's accounts a direct message goes through, and where it goes next when that one refuses.

A person may hold several identities (Slack, Discord, an email address). A DM row names the person, not the
identity: the identity is picked when the row is sent, so a preference set after the fan-out, or DMs closed
meanwhile, still count. The rules, in order:

* a **pinned** row (``platform`` set on a person's row, and ``channel_id`` naming the exact account when set)
  goes through that account only and never falls back — a confirmation must reach the account that asked;
* **email carries public topics only**: a mail leaves the platforms' access control and crosses third-party
  servers, so a DM about a members or private topic never goes through an email identity;
* the **preferred platform** first (``all``: :func:`counted_platform`, the account that carries the counted
  copy), then the person's other reachable accounts with DMs open, in platform order: the fallbacks.

An account that refuses for good (DMs closed, user gone: an ``account_level`` error) while another is left is marked
closed as closed DMs are (it is not tried again until it talks to the bot), and the row is handed back at once,
without counting an attempt, so that the next round routes it through the next account at that platform's own pace.
A refusal of the message itself (too long, malformed) fails the row as before: another account would refuse it too.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.delivery.model import ALL_PLATFORMS, Delivery
from bot.delivery.status import platform_name
from bot.email.model import PLATFORM as EMAIL
from bot.i18n import Msg, Text, _, decode_text, listing
from bot.model import IdentityRecord


class NoAccount(Exception):
    """No account of the person may carry this row now: the row is skipped with ``reason``."""

    def __init__(self, reason: Msg) -> None:
        super().__init__(reason)
        self.reason = reason


class Rerouted(Exception):
    """The account refused for good and another is left: hand the row back now, nothing counted, so the next
    round sends it through the next account (at that platform's pace). ``reason``: the refusal."""

    def __init__(self, reason: Msg) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Accounts:
    """``chosen`` carries the row now; ``fallbacks`` would carry it if ``chosen`` refused for good (none for a
    pinned row); ``refused``: accounts that may carry it but whose DMs are known closed."""

    chosen: IdentityRecord
    fallbacks: tuple[IdentityRecord, ...]
    refused: tuple[IdentityRecord, ...]

    def all_refused(self, last: Msg) -> Msg:
        """The reason a row fails when ``chosen`` refused with ``last`` and no fallback is left: every account
        named with its refusal (the bare ``last`` when the person has one account only)."""
        if not self.refused:
            return last
        parts = [_refusal(r.identity.platform, decode_text(r.dm_closed_reason or "")) for r in self.refused]
        parts.append(_refusal(self.chosen.identity.platform, last))
        return _("every account of this person refused it: {accounts}", accounts=listing(parts))


def counted_platform(identities: Sequence[IdentityRecord], *, public: bool) -> str | None:
    """Where an ``all`` person's counted row goes: the first (by platform name) of their accounts that may carry
    the topic — an email account only for a public one. Every other such account gets an ``announcement-copy``
    row. The one rule: the fan-out's SQL (``storage/announcements.py``) spells it too, so the counted row and the
    copies never start on the same platform. Whether that platform is running is decided when the row is sent
    (:mod:`bot.delivery.copies`)."""
    return min((i.identity.platform for i in identities if public or i.identity.platform != EMAIL), default=None)


def pick_accounts(delivery: Delivery, identities: Sequence[IdentityRecord], running: Collection[str],
                  preferred: str | None, *, public: bool) -> Accounts:
    """The accounts ``delivery`` may go through, best first (see the module docstring). Raises
    :class:`NoAccount` when none may."""
    reachable = [i for i in identities if i.identity.platform in running]
    pinned = delivery.platform
    if pinned is not None:
        reachable = [i for i in reachable if i.identity.platform == pinned
                     and (delivery.channel_id is None or i.identity.external_id == delivery.channel_id)]
        if not reachable:
            raise NoAccount(_("the {platform} account it was meant for is gone, or {platform} is not running",
                              platform=platform_name(pinned)))
    if not public:
        chat = [i for i in reachable if i.identity.platform != EMAIL]
        if reachable and not chat:
            raise NoAccount(_("email carries public topics only, and no other account of this person can "
                              "receive it"))
        reachable = chat
    if not reachable:
        raise NoAccount(_("no running platform reaches this person"))
    open_dms = [i for i in reachable if not i.dm_closed_reason]
    closed = tuple(i for i in reachable if i.dm_closed_reason)
    if not open_dms:
        if len(closed) == 1:
            raise NoAccount(_("direct messages closed: {reason}", reason=decode_text(closed[0].dm_closed_reason or "")))
        parts = [_refusal(i.identity.platform, decode_text(i.dm_closed_reason or "")) for i in closed]
        raise NoAccount(_("every account of this person has direct messages closed: {accounts}",
                          accounts=listing(parts)))
    if preferred == ALL_PLATFORMS:
        preferred = counted_platform(identities, public=public)
    ordered = sorted(open_dms, key=lambda i: i.identity.platform != preferred)  # stable: platform order after
    return Accounts(ordered[0], () if pinned is not None else tuple(ordered[1:]), closed)


def _refusal(platform: str, reason: Msg) -> Text:
    return _("{platform}: {reason}", platform=platform_name(platform), reason=reason)
