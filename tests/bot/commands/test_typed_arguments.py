"""Handlers read their arguments through the declarations their command lists, typed by the framework.

The scan follows every route's handler (and the module's helpers it hands ``ctx`` to): each read
``ctx.value(X)``, ``ctx.get(X)``, ``ctx.number(X)`` … must name a declaration its own command lists, so a
misspelt or foreign argument fails here rather than as a ``KeyError`` on the first real use; no handler reads
``ctx.values`` by a string name. The runtime checks pin the framework's conversions and its translated errors.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.announcements.commands
import bot.channels.commands
import bot.delivery.commands
import bot.meetings.commands
import bot.people.commands
import bot.resources.commands
import bot.subscriptions.commands
import bot.topics.commands
from bot.commands import help as help_commands
from bot.commands.context import Caller, Context, ZoneSource
from bot.commands.routes import Route
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.errors import UsageError, UserError
from bot.i18n import _
from bot.model import Identity, IdentityRecord, Person, Role, RoleSources
from bot.subscriptions.model import DeliveryMode

READERS = {name for name in vars(Context) if not name.startswith("_") and callable(getattr(Context, name))}
"""Every public accessor of :class:`Context`: a new one is scanned without anyone remembering to list it."""
TEXT_READERS = {"value", "get"}
TYPED_KINDS = {ArgKind.ZONE, ArgKind.LANGUAGE, ArgKind.DURATION, ArgKind.DURATIONS, ArgKind.TIME}
"""Kinds the framework converts: a handler that reads one as text would parse it again itself."""
PARSERS = {"parse_when", "read_when", "read_occasion", "parse_zone", "parse_language", "parse_duration",
           "parse_durations", "parse_offsets",
           "time_length", "ZoneInfo"}
"""What turns typed text into a zone, language, duration or time: the framework's alone (bot/commands, bot/when)."""
ROOT = Path(__file__).resolve().parents[3]
ROUTERS = (help_commands, bot.topics.commands, bot.subscriptions.commands, bot.resources.commands,
           bot.announcements.commands, bot.channels.commands, bot.meetings.commands, bot.people.commands,
           bot.delivery.commands)


def _routes() -> list[Route[Any]]:
    return [r for module in ROUTERS for r in module.routes()]


def _functions(handler: Callable[..., Any]) -> Iterator[tuple[ast.AST, dict[str, Any]]]:
    """The handler's body and the bodies of the module functions it passes ``ctx`` to, with its globals."""
    namespace: dict[str, Any] = handler.__globals__
    seen: set[str] = set()
    pending: list[Callable[..., Any]] = [handler]
    while pending:
        function = pending.pop()
        if function.__name__ in seen:
            continue
        seen.add(function.__name__)
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        yield tree, namespace
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and any(isinstance(a, ast.Name) and a.id == "ctx" for a in node.args):
                target = namespace.get(node.func.id)
                if inspect.isfunction(target) and target.__module__ == function.__module__:
                    pending.append(target)


def _reads(tree: ast.AST, namespace: dict[str, Any]) -> Iterator[tuple[str, object]]:
    """(how it is written, what it names) for every argument read through ``ctx``."""
    for _reader, written, named in _typed_reads(tree, namespace):
        yield written, named


