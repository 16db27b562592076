"""Command declarations: name, typed arguments, help text and required role, declared once.

Every adapter renders its platform's commands from these declarations (Slack slash commands, Discord app
commands with typed options, console help), so names, arguments, help and permissions cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from enum import StrEnum
from functools import cache

from bot.i18n import Text
from bot.model import Role
from bot.when import fold


class ArgKind(StrEnum):
    """What an argument holds; adapters use it for typed options and autocomplete."""

    TEXT = "text"
    TOPIC = "topic"
    PERSON = "person"
    CHOICE = "choice"
    INTEGER = "integer"
    ZONE = "zone"
    """An IANA time zone name; a handler reads it as a ``ZoneInfo`` (:meth:`Context.zone`)."""
    LANGUAGE = "language"
    """A language code; a handler reads it normalised (``pt_BR`` → ``pt``) (:meth:`Context.language`)."""
    DURATION = "duration"
    """How long, such as ``1h30m``; a handler reads it as a ``timedelta`` (:meth:`Context.optional_duration`)."""
    DURATIONS = "durations"
    """Comma-separated durations (``24h,1h,15m``), for reminder times and the like; a handler reads them as
    distinct ``timedelta`` values, longest first (:meth:`Context.optional_durations`)."""
    MEETING = "meeting"
    RESOURCE = "resource"
    TIME = "time"
    """A point in time in the grammar of :mod:`bot.when`: an unquoted ``name:value`` option (or a positional
    argument) takes as many words as form a time, so ``when:monday 14:00`` needs no quotes. A handler reads
    it as an instant in the caller's zone (:meth:`Context.time`) or as one of a series' days
    (:meth:`Context.occasion`)."""


NUMBERED = frozenset({ArgKind.INTEGER, ArgKind.MEETING, ArgKind.RESOURCE})
"""Kinds whose value is a number (``#12`` or ``12``): :meth:`bot.commands.context.Context.number` gives it as
an ``int``, and a button passes an ``int`` for it."""


@dataclass(frozen=True, slots=True)
class ChoiceWords:
    """The words that say one choice in one language (``ChoiceWords("fr", "yes", ("oui",))``): a reader of
    that language may type them for the choice, besides its own (English) value. Compared folded (case and
    accents do not matter: ``peut-etre`` is ``peut-être``)."""

    language: str
    choice: str
    words: tuple[str, ...]


class _Choosable:
    """What :class:`Arg` and :class:`Option` share about choices: their words are checked when declared (a word
    naming two choices in one language fails at import), and read per reader's language."""

    __slots__ = ()
    name: str
    choices: tuple[str, ...]
    words: tuple[ChoiceWords, ...]

    def __post_init__(self) -> None:
        choice_meanings(self.name, self.choices, self.words)

    def choice_for(self, typed: str, language: str | None) -> str | None:
        """The choice ``typed`` names for a reader of ``language`` (its own words and English), if any;
        ``language=None``: for a reader of some language, as long as it names one choice in all of them."""
        return _choice_for(self, typed, language)


@dataclass(frozen=True, slots=True)
class Arg(_Choosable):
    """A positional argument. ``rest`` takes the rest of the line (only the last one may). A choice may
    declare its ``words`` in other languages (:class:`ChoiceWords`)."""

    name: str
    help: Text
    kind: ArgKind = ArgKind.TEXT
    required: bool = True
    rest: bool = False
    choices: tuple[str, ...] = ()
    max_length: int = 100
    words: tuple[ChoiceWords, ...] = ()


@dataclass(frozen=True, slots=True)
class Option(_Choosable):
    """An optional ``name:value`` argument, recognised anywhere on the line (choice words as for :class:`Arg`)."""

    name: str
    help: Text
    kind: ArgKind = ArgKind.TEXT
    choices: tuple[str, ...] = ()
    max_length: int = 200
    words: tuple[ChoiceWords, ...] = ()


@cache
def choice_meanings(name: str, choices: tuple[str, ...],
                    words: tuple[ChoiceWords, ...]) -> Mapping[str, Mapping[str, str]]:
    """For each language, every folded word a reader of it may type for a choice (its own words, English
    words and the choices themselves) and the choice it names; ``"en"`` is what every other reader gets.

    Raises ``ValueError`` — when the declaration is imported, so a test run finds it — for words of a choice
    not declared, or a word that names two different choices for one language's readers (``no`` cannot be
    "no" in English and "yes" in another language's words): it would have to be guessed.
    """
    def add(known: dict[str, str], entry: ChoiceWords) -> None:
        if entry.choice not in choices:
            raise ValueError(f"{name}: words for “{entry.choice}”, which is not one of its choices {list(choices)}")
        for word in entry.words:
            if known.setdefault(fold(word), entry.choice) != entry.choice:
                raise ValueError(f"{name}: “{word}” names both “{known[fold(word)]}” and “{entry.choice}” for "
                                 f"{entry.language} readers")

    english = {fold(choice): choice for choice in choices}
    for entry in words:
        if entry.language == "en":
            add(english, entry)
    meanings = {"en": english}
    for entry in words:
        if entry.language != "en":
            add(meanings.setdefault(entry.language, dict(english)), entry)
    return meanings


def _choice_for(declared: _Choosable, typed: str, language: str | None) -> str | None:
    meanings = choice_meanings(declared.name, declared.choices, declared.words)
    if language is None:  # a caller that does not know who reads: a word of any language, if it names one choice
        named = {found[fold(typed)] for found in meanings.values() if fold(typed) in found}
        return named.pop() if len(named) == 1 else None
    return meanings.get(language, meanings["en"]).get(fold(typed))


def choice_names(declared: Arg | Option, language: str | None) -> tuple[str, ...]:
    """Each choice as a reader of ``language`` would type it: its first word in that language, else itself."""
    own = {entry.choice: entry.words[0] for entry in reversed(declared.words)
           if entry.language == language and entry.words}
    return tuple(own.get(choice, choice) for choice in declared.choices)


@dataclass(frozen=True, slots=True)
class Command:
    """One command's declaration. ``path`` is ``("subscribe",)`` or ``("topic", "create")``.

    A declaration knows no service: adapters, help and the Slack manifest read it without a database.
    :class:`bot.commands.routes.Route` pairs it with the handler that runs it.

    ``topic_arg`` names the argument that holds a topic: a coordinator of that topic qualifies for a
    command that needs :attr:`Role.COORDINATOR`, without coordinating all topics.
    """

    path: tuple[str, ...]
    help: Text
    _: KW_ONLY  # a declaration reads by name: role=…, args=…
    role: Role = Role.OUTSIDER
    args: tuple[Arg, ...] = ()
    options: tuple[Option, ...] = ()
    topic_arg: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.path) <= 2:
            raise ValueError(f"command path must have one or two words: {self.path}")
        for arg in self.args[:-1]:
            if arg.rest:
                raise ValueError(f"only the last argument of {self.name} may take the rest of the line")
        seen_optional = False
        for arg in self.args:
            if seen_optional and arg.required:
                raise ValueError(f"{self.name}: a required argument cannot follow an optional one")
            seen_optional = seen_optional or not arg.required
        names = [a.name for a in self.args] + [o.name for o in self.options]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.name}: argument names must be unique")

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def form_arg(self) -> Arg | None:
        """The argument a form (Slack modal, Discord modal) asks for when it was not typed: a required
        free-text argument that takes the rest of the line. One rule for every platform."""
        last = self.args[-1] if self.args else None
        if last is not None and last.rest and last.required and last.kind is ArgKind.TEXT:
            return last
        return None

    @property
    def group(self) -> str | None:
        return self.path[0] if len(self.path) == 2 else None

    def usage(self) -> str:
        """``/topic create <slug> <title…> [visibility:public|members|private]``"""
        parts = [f"/{self.name}"]
        for arg in self.args:
            label = "|".join(arg.choices) if arg.choices else arg.name
            label += "…" if arg.rest else ""
            parts.append(f"<{label}>" if arg.required else f"[{label}]")
        for option in self.options:
            value = "|".join(option.choices) if option.choices else "…"
            parts.append(f"[{option.name}:{value}]")
        return " ".join(parts)
