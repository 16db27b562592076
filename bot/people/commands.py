"""People commands: ``whoami``, ``settings timezone|language|platform``, ``role grant|revoke``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.context import Context, ZoneSource
from bot.commands.routes import Route, route
from bot.commands.spec import Arg, ArgKind
from bot.delivery.model import ALL_PLATFORMS
from bot.delivery.preferences import CHOICES, PreferredPlatforms
from bot.delivery.status import platform_name
from bot.errors import UserError
from bot.i18n import Text, Translator, _, available_languages
from bot.messages import Field, Message
from bot.model import Role
from bot.people.languages import LanguageChoice, LanguageSource, language_name, own_names
from bot.people.service import PeopleService
from bot.topics.service import TopicService

GRANTABLE = tuple(role.name.lower() for role in Role if role > Role.OUTSIDER)
"""The roles a grant gives, spelt as :meth:`Role.parse` reads them: taken from :class:`Role`, so they cannot
drift from it."""

ZONE = Arg("zone", _("An IANA time zone name"), ArgKind.ZONE)
LANGUAGE = Arg("language", _("One of: {languages}", languages=own_names(available_languages())), ArgKind.LANGUAGE,
               max_length=10)
"""Its help lists each shipped language by its own name (and code), so a reader finds theirs in any language."""
PERSON = Arg("person", _("Who: a name, a mention or platform:id"), ArgKind.PERSON)
ROLE = Arg("role", _("member, coordinator or admin"), ArgKind.CHOICE, choices=GRANTABLE)
PLATFORM = Arg("platform", _("slack, discord, email, or all: every account"), ArgKind.CHOICE, choices=CHOICES)
ROLE_TOPIC = Arg("topic", _("Limit a coordinator role to one topic"), ArgKind.TOPIC, required=False)


@dataclass(frozen=True, slots=True)
class PeopleCommandDeps:
    people: PeopleService
    topics: TopicService
    translator: Translator


@dataclass(frozen=True, slots=True)
class PlatformCommandDeps:
    """``settings platform``'s own: it writes through the delivery feature's :class:`PreferredPlatforms`."""

    preferences: PreferredPlatforms


async def whoami(ctx: Context[PeopleCommandDeps]) -> Message:
    caller = ctx.caller
    people = ctx.deps.people
    seen = await people.recipient(caller.person.id, via=caller.identity.identity)
    identities = seen.identities
    zone_note = {ZoneSource.OWN: _("your setting"), ZoneSource.PLATFORM: _("from your platform profile"),
                 ZoneSource.DEFAULT: _("the coalition default")}[caller.timezone_source]
    roles: list[Text | str] = [caller.role.label]
    for topic_id in sorted(caller.coordinated):
        topic = await ctx.deps.topics.get(topic_id)
        if topic is not None:
            roles.append(_("coordinator of {topic}", topic=topic.slug))
    fields = [
        Field(_("Name"), caller.person.display_name),
        Field(_("Accounts"), ", ".join(str(i.identity) for i in identities)),
        Field(_("Role"), _("{roles}", roles=", ".join(ctx.deps.translator.render(r, caller.language)
                                                    for r in roles))),
        Field(_("Time zone"), _("{zone} ({source})", zone=caller.timezone, source=zone_note)),
        Field(_("Language"), _("{language} ({source})", language=language_name(caller.language, caller.language),
                               source=_language_note(seen.language_through(caller.identity.identity)))),
        Field(_("Direct messages"), _platform_note(caller.person.preferred_platform)),
    ]
    body: tuple[Text | str, ...] = ()
    if caller.timezone_source is ZoneSource.DEFAULT:
        body = (_("Tip: set your own time zone with “settings timezone Africa/Nairobi” (your zone's name)."),)
    return Message(title=_("Who you are"), body=body, fields=tuple(fields))


def _language_note(choice: LanguageChoice) -> Text:
    """Where the language comes from, as whoami says it (like the zone's source beside the zone)."""
    if choice.source is LanguageSource.OWN:
        return _("your setting")
    if choice.source is LanguageSource.PLATFORM and choice.platform:
        return _("from your {platform} settings", platform=platform_name(choice.platform))
    return _("the coalition default")


def _platform_note(preferred: str | None) -> Text:
    """Where DMs go, as whoami says it: the preferred platform, every account, or the first reachable."""
    if preferred == ALL_PLATFORMS:
        return _("to every account (settings platform)")
    if preferred:
        return _("through {platform} (settings platform)", platform=platform_name(preferred))
    return _("through your first reachable account (settings platform)")


async def set_platform(ctx: Context[PlatformCommandDeps]) -> Message:
    chosen = await ctx.deps.preferences.choose(ctx.caller, ctx.value(PLATFORM))
    if chosen == ALL_PLATFORMS:
        return Message(body=(_("Announcements now reach you on every account you have with the bot. Reminders "
                               "and other messages still come once, through your first reachable account."),))
    return Message(body=(_("Your direct messages now go through {platform}. When it cannot reach you for good "
                           "(direct messages closed, account gone), they go to another of your accounts.",
                           platform=platform_name(chosen)),))


async def set_timezone(ctx: Context[PeopleCommandDeps]) -> Message:
    zone = ctx.zone(ZONE)
    await ctx.deps.people.set_timezone(ctx.caller, zone)
    return Message(body=(_("Your time zone is now {zone}. Times are shown to you in it.", zone=zone.key),))


async def set_language(ctx: Context[PeopleCommandDeps]) -> Message:
    language = ctx.language(LANGUAGE, among=ctx.deps.translator.languages)
    await ctx.deps.people.set_language(ctx.caller, language)
    # Answer in the new language straight away (the reply is rendered for the caller after this returns),
    # naming it as its readers do: "Votre langue est désormais : français", never a bare code.
    return Message(body=(_("Your language is now {language}.", language=language_name(language, language)),))


async def _role_target(ctx: Context[PeopleCommandDeps]) -> tuple[int, str, Role, int | None, str]:
    person = await ctx.deps.people.find(ctx.value(PERSON), ctx.caller)
    role = Role.parse(ctx.value(ROLE))  # one of GRANTABLE: the framework refused any other with the choices
    topic_id, topic_slug = None, ""
    only = ctx.get(ROLE_TOPIC)
    if only:
        if role is not Role.COORDINATOR:
            raise UserError(_("Only the coordinator role can be limited to one topic."))
        topic = await ctx.deps.topics.find_visible(ctx.caller, only)
        topic_id, topic_slug = topic.id, topic.slug
    return person.id, person.display_name, role, topic_id, topic_slug


async def grant_role(ctx: Context[PeopleCommandDeps]) -> Message:
    person_id, name, role, topic_id, slug = await _role_target(ctx)
    added = await ctx.deps.people.grant(ctx.caller, person_id, role, topic_id, slug)
    scope = _(" for “{topic}”", topic=slug) if slug else ""
    if not added:
        return Message(body=(_("{person} already has the {role} role{scope}. Nothing changed.", person=name,
                               role=role.label, scope=scope),))
    return Message(body=(_("{person} now has the {role} role{scope}.", person=name, role=role.label,
                           scope=scope),))


async def revoke_role(ctx: Context[PeopleCommandDeps]) -> Message:
    person_id, name, role, topic_id, slug = await _role_target(ctx)
    removed = await ctx.deps.people.revoke(ctx.caller, person_id, role, topic_id, slug)
    scope = _(" for “{topic}”", topic=slug) if slug else ""
    target = await ctx.deps.people.caller_for_person(person_id)
    if removed:
        return Message(body=(_("{person} no longer has the {role} role{scope} from a grant.", person=name,
                               role=role.label, scope=scope),))
    if target.roles.from_settings >= role:
        return Message(body=(_("{person} is {role} through the settings file; a grant cannot remove that. "
                               "Change [coalition] admins instead.", person=name, role=role.label),))
    if target.roles.from_platform >= role:
        return Message(body=(_("{person} is {role} through their platform (workspace or server role); "
                               "this cannot be revoked here. Change it on the platform.", person=name,
                               role=role.label),))
    return Message(body=(_("{person} has no granted {role} role{scope}. Nothing changed.", person=name,
                           role=role.label, scope=scope),))


def routes() -> list[Route[PeopleCommandDeps]]:
    return [
        route(("whoami",), _("Show your name, accounts, role, time zone and language."), whoami),
        # Personal settings are everyone's, outsiders included: the public audience reads in its own time and
        # language too. They change nothing anyone else sees.
        route(("settings", "timezone"), _("Set your time zone, e.g. Africa/Nairobi."), set_timezone,
              args=(ZONE,)),
        route(("settings", "language"), _("Set the language the bot uses with you."), set_language,
              args=(LANGUAGE,)),
        route(("role", "grant"), _("Give someone a role, optionally for one topic."), grant_role,
              role=Role.ADMIN, args=(PERSON, ROLE, ROLE_TOPIC)),
        route(("role", "revoke"), _("Take back a role given by a grant."), revoke_role, role=Role.ADMIN,
              args=(PERSON, ROLE, ROLE_TOPIC)),
    ]



def preference_routes() -> list[Route[PlatformCommandDeps]]:
    """``settings platform``: everyone's, like the other personal settings (it changes nothing others see)."""
    return [
        route(("settings", "platform"), _("Choose the platform your direct messages go through, or all."),
              set_platform, args=(PLATFORM,)),
    ]
