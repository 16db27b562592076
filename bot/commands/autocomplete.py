"""Suggestions for a partly typed argument (Discord autocomplete, later Slack options), platform-neutral.

The contract that matters: a suggestion never names something the caller cannot see — topics go through
the same visibility rule as ``topics`` and ``subscribe``.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from bot.commands.context import Caller
from bot.commands.spec import ArgKind
from bot.resources.model import ResourceFilter
from bot.services import Services

MAX_SUGGESTIONS = 25
RESOURCE_CANDIDATES = 500  # the newest ones; a title fragment narrows them


@dataclass(frozen=True, slots=True)
class Suggestion:
    label: str
    value: str


async def suggest(services: Services, caller: Caller, kind: ArgKind, prefix: str,
                  limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
    """Up to ``limit`` values for an argument of ``kind`` matching ``prefix``: starts-with first, then
    contains. Kinds without a finite set of values (free text, numbers, people) get none."""
    needle = prefix.strip().lstrip("#").lower()
    candidates: list[Suggestion]
    if kind is ArgKind.TOPIC:
        topics = [t for t in await services.topics.visible(caller) if not t.archived]
        candidates = [Suggestion(f"{t.slug} — {t.title}", t.slug) for t in topics]
    elif kind is ArgKind.ZONE:
        candidates = [Suggestion(zone, zone) for zone in sorted(available_timezones())]
    elif kind is ArgKind.LANGUAGE:
        candidates = [Suggestion(code, code) for code in services.translator.languages]
    elif kind is ArgKind.MEETING:
        seen = {t.id: t for t in await services.topics.visible(caller) if not t.archived}
        meetings = await services.store.meetings.active(sorted(seen)) if seen else []
        candidates = [Suggestion(f"#{m.id} {m.title} ({seen[m.topic_id].slug})", str(m.id)) for m in meetings]
    elif kind is ArgKind.RESOURCE:
        scope = await services.resources.scope_for(caller)  # visibility is applied in the query
        page = await services.store.resources.browse(scope, ResourceFilter(), limit=RESOURCE_CANDIDATES)
        candidates = [Suggestion(f"#{r.id} {r.title}", str(r.id)) for r in page.items]
    else:
        return []
    starts = [c for c in candidates if c.value.lower().startswith(needle)]
    contains = [c for c in candidates if c not in starts and needle in c.label.lower()]
    return (starts + contains)[:limit]
