"""Every button the bot can show runs a declared command with declared arguments, checked before anyone clicks.

The scan reads every module in ``bot/``: each ``Action(…)`` must get its command from :func:`invoke` (never a
string), and each ``invoke(DECLARATION, name=…)`` must name a registered declaration and only arguments and
options it declares; then each such button is built with sample values and its text is parsed back through the
real registry and grammar, as a click would be.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.commands import all_commands
from bot.announcements.declarations import ANNOUNCE_CONFIRM, ANNOUNCE_STATUS
from bot.commands.grammar import parse_arguments, split_command
from bot.commands.invoke import CommandLine, InvocationError, invoke
from bot.commands.registry import CommandRegistry
from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.delivery.declarations import DELIVERY_STATUS
from bot.i18n import _
from bot.meetings.declarations import MEETING_SHOW, MEETINGS, RSVP
from bot.messages import Action, ActionStyle, Message
from bot.resources.declarations import RESOURCE_SEARCH, RESOURCES
from bot.subscriptions.declarations import DENY, SUBSCRIBE, UNSUBSCRIBE
from bot.subscriptions.model import DeliveryMode
from bot.topics.declarations import TOPIC_UNARCHIVE

BOT = Path(__file__).resolve().parents[3] / "bot"
REGISTRY = CommandRegistry(all_commands())
SAMPLES: dict[ArgKind, str | int] = {
    ArgKind.INTEGER: 7, ArgKind.MEETING: 12, ArgKind.RESOURCE: 40, ArgKind.TOPIC: "climate-justice",
    ArgKind.TEXT: 'say "hi" there', ArgKind.LANGUAGE: "fr", ArgKind.PERSON: "alice", ArgKind.ZONE: "UTC",
    ArgKind.DURATION: "1h30m",
    ArgKind.DURATIONS: "24h,1h",
}


@dataclass(frozen=True, slots=True)
class Site:
    """One ``invoke(…)`` in the bot's code: where, which declaration, which names it gives."""

    where: str
    module: str
    declaration: str
    names: tuple[str, ...]
    literals: tuple[tuple[str, str | int], ...]
    splat: bool


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(BOT.rglob("*.py")):
        relative = path.relative_to(BOT.parent)
        yield ".".join(relative.with_suffix("").parts), ast.parse(path.read_text(encoding="utf-8"))


def _called(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
    return None


def _sites() -> list[Site]:
    sites = []
    for module, tree in _modules():
        for node in ast.walk(tree):
            if _called(node) != "invoke" or not isinstance(node, ast.Call):
                continue
            assert node.args and isinstance(node.args[0], ast.Name), f"{module}:{node.lineno}: invoke(DECLARATION, …)"
            literals = tuple((k.arg, k.value.value) for k in node.keywords
                             if k.arg and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str | int))
            sites.append(Site(f"{module}:{node.lineno}", module, node.args[0].id,
                              tuple(k.arg for k in node.keywords if k.arg), literals,
                              any(k.arg is None for k in node.keywords)))
    return sites


SITES = _sites()


def check_site(command: object, names: tuple[str, ...], *, splat: bool = False,
               registry: CommandRegistry = REGISTRY) -> Command:
    """What the scan requires of one button: a registered declaration, only declared names, nothing required
    missing (a ``**`` splat may only add options)."""
    assert isinstance(command, Command), "invoke's first argument must be a command declaration"
    assert registry.get(command.path) == command, f"“{command.name}” is not a registered command (misspelt?)"
    declared = {a.name for a in command.args} | {o.name for o in command.options}
    unknown = set(names) - declared
    assert not unknown, f"{command.name} declares no {sorted(unknown)}"
    missing = {a.name for a in command.args if a.required} - set(names)
    assert not missing or splat, f"{command.name} needs {sorted(missing)}"
    return command


def test_no_button_in_the_bot_is_built_from_a_string() -> None:
    offenders = []
    for module, tree in _modules():
        built = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and _called(n.value) == "invoke"
                 for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if _called(node) != "Action" or not isinstance(node, ast.Call):
                continue
            given = node.args[1] if len(node.args) > 1 else \
                next((k.value for k in node.keywords if k.arg == "invocation"), None)
            fine = given is not None and _called(given) == "invoke"
            fine = fine or (isinstance(given, ast.Name) and given.id in built)
            fine = fine or (module == "bot.messages" and _called(given) == "recorded")  # rows stored earlier
            if not fine:
                offenders.append(f"{module}:{node.lineno}")
    assert not offenders, f"buttons built from text, not invoke(DECLARATION, …): {offenders}"


def test_the_scan_finds_the_bots_buttons() -> None:
    """A scan that finds nothing would pass vacuously."""
    assert len(SITES) >= 37
    assert {"SUBSCRIBE", "ANNOUNCE_CONFIRM", "RSVP", "RESOURCE_SEARCH", "DELIVERY_STATUS"} <= {
        s.declaration for s in SITES}


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.where)
def test_each_button_runs_a_registered_command_with_declared_arguments(site: Site) -> None:
    check_site(getattr(importlib.import_module(site.module), site.declaration), site.names, splat=site.splat)


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.where)
def test_each_button_parses_back_through_the_registry_as_a_click_would(site: Site) -> None:
    command = check_site(getattr(importlib.import_module(site.module), site.declaration), site.names,
                         splat=site.splat)
    given = dict(site.literals)
    declared: list[Arg | Option] = [*command.args, *command.options]
    values = {d.name: given.get(d.name, d.choices[0] if d.choices else SAMPLES[d.kind])
              for d in declared if d.name in site.names or (isinstance(d, Arg) and d.required)}
    line = invoke(command, **values)

    path, remainder = split_command(line.text, REGISTRY.known_words())
    registered = REGISTRY.get(path)
    assert registered is not None and registered.path == command.path
    assert parse_arguments(registered, remainder) == {name: str(value) for name, value in values.items()}


