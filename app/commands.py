"""Every feature's router, joined explicitly: the declarations for the manifest and help, and the same
routers bound to the services each feature's handlers use."""

from __future__ import annotations

from app.services import Services
from bot.announcements import commands as announcements
from bot.audit import commands as audit
from bot.channels import commands as channels
from bot.commands import help
from bot.commands.autocomplete import Autocomplete, Suggestion, fixed, time_zones
from bot.commands.context import Caller
from bot.commands.routes import BoundCommand, bind
from bot.commands.spec import ArgKind, Command
from bot.delivery import commands as delivery
from bot.linking import commands as linking
from bot.meetings import commands as meetings
from bot.people import commands as people
from bot.privacy import commands as privacy
from bot.resources import commands as resources
from bot.subscriptions import commands as subscriptions
from bot.topics import commands as topics


def all_commands() -> list[Command]:
    """Every declared command, in the order help lists them. Needs no service (the Slack manifest)."""
    return [r.command for r in help.routes()] + [r.command for r in topics.routes()] \
        + [r.command for r in subscriptions.routes()] + [r.command for r in resources.routes()] \
        + [r.command for r in announcements.routes()] + [r.command for r in channels.routes()] \
        + [r.command for r in meetings.routes()] + [r.command for r in people.routes()] \
        + [r.command for r in people.preference_routes()] \
        + [r.command for r in delivery.routes()] + [r.command for r in audit.routes()] \
        + [r.command for r in privacy.routes()] + [r.command for r in linking.routes()]


def bound_commands(s: Services) -> list[BoundCommand]:
    """Each router bound to exactly the services its handlers use."""
    return [
        *bind(help.routes(), help.HelpDeps(s.registry)),
        *bind(topics.routes(), topics.TopicCommandDeps(s.topics, s.people, s.channels)),
        *bind(subscriptions.routes(), subscriptions.SubscriptionCommandDeps(s.subscriptions, s.topics,
                                                                            s.people)),
        *bind(resources.routes(), resources.ResourceCommandDeps(s.resources, s.topics,
                                                                s.config.default_language)),
        *bind(announcements.routes(), announcements.AnnouncementCommandDeps(s.announcements, s.topics,
                                                                            s.announcement_retry,
                                                                            s.outbox_reports)),
        *bind(channels.routes(), channels.ChannelCommandDeps(s.channels, s.topics)),
        *bind(meetings.routes(), meetings.MeetingCommandDeps(s.meetings, s.topics, s.people, s.outbox_reports)),
        *bind(people.routes(), people.PeopleCommandDeps(s.people, s.topics, s.translator)),
        *bind(people.preference_routes(), people.PlatformCommandDeps(s.preferences)),
        *bind(delivery.routes(), delivery.DeliveryCommandDeps(s.outbox_reports)),
        *bind(audit.routes(), audit.AuditCommandDeps(s.audit, s.people, s.topics)),
        *bind(privacy.routes(), privacy.PrivacyCommandDeps(s.privacy)),
        *bind(linking.routes(), linking.LinkCommandDeps(s.links)),
    ]


def autocomplete(s: Services) -> Autocomplete:
    """Where suggestions for each kind of argument come from; each feature applies its own visibility."""

    async def meeting_candidates(caller: Caller) -> list[Suggestion]:
        return await s.meetings.suggestions([t for t in await s.topics.visible(caller) if not t.archived])

    return Autocomplete({
        ArgKind.TOPIC: s.topics.suggestions,
        ArgKind.ZONE: time_zones(),
        ArgKind.LANGUAGE: fixed(s.translator.languages),
        ArgKind.MEETING: meeting_candidates,
        ArgKind.RESOURCE: s.resources.suggestions,
    })
