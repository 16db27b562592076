"""Roles follow the person safely (issue 21, point 3): each platform role is held by the identity it came from, so
linking never lowers a member, never raises anyone above what one of their identities or grants gives, and a role a
platform takes away is gone from the linked person too."""

from __future__ import annotations

from bot.commands.context import Caller, IncomingCommand
from bot.model import Identity, Role
from tests.bot.linking.helpers import link, text
from tests.support import Harness

SLACK, DISCORD = "slack", "discord"


async def caller(h: Harness, platform: str, user: str, role: Role) -> Caller:
    """The caller as the platform reports them now (their platform role refreshed on contact)."""
    return await h.app.services.people.caller_for(IncomingCommand(Identity(platform, user), user, platform_role=role))


async def test_a_guest_account_linked_to_a_member_never_lowers_the_member(h: Harness) -> None:
    # The guest issues (their person survives) and the member claims: the member's role comes along.
    await link(h, (SLACK, "guest"), (DISCORD, "member"), issuer_role=Role.OUTSIDER, claimer_role=Role.MEMBER)
    assert (await caller(h, SLACK, "guest", Role.OUTSIDER)).role is Role.MEMBER
    assert (await caller(h, DISCORD, "member", Role.MEMBER)).role is Role.MEMBER
    # The other way round: the member issues, the guest claims.
    await link(h, (DISCORD, "member-2"), (SLACK, "guest-2"), issuer_role=Role.MEMBER, claimer_role=Role.OUTSIDER)
    assert (await caller(h, SLACK, "guest-2", Role.OUTSIDER)).role is Role.MEMBER
    assert "Role: member" in await text(h, "guest-2", "whoami", SLACK)


async def test_linking_never_raises_anyone_above_what_one_identity_or_grant_gives(h: Harness) -> None:
    await link(h, (SLACK, "guest"), (DISCORD, "member"), issuer_role=Role.OUTSIDER, claimer_role=Role.MEMBER)
    merged = await caller(h, SLACK, "guest", Role.OUTSIDER)
    assert merged.role is Role.MEMBER and merged.coordinated == frozenset()
    assert (merged.roles.from_settings, merged.roles.from_grants) == (Role.OUTSIDER, Role.OUTSIDER)
    denied = await h.say("guest", "topic create linked-topic Linked", platform=SLACK)
    assert denied.message.is_error, "a coordinator's command is still refused"

    # A coordinator grant held by one side is the person's, and no more than that.
    await h.say("coord", "whoami", platform=DISCORD, platform_role=Role.OUTSIDER)
    assert not (await h.say("demo-admin", "role grant discord:coord coordinator disinformation")).message.is_error
    await link(h, (SLACK, "out"), (DISCORD, "coord"))
    merged = await caller(h, SLACK, "out", Role.OUTSIDER)
    assert merged.role is Role.MEMBER and len(merged.coordinated) == 1, "a topic coordinator, not more"


async def test_a_platform_role_taken_away_leaves_what_the_other_identity_gives(h: Harness) -> None:
    await link(h, (SLACK, "ana"), (DISCORD, "ana"), issuer_role=Role.OUTSIDER, claimer_role=Role.MEMBER)
    assert (await caller(h, SLACK, "ana", Role.OUTSIDER)).role is Role.MEMBER
    # Discord takes the member role away: the next contact there refreshes the identity's stored role.
    assert (await caller(h, DISCORD, "ana", Role.OUTSIDER)).role is Role.OUTSIDER
    assert (await caller(h, SLACK, "ana", Role.OUTSIDER)).role is Role.OUTSIDER

    # When the other identity is a member on its own platform, the person stays a member.
    await link(h, (SLACK, "bo"), (DISCORD, "bo"), issuer_role=Role.MEMBER, claimer_role=Role.MEMBER)
    assert (await caller(h, DISCORD, "bo", Role.OUTSIDER)).role is Role.MEMBER
    recipient = await h.app.services.people.recipient((await caller(h, SLACK, "bo", Role.MEMBER)).person.id)
    assert {(i.identity.platform, i.platform_role) for i in recipient.identities} == {(SLACK, Role.MEMBER),
                                                                                   (DISCORD, Role.OUTSIDER)}


async def test_settings_file_admins_stay_admins_whichever_side_they_are_on(h: Harness) -> None:
    # demo-admin (named in the settings) claims a Slack guest's code: their console identity moves to the guest's.
    await link(h, (SLACK, "guest"), ("console", "demo-admin"))
    assert (await caller(h, SLACK, "guest", Role.OUTSIDER)).role is Role.ADMIN
    assert (await caller(h, "console", "demo-admin", Role.OUTSIDER)).role is Role.ADMIN
    # test:root (also named) issues; a Discord outsider claims.
    await link(h, ("test", "root"), (DISCORD, "newcomer"))
    assert (await caller(h, DISCORD, "newcomer", Role.OUTSIDER)).role is Role.ADMIN
    assert (await caller(h, "test", "root", Role.OUTSIDER)).roles.from_settings is Role.ADMIN