def test_a_misspelt_command_or_option_fails_the_scan() -> None:
    misspelt = Command(("anounce", "confirm"), _("Send or schedule a previewed announcement."),
                       args=ANNOUNCE_CONFIRM.args)
    with pytest.raises(AssertionError, match="not a registered command"):
        check_site(misspelt, ("id",))
    with pytest.raises(AssertionError, match="declares no"):
        check_site(SUBSCRIBE, ("topic", "mdoe"))
    with pytest.raises(AssertionError, match="needs"):
        check_site(ANNOUNCE_CONFIRM, ())


def test_building_a_button_checks_names_and_kinds() -> None:
    with pytest.raises(InvocationError, match="no argument or option “mdoe”"):
        invoke(SUBSCRIBE, topic="climate", mdoe="daily")
    with pytest.raises(InvocationError, match="needs “id”"):
        invoke(ANNOUNCE_CONFIRM)
    with pytest.raises(InvocationError, match="takes a number"):
        invoke(ANNOUNCE_CONFIRM, id="3")
    with pytest.raises(InvocationError, match="yes/no"):
        invoke(ANNOUNCE_CONFIRM, id=True)
    with pytest.raises(InvocationError, match="takes text"):
        invoke(SUBSCRIBE, topic=3)
    with pytest.raises(InvocationError, match="choices"):
        invoke(RSVP, id=3, answer="perhaps")
    with pytest.raises(InvocationError, match="survive"):
        invoke(RESOURCE_SEARCH, query="x" * 301)


@pytest.mark.parametrize(("line", "text"), [
    (invoke(ANNOUNCE_CONFIRM, id=3), "announce confirm 3"),
    (invoke(ANNOUNCE_STATUS, id=12), "announce status 12"),
    (invoke(SUBSCRIBE, topic="climate"), "subscribe climate"),
    (invoke(SUBSCRIBE, topic="climate", mode=DeliveryMode.CHANNEL), "subscribe climate mode:channel"),
    (invoke(UNSUBSCRIBE, topic="climate"), "unsubscribe climate"),
    (invoke(RSVP, id=4, answer="maybe"), "rsvp 4 maybe"),
    (invoke(MEETING_SHOW, id=4), "meeting show 4"),
    (invoke(MEETINGS, page=2), "meetings page:2"),
    (invoke(MEETINGS, topic="climate", page=3), "meetings climate page:3"),
    (invoke(RESOURCES, topic="climate"), "resources climate"),
    (invoke(RESOURCE_SEARCH, page=2, topic="climate", kind="report", lang="fr", query="flood maps"),
     "resource search page:2 topic:climate kind:report lang:fr flood maps"),
    (invoke(RESOURCE_SEARCH, query="https://example.org/a"), "resource search https://example.org/a"),
    (invoke(TOPIC_UNARCHIVE, topic="climate"), "topic unarchive climate"),
    (invoke(DELIVERY_STATUS), "delivery status"),
])
def test_a_buttons_text_is_what_the_f_strings_wrote(line: CommandLine, text: str) -> None:
    """Discord's stored button tokens hash this text and Slack sends it back: it must not change."""
    assert line.text == text


@pytest.mark.parametrize(("command", "values", "text"), [
    (DENY, {"request": 3, "reason": "not now"}, 'deny 3 reason:"not now"'),
    (RESOURCE_SEARCH, {"query": 'say "hi" there'}, 'resource search say "hi" there'),
    (RESOURCE_SEARCH, {"query": "kind:report floods"}, 'resource search "kind:report floods"'),
    (RESOURCE_SEARCH, {"query": '"quoted" and "more"'}, 'resource search "quoted" and "more"'),
    (RESOURCE_SEARCH, {"topic": "climate", "query": "“curly”"}, 'resource search topic:climate "“curly”"'),
])
def test_values_with_spaces_quotes_or_option_words_round_trip(command: Command, values: dict[str, str | int],
                                                              text: str) -> None:
    line = invoke(command, **values)
    assert line.text == text
    path, remainder = split_command(line.text, REGISTRY.known_words())
    assert path == command.path
    assert parse_arguments(command, remainder) == {name: str(value) for name, value in values.items()}


def test_a_stored_button_reads_back_as_the_same_button() -> None:
    """Delivery rows keep a button's text; read back it equals the button that was built."""
    message = Message(body=("News",), actions=(Action(_("Confirm"), invoke(ANNOUNCE_CONFIRM, id=3),
                                                      ActionStyle.PRIMARY),))
    stored = message.to_json()
    assert stored["actions"][0][1] == "announce confirm 3"
    assert Message.from_json(stored) == message
    assert Message.from_json(stored).actions[0].command == "announce confirm 3"
