"""Resource commands: ``resources``, ``resource search|show|add|edit|remove``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bot.commands.context import Context
from bot.commands.invoke import InvocationError, invoke
from bot.commands.routes import Route, route
from bot.commands.spec import Arg, ArgKind, Option
from bot.errors import UserError
from bot.i18n import Text, _, listing
from bot.messages import Action, ActionStyle, Field, Message, stamp
from bot.model import Role
from bot.people.languages import language_name
from bot.resources.declarations import (
    BROWSE_TOPIC,
    KIND,
    LANG,
    PAGE,
    QUERY,
    RESOURCE_ID,
    RESOURCE_SEARCH,
    RESOURCE_SHOW,
    RESOURCES,
    SEARCH_TOPIC,
)
from bot.resources.fields import (
    VISIBILITIES,
    parse_summary,
    parse_tags,
    parse_title,
    parse_url,
)
from bot.resources.model import Resource, ResourceFields, ResourceFilter, ResourceKind, ResourceVisibility
from bot.resources.query import describe
from bot.resources.service import ResourceService
from bot.topics.model import Topic
from bot.topics.service import TopicService

MAX_PAGE = 200
SUMMARY_LINE = 160

URL = Arg("url", _("The link, starting with https://"), max_length=2000)
TITLE = Arg("title", _("Title"), rest=True, max_length=300)
VISIBILITY = Option("visibility", _("Who can find it: everyone, or members only"), ArgKind.CHOICE, VISIBILITIES)
TOPICS = Option("topics", _("Topics, separated by commas"), max_length=400)
TAGS = Option("tags", _("Tags, separated by commas"), max_length=400)
SUMMARY = Option("summary", _("A short summary"), max_length=2000)
NEW_TITLE = Option("title", _("New title"), max_length=300)
NEW_SUMMARY = Option("summary", _("A short summary; “-” removes it"), max_length=2000)
NEW_URL = Option("url", _("New link"), max_length=2000)
NEW_TAGS = Option("tags", _("Tags, separated by commas; “-” removes them"), max_length=400)


@dataclass(frozen=True, slots=True)
class ResourceCommandDeps:
    resources: ResourceService
    topics: TopicService
    default_language: str
    """A resource's language when the person adding it does not say."""


def summary_line(summary: str) -> str:
    line = " ".join(summary.split())
    if len(line) <= SUMMARY_LINE:
        return line
    return line[:SUMMARY_LINE].rsplit(" ", 1)[0] + "…"


# --- rendering ---------------------------------------------------------------------------------------


def describe_resource(resource: Resource, topics: dict[int, Topic]) -> Text:
    names = ", ".join(topics[t].slug for t in resource.topic_ids if t in topics)
    topic_text: Text | str = names or _("no topic")
    summary = summary_line(resource.summary)
    if summary:
        return _("#{id} {title}\n{kind} · {language} · {topics}\n{summary}\n{url}", id=resource.id,
                 title=resource.title, kind=resource.kind.label, language=resource.language, topics=topic_text,
                 summary=summary, url=resource.url)
    return _("#{id} {title}\n{kind} · {language} · {topics}\n{url}", id=resource.id, title=resource.title,
             kind=resource.kind.label, language=resource.language, topics=topic_text, url=resource.url)


def visibility_label(visibility: ResourceVisibility) -> Text:
    return {ResourceVisibility.PUBLIC: _("public"), ResourceVisibility.MEMBERS: _("members only")}[visibility]



async def _filters(ctx: Context[ResourceCommandDeps]) -> tuple[ResourceFilter, dict[str, str]]:
    """The filters, and the same filters as ``resource search`` options for follow-up buttons."""
    topic_id = None
    options: dict[str, str] = {}
    only = ctx.get(SEARCH_TOPIC)
    if only:
        topic = await ctx.deps.topics.find_visible(ctx.caller, only, allow_archived=True)
        topic_id = topic.id
        options["topic"] = topic.slug
    kind = ctx.optional_choice(KIND, ResourceKind)
    if kind is not None:
        options["kind"] = kind.value
    language = ctx.optional_language(LANG)
    if language is not None:
        options["lang"] = language
    return ResourceFilter(topic_id=topic_id, kind=kind, language=language), options


# --- handlers ----------------------------------------------------------------------------------------


