"""The routers the root joins: what help and the Slack manifest list is exactly what the dispatcher runs."""

from __future__ import annotations

from app.commands import all_commands, bound_commands
from tests.support import Harness


async def test_every_declared_command_is_bound_once_in_the_same_order(h: Harness) -> None:
    declared = [command.path for command in all_commands()]
    bound = [b.command.path for b in bound_commands(h.app.services)]
    assert bound == declared
    assert len(set(declared)) == len(declared)
    assert [c.path for c in h.app.dispatcher.registry.commands] == declared
    assert [c.path for c in h.app.services.registry.commands] == declared


async def test_declarations_are_the_same_objects_help_and_the_dispatcher_read(h: Harness) -> None:
    bound = {b.command.path: b.command for b in bound_commands(h.app.services)}
    for command in all_commands():
        assert bound[command.path] == command  # name, arguments, help and role declared once
