"""The store the resource library needs. :class:`bot.ports.Store` names it; ``storage/resources.py`` implements it.

What every store method may raise beyond what it names (the database failing, a foreign key, a naive
``datetime``) is said once in :mod:`bot.ports`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.resources.model import Resource, ResourceFields, ResourceFilter, ResourcePage, ResourceScope
from bot.resources.terms import TermIndex


class ResourceStore(Protocol):
    """The resource library. Reads that serve a person take a :class:`ResourceScope` and apply it in the
    query itself; ``None`` means no restriction (import, demo data)."""

    async def add(self, fields: ResourceFields, added_by: int | None, now: datetime) -> Resource:
        """Returns the new resource. Raises the database's integrity error for a URL already in the library (the same
        ``url_key``): callers look with :meth:`by_url_key` first, in the same transaction."""
        ...

    async def update(self, resource_id: int, fields: ResourceFields, now: datetime) -> Resource:
        """Replace every field and return the resource; raises ``LookupError`` when it does not exist. A URL
        another resource holds is refused as in :meth:`add`."""
        ...

    async def remove(self, resource_id: int) -> bool:
        """Delete the resource; returns False when it did not exist. Raises nothing of its own."""
        ...

    async def get(self, resource_id: int, scope: ResourceScope | None) -> Resource | None:
        """Returns the resource, or ``None`` when it does not exist or ``scope`` may not see it. Raises nothing of its
        own."""
        ...

    async def by_url_key(self, url_key: str) -> Resource | None:
        """Returns the resource with this normalised URL, unscoped, or ``None``. Raises nothing of its own."""
        ...

    async def search(self, match: str, scope: ResourceScope | None, filters: ResourceFilter, *, limit: int,
                     offset: int = 0, window: int | None = None) -> ResourcePage:
        """Returns a page of resources best first for an FTS5 expression built from quoted tokens (never raw user
        input: a malformed expression is the database's error); with ``window``, ranks only the newest
        ``window`` matches. Raises nothing of its own."""
        ...

    async def browse(self, scope: ResourceScope | None, filters: ResourceFilter, *, limit: int,
                     offset: int = 0) -> ResourcePage:
        """Returns a page of the resources ``scope`` may see that pass ``filters``, newest first. Raises nothing of its
        own."""
        ...

    async def count_by_topic(self, scope: ResourceScope | None) -> dict[int, int]:
        """Returns how many resources ``scope`` may see in each topic of ``scope`` (every topic for ``None``); a
        topic with none is absent. Raises nothing of its own."""
        ...

    async def terms(self, scope: ResourceScope | None = None) -> TermIndex:
        """Returns how many resources hold each indexed word (with ``scope``: of the resources that scope may see);
        current with every committed write. Read only; raises nothing of its own."""
        ...
