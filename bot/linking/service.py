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
from bot.linking.codes import canonical, code_hash, new_code, new_reference, shown
from bot.linking.declarations import CANCEL, CONFIRM, LINK
from bot.linking.model import MergePlan
from bot.linking.plan import plan_fields, platforms
from bot.messages import Action, ActionStyle, Message, stamp
from bot.model import Identity, IdentityRecord
from bot.ports import Store

LIFETIME = timedelta(minutes=10)
"""How long a code can be claimed, and how long a claim waits for the issuer's confirmation."""

NOT_VALID = _("That code is not valid. Codes work once, for 10 minutes.")
NOTHING = _("Nothing to confirm.")
REPLACED = _("That request was replaced by a newer one: this button no longer does anything. Nothing was joined.")
CLAIM_WARNING = _("Only type codes your own accounts gave you. If someone else gave you this code, type “link "
                  "cancel” now: confirming would join your account to theirs, with everything in it.")
"""Against consent phishing: a stranger who talks someone into typing their code gains that person's account."""


@dataclass(frozen=True, slots=True)
class LinkLimits:
    """How many wrong codes are answered before refusing: per claiming identity in ``identity_window``, and from
    everyone together in ``everyone_window``.

    The limit on everyone applies only to a claimer who already typed a wrong code in its identity window: a first
    try is always looked at, so a few throwaway accounts typing nonsense cannot block everybody's linking. Brute
    force stays bounded: a code is 40 bits (about 10^12) and lives 10 minutes; each identity gets 5 tries per 15
    minutes, and every try after its first also counts against 30 a minute from everyone. Guessing at that rate,
    one code in 10^12 takes tens of thousands of years on average; an account per guess adds one guess per account
    per 15 minutes, and accounts are not free (a workspace or server to join, an address to confirm). A right guess
    only proposes: the issuer still has to confirm, in a message naming the claiming account."""

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
            reference = new_reference()
            if found is not None and not same_person \
                    and await self._store.links.propose(found.id, claimer, now, reference):
                plan = await self._store.links.plan(found.issuer_person_id, caller.person.id)
                await self._ask_issuer(found.id, reference, found.issuer, found.issuer_person_id, caller.identity,
                                       plan, now)
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
                               "changes.", platform=platform_name(found.issuer.platform)), CLAIM_WARNING))

    async def _refusal(self, claimer: Identity, now: datetime) -> UserError | None:
        """A translated refusal when the claimer typed too many wrong codes lately, or typed one lately while
        everyone together typed too many, saying when to try again; ``None`` when the code may be looked at
        (always, for a claimer without a wrong code in its window: see :class:`LinkLimits`)."""
        limits = self._limits
        mine = await self._store.links.wrong_since(now - limits.identity_window, claimer)
        if len(mine) >= limits.per_identity:
            return UserError(_("Too many wrong codes. You can try again at {time}.",
                               time=stamp(mine[-limits.per_identity] + limits.identity_window, "t")))
        if not mine:
            return None
        everyone = await self._store.links.wrong_since(now - limits.everyone_window)
        if len(everyone) >= limits.everyone:
            return UserError(_("Too many wrong codes were typed in the last minute. You can try again at {time}.",
                               time=stamp(everyone[-limits.everyone] + limits.everyone_window, "T")))
        return None

    async def _ask_issuer(self, code_id: int, reference: str, issuer: Identity, issuer_person: int,
                          claimer: IdentityRecord, plan: MergePlan, now: datetime) -> None:
        """Queue the confirmation request to the issuing identity itself (its platform and account: another account
        of the issuer's, or the claimer's, must not be the one that confirms). It names the claiming account, so
        the issuer can tell its own from a stranger's, and its buttons carry the proposal's reference, so they
        confirm this claim and never a later one (a new code, claimed by someone else)."""
        message = Message(
            title=_("Link your accounts?"),
            body=(_("The {platform} account “{name}” typed your link code. If that account is yours, confirm within "
                    "10 minutes and your accounts become one person. If it is not, cancel.",
                    platform=platform_name(claimer.identity.platform), name=claimer.display_name),),
            fields=plan_fields(plan, confirmed=False),
            actions=(Action(_("Confirm"), invoke(LINK, code=f"{CONFIRM} {reference}"), ActionStyle.PRIMARY),
                     Action(_("Cancel"), invoke(LINK, code=f"{CANCEL} {reference}"))))
        await self._store.outbox.enqueue([NewDelivery(
            dedupe_key=f"link:{code_id}:proposed:person:{issuer_person}", kind=DeliveryKind.NOTICE,
            payload=NoticePayload(message), not_before=now, person_id=issuer_person, platform=issuer.platform,
            channel_id=issuer.external_id, expires_at=now + LIFETIME)], now)

    async def confirm(self, caller: Caller, reference: str | None = None) -> Message:
        """Merge the claimer's person into the caller's, once: the proposal turns ``used`` in the same transaction
        as the merge, so a second confirm (at once or later) finds nothing to confirm. With ``reference`` (the
        button) only the proposal of that reference; typed without one, the proposal waiting (there is at most one
        per identity)."""
        now = self._clock.now()
        issuer = caller.identity.identity
        async with self._store.transaction():
            proposal = await self._store.links.proposal_of(issuer)
            if proposal is None:
                raise UserError(NOTHING)
            if reference is not None and reference != proposal.reference:
                raise UserError(REPLACED)
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
                             fields=plan_fields(plan, confirmed=True))
            await self._store.outbox.enqueue([NewDelivery(
                dedupe_key=f"link:{proposal.id}:linked:person:{survivor.person_id}", kind=DeliveryKind.NOTICE,
                payload=NoticePayload(notice), not_before=now, person_id=survivor.person_id,
                platform=proposal.claimer.platform, channel_id=proposal.claimer.external_id)], now)
        self._wake()
        return Message(body=(_("Done: your accounts on {platforms} are now one person. “unlink <platform>” splits "
                               "them again.", platforms=platforms(plan.platforms)),))

    async def cancel(self, caller: Caller, reference: str | None = None) -> Message:
        """Withdraw the caller's code (claimed or not) and the caller's own claim of someone else's code not yet
        confirmed (a claimer talked into typing a stranger's code backs out); the accounts stay apart. With
        ``reference`` (the button) only the proposal of that reference: an old message's Cancel leaves a newer
        code alone."""
        mine = caller.identity.identity
        async with self._store.transaction():
            issued = await self._store.links.withdraw(mine, reference)
            claimed = await self._store.links.withdraw_claim(mine, reference)
            replaced = reference is not None and not (issued or claimed) \
                and await self._store.links.proposal_of(mine) is not None
        if replaced:
            raise UserError(REPLACED)
        if not (issued or claimed):
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
