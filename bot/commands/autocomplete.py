"""Suggestions for a partly typed argument (Discord autocomplete, later Slack options), platform-neutral.

The framework matches and ranks; each feature supplies the candidates for its own kind of argument
(topics, meetings, resources), computed for one caller. The contract that matters: a candidate list never
names something the caller cannot see — the features build them through their own visibility rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import available_timezones

from bot.commands.context import Caller
from bot.commands.spec import ArgKind

MAX_SUGGESTIONS = 25


@dataclass(frozen=True, slots=True)
class Suggestion:
    label: str
    value: str


Candidates = Callable[[Caller], Awaitable[list[Suggestion]]]
"""Every value of one kind that ``caller`` may see, labelled for a person."""


def fixed(values: Iterable[str]) -> Candidates:
    """Candidates that are the same for everyone (time zones, languages)."""
    suggestions = [Suggestion(value, value) for value in values]

    async def candidates(_caller: Caller) -> list[Suggestion]:
        return suggestions
    return candidates


def time_zones() -> Candidates:
    return fixed(sorted(available_timezones()))


class Autocomplete:
    def __init__(self, candidates: Mapping[ArgKind, Candidates]) -> None:
        self._candidates = dict(candidates)

    async def suggest(self, caller: Caller, kind: ArgKind, prefix: str,
                      limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
        """Up to ``limit`` values for an argument of ``kind`` matching ``prefix``: starts-with first, then
        contains. Kinds without a finite set of values (free text, numbers, people) get none."""
        source = self._candidates.get(kind)
        if source is None:
            return []
        needle = prefix.strip().lstrip("#").lower()
        candidates = await source(caller)
        starts = [c for c in candidates if c.value.lower().startswith(needle)]
        contains = [c for c in candidates if c not in starts and needle in c.label.lower()]
        return (starts + contains)[:limit]
