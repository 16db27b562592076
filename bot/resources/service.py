"""The resource library: who may see and change which resource, and the reads and writes behind add,
search, show, edit, remove and browse.

Who sees what is decided once, in :meth:`ResourceService.scope_for`, and applied inside every query. A
topic coordinator may add, edit and remove only resources whose topics they all coordinate.
"""

from __future__ import annotations

from bot.audit import AuditAction
from bot.clock import Clock
from bot.commands.autocomplete import Suggestion
from bot.commands.context import Caller
from bot.errors import PermissionDenied, UserError
from bot.i18n import _
from bot.model import Role
from bot.ports import Store
from bot.resources.fields import LIST_SPLIT
from bot.resources.model import Resource, ResourceFields, ResourceFilter, ResourcePage, ResourceScope
from bot.resources.query import parse_query
from bot.resources.search import PAGE_SIZE, SearchResult, run_search
from bot.topics.access import coordinates
from bot.topics.model import Topic
from bot.topics.service import TopicService

SUGGESTION_CANDIDATES = 500  # the newest ones; a title fragment narrows them


class ResourceService:
    def __init__(self, store: Store, clock: Clock, topics: TopicService) -> None:
        self._store = store
        self._clock = clock
        self._topics = topics

    async def visible_topics(self, caller: Caller) -> dict[int, Topic]:
        """Topics whose resources the caller may see: those they may name, as archiving a topic keeps its
        resources findable."""
        return {known.topic.id: known.topic for known in await self._topics.known(caller)}

    async def scope_for(self, caller: Caller) -> ResourceScope:
        return ResourceScope(include_members=caller.role >= Role.MEMBER,
                             topic_ids=frozenset(await self.visible_topics(caller)))

    async def get_visible(self, caller: Caller, resource_id: int) -> Resource:
        resource = await self._store.resources.get(resource_id, await self.scope_for(caller))
        if resource is None:
            raise UserError(_("There is no resource #{id}.", id=resource_id))
        return resource

    async def managed(self, caller: Caller, resource_id: int) -> Resource:
        """A resource the caller may change: all its topics coordinated by them, or a global coordinator."""
        resource = await self.get_visible(caller, resource_id)
        if caller.role < Role.COORDINATOR:
            foreign = [t for t in resource.topic_ids if t not in caller.coordinated]
            if not resource.topic_ids or foreign:
                # Name the topic only if the caller may know it exists.
                topic = (await self.visible_topics(caller)).get(foreign[0]) if foreign else None
                raise PermissionDenied(Role.COORDINATOR, topic.slug if topic is not None else None)
        return resource

    async def topic_ids_for(self, caller: Caller, raw: str) -> tuple[int, ...]:
        """Topic ids from ``a,b``; a topic coordinator may only name topics they coordinate."""
        ids: list[int] = []
        for slug in (s.strip() for s in LIST_SPLIT.split(raw.replace(" ", ","))):
            if not slug:
                continue
            topic = await self._topics.find_visible(caller, slug, allow_archived=True)
            if not coordinates(caller.role, caller.coordinated, topic):
                raise PermissionDenied(Role.COORDINATOR, topic.slug)
            ids.append(topic.id)
        return tuple(sorted(set(ids)))

    async def search(self, caller: Caller, query: str, filters: ResourceFilter, page: int, *,
                     own_vocabulary: bool = False) -> SearchResult:
        """One page for ``query`` as ``caller`` may see it; ``own_vocabulary`` for anonymous readers (see
        :func:`run_search`)."""
        terms = parse_query(query)
        if not terms:
            raise UserError(_("Type one or more words to search for, e.g. “resource search election observation”."))
        return await run_search(self._store.resources, terms, await self.scope_for(caller), filters, page,
                                own_vocabulary=own_vocabulary)

    async def audit(self, caller: Caller | None, action: AuditAction, resource_id: int, before: object,
                    after: object) -> None:
        if caller is not None:
            await self._topics.audit(caller, action, f"resource:{resource_id}", before, after)

    async def browse(self, caller: Caller, topic_id: int | None, page: int) -> ResourcePage:
        """One page of the resources ``caller`` may see, newest first, optionally of one topic."""
        return await self._store.resources.browse(await self.scope_for(caller), ResourceFilter(topic_id=topic_id),
                                                  limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)

    async def count_by_topic(self, caller: Caller) -> dict[int, int]:
        """How many resources ``caller`` may see in each topic."""
        return dict(await self._store.resources.count_by_topic(await self.scope_for(caller)))

    async def author_name(self, resource: Resource) -> str | None:
        """Who added it, when that person is still known."""
        person = await self._store.people.get(resource.added_by) if resource.added_by is not None else None
        return person.display_name if person is not None else None

    async def suggestions(self, caller: Caller) -> list[Suggestion]:
        """Autocomplete candidates: the newest resources ``caller`` may see (visibility applied in the query)."""
        page = await self._store.resources.browse(await self.scope_for(caller), ResourceFilter(),
                                                  limit=SUGGESTION_CANDIDATES)
        return [Suggestion(f"#{r.id} {r.title}", str(r.id)) for r in page.items]

    async def add(self, caller: Caller, fields: ResourceFields) -> Resource:
        """A new resource, audited; a link already in the library is refused (see :meth:`_duplicate`)."""
        async with self._store.transaction():
            existing = await self._store.resources.by_url_key(fields.url_key)
            if existing is not None:
                raise await self._duplicate(caller, existing)
            resource = await self._store.resources.add(fields, caller.person.id, self._clock.now())
            await self.audit(caller, AuditAction.RESOURCE_ADD, resource.id, None, resource)
        return resource

    async def update(self, caller: Caller, resource: Resource, fields: ResourceFields) -> Resource:
        """``resource`` with ``fields``, audited; a link another resource holds is refused."""
        async with self._store.transaction():
            existing = await self._store.resources.by_url_key(fields.url_key)
            if existing is not None and existing.id != resource.id:
                raise await self._duplicate(caller, existing)
            after = await self._store.resources.update(resource.id, fields, self._clock.now())
            await self.audit(caller, AuditAction.RESOURCE_EDIT, resource.id, resource, after)
        return after

    async def remove(self, caller: Caller, resource: Resource) -> None:
        async with self._store.transaction():
            await self._store.resources.remove(resource.id)
            await self.audit(caller, AuditAction.RESOURCE_REMOVE, resource.id, resource, None)

    async def _duplicate(self, caller: Caller, existing: Resource) -> UserError:
        """The duplicate-link error; its number only for someone who may see that resource."""
        if await self._store.resources.get(existing.id, await self.scope_for(caller)) is None:
            return UserError(_("That link is in the library already, filed where you cannot see it. "
                               "Ask an admin to change or share it."))
        return UserError(_("That link is in the library already as #{id}. Change it with “resource edit {id}”.",
                           id=existing.id))
