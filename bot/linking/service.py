"""Linking accounts with a one-time code, and splitting them again.

``link`` on identity X gives a code; ``link <code>`` on identity Y proposes joining Y's person into X's; X confirms
(a DM with buttons, pinned to X's platform) or cancels. Everyone may do this, outsiders included: it is their own
data. What the answers never reveal is whether some identity or person exists: an unknown, expired, used, replaced
or already-claimed code all get the same answer, and wrong codes are limited per claiming identity and across
everyone (rows in the database, so a restart does not reset the count).

Roles need nothing here: a caller's role is computed per identity from the platform each came from
(:meth:`bot.people.service.PeopleService._caller`), so a merged person holds the highest role one of their identities
or grants gives, and loses a platform role when that platform takes it away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.audit import AuditAction
from bot.clock import Clock
from bot.commands.context import Caller
from bot.commands.invoke import invoke
from bot.delivery.model import DeliveryKind, NewDelivery
from bot.delivery.payloads import NoticePayload
from bot.delivery.status import platform_name
from bot.errors import UserError
from bot.i18n import _
from bot.linking.codes import canonical, code_hash, new_code, shown
from bot.linking.declarations import CANCEL, CONFIRM, LINK
from bot.linking.model import MergePlan
from bot.linking.plan import plan_fields, platforms
from bot.messages import Action, ActionStyle, Message, stamp
from bot.model import Identity
from bot.ports import Store

LIFETIME = timedelta(minutes=10)
"""How long a code can be claimed, and how long a claim waits for the issuer's confirmation."""

NOT_VALID = _("That code is not valid. Codes work once, for 10 minutes.")
NOTHING = _("Nothing to confirm.")


@dataclass(frozen=True, slots=True)
class LinkLimits:
    """How many wrong codes are answered before refusing: per claiming identity in ``identity_window``, and from
    everyone together in ``everyone_window`` (so many accounts cannot share the guessing of one code: 40 bits at
    30 a minute take ten thousand years on average)."""

    per_identity: int = 5
    identity_window: timedelta = timedelta(minutes=15)
    everyone: int = 30
    everyone_window: timedelta = timedelta(minutes=1)