async def search_resources(ctx: Context[ResourceCommandDeps]) -> Message:
    service = ctx.deps.resources
    query = ctx.value(QUERY)
    page = ctx.page(PAGE, MAX_PAGE)
    filters, options = await _filters(ctx)
    result = await service.search(ctx.caller, query, filters, page)
    topics = await service.visible_topics(ctx.caller)
    shown = describe(result.terms)
    lines: list[Text | str] = []
    actions: list[Action] = []
    if result.suggestion is not None:
        suggestion = describe(result.suggestion)
        if result.corrected:
            lines.append(_("Nothing matches “{query}”. Did you mean “{suggestion}”? Showing results for it.",
                           query=shown, suggestion=suggestion))
        else:
            lines.append(_("Did you mean “{suggestion}”?", suggestion=suggestion))
            actions += _search_action(_("Search for “{query}”", query=suggestion), options, suggestion)
    if not result.page.items:
        if page > 1:
            return Message(body=(_("There are no more results for “{query}”.", query=shown),))
        lines.append(_("No resources match “{query}”. Try fewer or shorter words, or “resources” to browse.",
                       query=shown))
        return Message(title=_("Resource search"), body=tuple(lines), actions=tuple(actions))
    lines += [describe_resource(resource, topics) for resource in result.page.items]
    # The query as typed: a later page recomputes the same correction (see run_search).
    if page > 1:
        actions += _search_action(_("Previous page"), {"page": page - 1, **options}, query)
    if result.page.has_more:
        actions += _search_action(_("Next page"), {"page": page + 1, **options}, query, ActionStyle.PRIMARY)
    return Message(title=_("Resources matching “{query}” — page {page}", query=shown, page=page),
                   body=tuple(lines), actions=tuple(actions))


def _search_action(label: Text, options: Mapping[str, str | int], query: str,
                   style: ActionStyle = ActionStyle.DEFAULT) -> list[Action]:
    """A button that searches again; none for the rare query the grammar cannot write back (quotes inside
    together with a word that reads as an option), rather than failing the whole search."""
    try:
        line = invoke(RESOURCE_SEARCH, **options, query=query)
    except InvocationError:
        return []
    return [Action(label, line, style)]


async def browse_resources(ctx: Context[ResourceCommandDeps]) -> Message:
    service = ctx.deps.resources
    page = ctx.page(PAGE, MAX_PAGE)
    topics = await service.visible_topics(ctx.caller)
    topic_id, shown = None, {}
    only = ctx.get(BROWSE_TOPIC)
    if only:
        topic = await ctx.deps.topics.find_visible(ctx.caller, only, allow_archived=True)
        topic_id, shown = topic.id, {"topic": topic.slug}
    found = await service.browse(ctx.caller, topic_id, page)
    lines: list[Text | str] = []
    actions: list[Action] = []
    if topic_id is None and page == 1:
        counts = await service.count_by_topic(ctx.caller)
        listed = sorted(f"{topics[t].slug} ({n})" for t, n in counts.items() if t in topics and not topics[t].archived)
        if listed:
            lines.append(_("By topic: {topics}. Type “resources <topic>” to see one.", topics=" · ".join(listed)))
    if not found.items:
        lines.append(_("There are no resources here yet.") if page == 1 else _("There are no more resources."))
        return Message(title=_("Resource library"), body=tuple(lines))
    lines += [describe_resource(resource, topics) for resource in found.items]
    if page > 1:
        actions.append(Action(_("Previous page"), invoke(RESOURCES, **shown, page=page - 1)))
    if found.has_more:
        actions.append(Action(_("Next page"), invoke(RESOURCES, **shown, page=page + 1), ActionStyle.PRIMARY))
    title = _("Resources in “{topic}” — page {page}", topic=shown["topic"], page=page) if shown \
        else _("Resource library — newest first, page {page}", page=page)
    return Message(title=title, body=tuple(lines), actions=tuple(actions))


async def show_resource(ctx: Context[ResourceCommandDeps]) -> Message:
    service = ctx.deps.resources
    resource = await service.get_visible(ctx.caller, ctx.number(RESOURCE_ID))
    topics = await service.visible_topics(ctx.caller)
    names = [topics[t].slug for t in resource.topic_ids if t in topics]
    author = await service.author_name(resource)
    added: Text = _("{when} by {person}", when=stamp(resource.created_at, "D"), person=author) \
        if author is not None else _("{when}", when=stamp(resource.created_at, "D"))
    fields = [Field(_("Link"), resource.url), Field(_("Kind"), resource.kind.label),
              Field(_("Language"), _("{language} ({code})", code=resource.language,
                                     language=language_name(resource.language, ctx.caller.language))),
              Field(_("Topics"), listing(names) if names else _("no topic")),
              Field(_("Tags"), listing(resource.tags) if resource.tags else "—"),
              Field(_("Visible to"), _("everyone") if resource.visibility is ResourceVisibility.PUBLIC
                    else _("members only")),
              Field(_("Added"), added)]
    body: tuple[Text | str, ...] = (resource.summary,) if resource.summary else ()
    actions = tuple(Action(_("More in {topic}", topic=name), invoke(RESOURCES, topic=name)) for name in names[:3])
    return Message(title=_("#{id} {title}", id=resource.id, title=resource.title), body=body, fields=tuple(fields),
                   actions=actions)