def _typed_reads(tree: ast.AST, namespace: dict[str, Any]) -> Iterator[tuple[str | None, str, object]]:
    """(the accessor, how it is written, what it names) for every argument read through ``ctx``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ctx" \
                and node.attr == "values":
            yield None, "ctx.values", None
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "ctx"
                and node.func.attr in READERS):
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Name) and first.id == "option" and "ctx.command.options" in ast.unparse(tree):
            continue  # ``any(ctx.get(option) for option in ctx.command.options)``: declared by construction
        if isinstance(first, ast.Name):
            yield node.func.attr, first.id, namespace.get(first.id)
        else:
            yield node.func.attr, ast.unparse(first) if first is not None else "()", None


def test_every_handler_reads_only_what_its_command_declares() -> None:
    problems = []
    routes = _routes()
    assert len(routes) > 30
    for route in routes:
        declared = (*route.command.args, *route.command.options)
        for tree, namespace in _functions(route.handler):
            for written, named in _reads(tree, namespace):
                if not isinstance(named, Arg | Option) or named not in declared:
                    problems.append(f"/{route.command.name} ({route.handler.__name__}) reads {written}")
    assert problems == []


def test_the_scan_sees_a_misspelt_or_string_read() -> None:
    stray = Arg("topik", _("x"))

    source = """
        async def handler(ctx: Context[None]) -> None:
            ctx.value(stray)
            ctx.get("topic")
            ctx.values["topic"]
    """
    tree = ast.parse(textwrap.dedent(source))
    assert list(_reads(tree, {"stray": stray})) == [("stray", stray), ("'topic'", None), ("ctx.values", None)]


def test_no_handler_reads_a_zone_language_duration_or_time_as_text() -> None:
    """Such an argument arrives converted (``ctx.zone(ZONE)``, ``ctx.time(WHEN, …)`` …): reading its text
    with ``ctx.value``/``ctx.get`` could only be to parse it again."""
    problems = []
    for route in _routes():
        for tree, namespace in _functions(route.handler):
            for reader, written, named in _typed_reads(tree, namespace):
                if reader in TEXT_READERS and isinstance(named, Arg | Option) and named.kind in TYPED_KINDS:
                    problems.append(f"/{route.command.name} ({route.handler.__name__}) reads {written} as text")
    assert problems == []


def _parser_calls(source: str) -> list[str]:
    """The calls in ``source`` of anything that turns text into a zone, language, duration or time."""
    called = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else \
                node.func.attr if isinstance(node.func, ast.Attribute) else None
            if name in PARSERS:
                called.append(f"{node.lineno}: {ast.unparse(node.func)}")
    return called


def test_no_command_module_parses_a_zone_language_duration_or_time() -> None:
    modules = sorted((ROOT / "bot").glob("*/commands.py")) + sorted((ROOT / "bot").glob("*/declarations.py"))
    assert len(modules) > 8
    problems = [f"{path.relative_to(ROOT)}:{call}" for path in modules for call in _parser_calls(path.read_text())]
    assert problems == []


def test_the_scans_see_a_handler_that_parses_again() -> None:
    when = Option("when", _("x"), ArgKind.TIME)

    async def handler(ctx: Context[None]) -> None:
        ctx.get(when)
        ctx.optional_time(when, max_ahead=timedelta(days=1))

    tree = ast.parse(textwrap.dedent(inspect.getsource(handler)))
    assert [reader for reader, _w, _n in _typed_reads(tree, {"when": when})] == ["get", "optional_time"]
    assert _parser_calls("parse_when(ctx.get(WHEN), zone, now)\nZoneInfo(text)\nctx.deps.people.parse_zone(t)\n"
                         "ctx.zone(ZONE)\n") == ["1: parse_when", "2: ZoneInfo", "3: ctx.deps.people.parse_zone"]


SUBSCRIBE_LIKE = Command(("subscribe",), _("x"), args=(Arg("topic", _("x"), ArgKind.TOPIC),),
                         options=(Option("mode", _("x"), ArgKind.CHOICE, ("immediate", "daily")),
                                  Option("page", _("x"), ArgKind.INTEGER)))
NUMBERED = Command(("approve",), _("x"), args=(Arg("request", _("x"), ArgKind.INTEGER),))


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _context(command: Command, values: dict[str, str]) -> Context[None]:
    identity = Identity("console", "ada")
    caller = Caller(person=Person(1, "Ada", None, None, None, None, None, None, NOW),
                    identity=IdentityRecord(identity, 1, "Ada", Role.MEMBER, None, None),
                    roles=RoleSources(Role.OUTSIDER, Role.MEMBER, Role.OUTSIDER), coordinated=frozenset(),
                    language="en", timezone="UTC", timezone_source=ZoneSource.DEFAULT)
    return Context(caller=caller, command=command, values=values, deps=None, now=NOW)


def test_reading_an_undeclared_argument_is_a_bug_not_a_usage_error() -> None:
    ctx = _context(SUBSCRIBE_LIKE, {"topic": "climate"})
    with pytest.raises(LookupError):
        ctx.value(Arg("topik", _("x"), ArgKind.TOPIC))
    with pytest.raises(LookupError):
        ctx.number(NUMBERED.args[0])


def test_values_arrive_typed() -> None:
    ctx = _context(SUBSCRIBE_LIKE, {"topic": "climate", "mode": "daily", "page": "2"})
    assert ctx.value(SUBSCRIBE_LIKE.args[0]) == "climate"
    assert ctx.optional_choice(SUBSCRIBE_LIKE.options[0], DeliveryMode) is DeliveryMode.DAILY
    assert ctx.page(SUBSCRIBE_LIKE.options[1], 5) == 2
    assert _context(SUBSCRIBE_LIKE, {"topic": "c"}).optional_choice(SUBSCRIBE_LIKE.options[0], DeliveryMode) is None
    assert _context(SUBSCRIBE_LIKE, {"topic": "c"}).page(SUBSCRIBE_LIKE.options[1], 5) == 1
    assert _context(NUMBERED, {"request": "#12"}).number(NUMBERED.args[0]) == 12


def test_bad_numbers_keep_their_translated_messages() -> None:
    with pytest.raises(UsageError) as refused:
        _context(NUMBERED, {"request": "twelve"}).number(NUMBERED.args[0])
    assert refused.value.message == _("“{name}” must be a number, not “{value}”.", name="request", value="twelve")
    with pytest.raises(UserError) as out_of_range:
        _context(SUBSCRIBE_LIKE, {"topic": "c", "page": "9"}).page(SUBSCRIBE_LIKE.options[1], 5)
    assert out_of_range.value.message == _("“page” must be between 1 and {last}.", last=5)