class LinkService:
    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None], limits: LinkLimits | None = None) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._limits = limits or LinkLimits()

    async def issue(self, caller: Caller) -> Message:
        """A new code for the caller's identity, replacing any earlier one (and the proposal it carried)."""
        now = self._clock.now()
        code = new_code()
        await self._store.links.issue(caller.identity.identity, code_hash(code), now, now + LIFETIME)
        return Message(
            title=_("Your link code: {code}", code=shown(code)),
            body=(_("On your other platform, type “link {code}” within 10 minutes, then confirm here: this account "
                    "gets a message with a Confirm button.", code=shown(code)),
                  _("The code works once. Never give it to anyone else: whoever types it asks to join your "
                    "accounts. Asking for a new code replaces this one.")))

    async def claim(self, caller: Caller, typed: str) -> Message:
        """Propose joining the caller's person into the code issuer's, and ask the issuer to confirm. The answer
        names the issuer's platform only, never the merge plan: a leaked code must not tell its holder what the
        issuer follows (topic names, private ones included) or holds. Raises :class:`UserError` (translated) for a
        code that is not valid (one answer for every reason) and over a wrong-code limit; a wrong code is recorded
        for the limits and changes nothing else."""
        now = self._clock.now()
        claimer = caller.identity.identity
        code = canonical(typed)
        plan: MergePlan | None = None
        async with self._store.transaction():
            refusal = await self._refusal(claimer, now)
            if refusal is not None:
                raise refusal
            found = await self._store.links.find_issued(code_hash(code), now) if code else None
            same_person = found is not None and found.issuer_person_id == caller.person.id
            if found is not None and not same_person and await self._store.links.propose(found.id, claimer, now):
                plan = await self._store.links.plan(found.issuer_person_id, caller.person.id)
                await self._ask_issuer(found.id, found.issuer, found.issuer_person_id, claimer, plan, now)
            elif not same_person:
                await self._store.links.record_wrong(claimer, now, now - max(self._limits.identity_window,
                                                                             self._limits.everyone_window))
        if same_person:
            return Message(body=(_("These accounts are already one person."),))
        if found is None or plan is None:  # the attempt is recorded (committed) before the refusal
            raise UserError(NOT_VALID)
        self._wake()
        # Nothing of the plan here: the code may have leaked, and until the issuer confirms, whoever typed it is a
        # stranger to them. The issuer sees the plan; the claimer learns it in the notice after the merge.
        return Message(title=_("Link your accounts?"),
                       body=(_("The {platform} account that gave this code must confirm within 10 minutes: a message "
                               "with a Confirm button went to it, showing what will be joined. Until then nothing "
                               "changes.", platform=platform_name(found.issuer.platform)),))

    async def _refusal(self, claimer: Identity, now: datetime) -> UserError | None:
        """A translated refusal when the claimer, or everyone together, typed too many wrong codes lately, saying
        when to try again; ``None`` when the code may be looked at."""
        limits = self._limits
        mine = await self._store.links.wrong_since(now - limits.identity_window, claimer)
        if len(mine) >= limits.per_identity:
            return UserError(_("Too many wrong codes. You can try again at {time}.",
                               time=stamp(mine[-limits.per_identity] + limits.identity_window, "t")))
        everyone = await self._store.links.wrong_since(now - limits.everyone_window)
        if len(everyone) >= limits.everyone:
            return UserError(_("Too many wrong codes were typed in the last minute. You can try again at {time}.",
                               time=stamp(everyone[-limits.everyone] + limits.everyone_window, "T")))
        return None

    async def _ask_issuer(self, code_id: int, issuer: Identity, issuer_person: int, claimer: Identity,
                          plan: MergePlan, now: datetime) -> None:
        """Queue the confirmation request to the issuing identity, on its own platform only: another account of
        the issuer's (or the claimer's) must not be the one that confirms."""
        message = Message(
            title=_("Link your accounts?"),
            body=(_("Someone typed your link code on {platform}. If it was you, confirm within 10 minutes and your "
                    "accounts become one person. If it was not you, cancel.",
                    platform=platform_name(claimer.platform)),),
            fields=plan_fields(plan),
            actions=(Action(_("Confirm"), invoke(LINK, code=CONFIRM), ActionStyle.PRIMARY),
                     Action(_("Cancel"), invoke(LINK, code=CANCEL))))
        await self._store.outbox.enqueue([NewDelivery(
            dedupe_key=f"link:{code_id}:proposed:person:{issuer_person}", kind=DeliveryKind.NOTICE,
            payload=NoticePayload(message), not_before=now, person_id=issuer_person, platform=issuer.platform,
            expires_at=now + LIFETIME)], now)

    async def confirm(self, caller: Caller) -> Message:
        """Merge the claimer's person into the caller's, once: the proposal turns ``used`` in the same transaction
        as the merge, so a second confirm (at once or later) finds nothing to confirm."""
        now = self._clock.now()
        issuer = caller.identity.identity
        async with self._store.transaction():
            proposal = await self._store.links.proposal_of(issuer)
            if proposal is None:
                raise UserError(NOTHING)
            if now - proposal.proposed_at >= LIFETIME:
                raise UserError(_("That request has expired: it had to be confirmed within 10 minutes. Type “link” "
                                  "for a new code."))
            survivor = await self._store.people.identity(issuer)
            absorbed = await self._store.people.identity(proposal.claimer)
            if survivor is None or absorbed is None or not await self._store.links.use(proposal.id):
                raise UserError(NOTHING)
            if survivor.person_id == absorbed.person_id:
                return Message(body=(_("These accounts are already one person."),))
            plan = await self._store.links.merge(survivor.person_id, absorbed.person_id, now)
            # Platform names only: erasure must leave no row naming anybody, and a handle would.
            await self._store.audit.record(survivor.person_id, AuditAction.PERSON_LINK, f"person:{survivor.person_id}",
                                           "+".join(plan.survivor_platforms), "+".join(plan.platforms), now)
            # Now one person: the claiming side may see what was joined.
            notice = Message(body=(_("Your accounts on {platforms} are now one person: the link was confirmed. "
                                     "“unlink <platform>” splits them again.", platforms=platforms(plan.platforms)),),
                             fields=plan_fields(plan))
            await self._store.outbox.enqueue([NewDelivery(
                dedupe_key=f"link:{proposal.id}:linked:person:{survivor.person_id}", kind=DeliveryKind.NOTICE,
                payload=NoticePayload(notice), not_before=now, person_id=survivor.person_id,
                platform=proposal.claimer.platform)], now)
        self._wake()
        return Message(body=(_("Done: your accounts on {platforms} are now one person. “unlink <platform>” splits "
                               "them again.", platforms=platforms(plan.platforms)),))

    async def cancel(self, caller: Caller) -> Message:
        """Withdraw the caller's code (claimed or not); the accounts stay apart."""
        if not await self._store.links.withdraw(caller.identity.identity):
            raise UserError(NOTHING)
        return Message(body=(_("Cancelled: your accounts stay separate, and the code no longer works."),))

    async def unlink(self, caller: Caller, platform: str) -> Message:
        """Split the caller's identities on ``platform`` off into a new person (their name, the person's language
        and zone); everything else stays. Refused when it would leave no identity, or there is none there."""
        now = self._clock.now()
        person_id = caller.person.id
        async with self._store.transaction():
            identities = await self._store.people.identities_of(person_id)
            held = sorted({record.identity.platform for record in identities})
            if platform not in held:
                raise UserError(_("You have no {platform} account linked. Your accounts are on {platforms}.",
                                  platform=platform_name(platform), platforms=platforms(held)))
            if held == [platform]:
                raise UserError(_("All your accounts are on {platform}: unlinking them would leave none here.",
                                  platform=platform_name(platform)))
            await self._store.links.split(person_id, platform, now)
            kept = [name for name in held if name != platform]
            await self._store.audit.record(person_id, AuditAction.PERSON_UNLINK, f"person:{person_id}",
                                           "+".join(held), "+".join(kept), now)
        return Message(body=(
            _("Your {platform} account is now a separate person, with your name there, your language and your time "
              "zone. Subscriptions, roles, RSVPs and history stay with your accounts on {platforms}.",
              platform=platform_name(platform), platforms=platforms(kept)),
            _("No confirmation was needed: to undo this, link the accounts again with “link”.")))
