"""A merge plan as people read it, before they confirm (and the words the replies share)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.delivery.status import platform_name
from bot.i18n import Text, _, _n, listing
from bot.linking.model import MergePlan
from bot.messages import Field

SETTING_LABELS: dict[str, Text] = {
    "timezone": _("time zone"),
    "language": _("language"),
    "preferred_platform": _("preferred platform"),
    "organisation": _("organisation"),
    "country": _("country"),
}


def platforms(names: Iterable[str]) -> Text:
    """Platforms as a list in the reader's language ("Slack and Discord")."""
    return listing([platform_name(name) for name in sorted(set(names))])


def _topics(slugs: tuple[str, ...], named: frozenset[str] | None) -> Text:
    """Topic slugs as a list, naming only those in ``named`` (every one when ``None``) and counting the rest."""
    shown = [slug for slug in slugs if named is None or slug in named]
    hidden = len(slugs) - len(shown)
    if not hidden:
        return listing(shown)
    if not shown:
        return _n("{n} topic", "{n} topics", hidden)
    return listing([*shown, _n("{n} more", "{n} more", hidden)])


def plan_fields(plan: MergePlan, *, confirmed: bool) -> tuple[Field, ...]:
    """What the merge moves, keeps and drops: counts and the topics the person follows, never another person.

    Shown to the identity that gave the code before it confirms (``confirmed`` false) and to the merged person
    after. The claimer of a possibly leaked code must learn none of it before the merge (the claim reply shows
    nothing of the plan); the issuer may be the stranger, talked someone into typing its code, so before the
    confirmation it sees the public topics by name and only a count of the others (the claimer's private and
    members' topics)."""
    named = None if confirmed else plan.public
    fields = [Field(_("Accounts"), platforms(plan.platforms))]
    subscriptions: list[Text] = []
    if plan.new_topics:
        subscriptions.append(_("adds {topics}", topics=_topics(plan.new_topics, named)))
    if plan.more_often:
        subscriptions.append(_("the more frequent delivery for {topics}", topics=_topics(plan.more_often, named)))
    fields.append(Field(_("Subscriptions"), listing(subscriptions) if subscriptions else _("no change")))
    moved = [text for n, text in (
        (plan.identities, _n("{n} account", "{n} accounts", plan.identities)),
        (plan.grants, _n("{n} role", "{n} roles", plan.grants)),
        (plan.rsvps, _n("{n} RSVP", "{n} RSVPs", plan.rsvps)),
        (plan.requests, _n("{n} subscription request", "{n} subscription requests", plan.requests)),
        (plan.invitations, _n("{n} invitation", "{n} invitations", plan.invitations)),
        (plan.history, _n("{n} past message", "{n} past messages", plan.history)),
        (plan.queued, _n("{n} queued message", "{n} queued messages", plan.queued)),
    ) if n]
    fields.append(Field(_("Moves over"), listing(moved) if moved else _("nothing else")))
    if plan.withdrawn:
        fields.append(Field(_("Requests withdrawn"), _("{topics}: followed already, or asked twice",
                                                        topics=_topics(plan.withdrawn, named))))
    if plan.duplicates:
        fields.append(Field(_("Dropped"), _n("{n} queued message you would otherwise get twice",
                                             "{n} queued messages you would otherwise get twice", plan.duplicates)))
    settings = _("the name and settings of the account that gave the code")
    if plan.settings:
        settings = _("the name and settings of the account that gave the code; from the other one: {settings}",
                     settings=listing([SETTING_LABELS[name] for name in plan.settings]))
    fields.append(Field(_("Settings"), settings))
    return tuple(fields)