async def add_resource(ctx: Context[ResourceCommandDeps]) -> Message:
    service = ctx.deps.resources
    url, key = parse_url(ctx.value(URL))
    title = parse_title(ctx.value(TITLE))
    topic_ids = await service.topic_ids_for(ctx.caller, ctx.get(TOPICS) or "")
    if not topic_ids and ctx.caller.role < Role.COORDINATOR:
        raise UserError(_("Say which of your topics it belongs to, e.g. topics:{topic}.",
                          topic=await _a_coordinated_slug(ctx)), show_usage=True)
    fields = ResourceFields(
        url=url, url_key=key, title=title, summary=parse_summary(ctx.get(SUMMARY) or ""),
        kind=ctx.optional_choice(KIND, ResourceKind) or ResourceKind.REPORT, topic_ids=topic_ids,
        tags=parse_tags(ctx.get(TAGS) or ""),
        language=ctx.optional_language(LANG) or ctx.deps.default_language,
        visibility=ctx.optional_choice(VISIBILITY, ResourceVisibility) or ResourceVisibility.MEMBERS)
    resource = await service.add(ctx.caller, fields)
    body: list[Text | str] = [_("Added #{id} “{title}” ({visibility}).", id=resource.id, title=resource.title,
                                visibility=visibility_label(resource.visibility))]
    if resource.visibility is ResourceVisibility.MEMBERS:
        body.append(_("Only members can find it. To show it to everyone: “resource edit {id} visibility:public”.",
                      id=resource.id))
    return Message(body=tuple(body), actions=(Action(_("Show"), invoke(RESOURCE_SHOW, id=resource.id)),))


T = TypeVar("T")
CLEAR = "-"
"""``summary:-`` or ``tags:-`` in ``resource edit`` removes the summary or the tags."""


def _cleared_or(raw: str | None, empty: T, parse: Callable[[str], T], unchanged: T) -> T:
    if raw is None:
        return unchanged
    return empty if raw.strip() == CLEAR else parse(raw)


async def _a_coordinated_slug(ctx: Context[ResourceCommandDeps]) -> str:
    for topic_id in sorted(ctx.caller.coordinated):
        topic = await ctx.deps.topics.get(topic_id)
        if topic is not None:
            return topic.slug
    return "disinformation"


async def edit_resource(ctx: Context[ResourceCommandDeps]) -> Message:
    service = ctx.deps.resources
    resource = await service.managed(ctx.caller, ctx.number(RESOURCE_ID))
    if not any(ctx.get(option) is not None for option in ctx.command.options):
        raise UserError(_("Say what to change, e.g. title:“New title” or visibility:public."), show_usage=True)
    new_url, new_topics, new_title = ctx.get(NEW_URL), ctx.get(TOPICS), ctx.get(NEW_TITLE)
    url, key = parse_url(new_url) if new_url else (resource.url, resource.url_key)
    topic_ids = await service.topic_ids_for(ctx.caller, new_topics) if new_topics else resource.topic_ids
    if ctx.caller.role < Role.COORDINATOR and not topic_ids:
        raise UserError(_("Say which of your topics it belongs to, e.g. topics:{topic}.",
                          topic=await _a_coordinated_slug(ctx)), show_usage=True)
    updated = dataclasses.replace(
        resource.fields, url=url, url_key=key,
        title=parse_title(new_title) if new_title else resource.title,
        summary=_cleared_or(ctx.get(NEW_SUMMARY), "", parse_summary, resource.summary),
        kind=ctx.optional_choice(KIND, ResourceKind) or resource.kind, topic_ids=topic_ids,
        tags=_cleared_or(ctx.get(NEW_TAGS), (), parse_tags, resource.tags),
        language=ctx.optional_language(LANG) or resource.language,
        visibility=ctx.optional_choice(VISIBILITY, ResourceVisibility) or resource.visibility)
    if updated == resource.fields:
        return Message(body=(_("Resource #{id} already says that. Nothing changed.", id=resource.id),))
    await service.update(ctx.caller, resource, updated)
    return Message(body=(_("Resource #{id} updated.", id=resource.id),),
                   actions=(Action(_("Show"), invoke(RESOURCE_SHOW, id=resource.id)),))


async def remove_resource(ctx: Context[ResourceCommandDeps]) -> Message:
    service = ctx.deps.resources
    resource = await service.managed(ctx.caller, ctx.number(RESOURCE_ID))
    await service.remove(ctx.caller, resource)
    return Message(body=(_("Removed #{id} “{title}” from the library.", id=resource.id, title=resource.title),))


def routes() -> list[Route[ResourceCommandDeps]]:
    return [
        Route(RESOURCES, browse_resources),
        Route(RESOURCE_SEARCH, search_resources),
        Route(RESOURCE_SHOW, show_resource),
        route(("resource", "add"), _("Add a report, toolkit or link to the library."), add_resource,
              role=Role.COORDINATOR,
              args=(URL, TITLE), options=(SUMMARY, KIND, TOPICS, TAGS, LANG, VISIBILITY)),
        route(("resource", "edit"), _("Change a resource's title, link, summary, kind, topics, tags, language or "
                                      "visibility."), edit_resource, role=Role.COORDINATOR, args=(RESOURCE_ID,),
              options=(NEW_TITLE, NEW_SUMMARY, NEW_URL, KIND, TOPICS, NEW_TAGS, LANG, VISIBILITY)),
        route(("resource", "remove"), _("Remove a resource from the library."), remove_resource,
              role=Role.COORDINATOR, args=(RESOURCE_ID,)),
    ]
