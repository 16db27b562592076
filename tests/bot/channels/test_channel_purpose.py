"""Channel purposes and grantable roles are enums whose values are the strings already stored and typed."""

from __future__ import annotations

from bot.channels.model import ChannelPurpose
from bot.model import Role
from bot.people.commands import GRANTABLE


def test_channel_purposes_keep_the_values_rows_already_hold() -> None:
    """``channel_bindings.purpose`` rows written before the enum still match it: no migration."""
    assert [purpose.value for purpose in ChannelPurpose] == ["public", "topic"]
    assert ChannelPurpose("topic") is ChannelPurpose.TOPIC


def test_the_grantable_roles_are_every_role_above_outsider_as_role_parse_reads_them() -> None:
    assert GRANTABLE == ("member", "coordinator", "admin")
    assert [Role.parse(name) for name in GRANTABLE] == [role for role in Role if role is not Role.OUTSIDER]
