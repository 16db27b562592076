"""Who a Slack user is to the coalition: name, time zone, language hint and platform role.

Full members of the workspace are coalition members; guests (``is_restricted``, ``is_ultra_restricted``),
Slack Connect users from other organisations (``is_stranger`` or another ``team_id``), bots and deactivated
accounts are outsiders; members of ``coordinator_group`` are coordinators. Admins come from settings and
grants, in the core. Answers are cached for ``ttl`` seconds so a burst of clicks costs one ``users.info``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.model import Role

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class SlackProfile:
    user_id: str
    display_name: str
    timezone: str | None
    role: Role
    locale: str | None


class SlackDirectory:
    def __init__(self, client: AsyncWebClient, *, coordinator_group: str | None,
                 ttl: float = DEFAULT_TTL_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._coordinator_group = coordinator_group
        self._ttl = ttl
        self._monotonic = monotonic
        self._users: dict[str, tuple[float, dict[str, Any]]] = {}
        self._coordinators: tuple[float, frozenset[str]] | None = None
        self._team_id: str | None = None

    async def profile(self, user_id: str) -> SlackProfile:
        """What Slack says about ``user_id``. Fails closed: an unknown user is an outsider."""
        user = await self._user(user_id)
        if user is None:
            return SlackProfile(user_id, user_id, None, Role.OUTSIDER, None)
        profile = user.get("profile") or {}
        name = (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
                or user.get("name") or user_id)
        return SlackProfile(user_id=user_id, display_name=str(name), timezone=user.get("tz") or None,
                            role=await self._role(user), locale=user.get("locale") or None)

    def forget(self, user_id: str) -> None:
        """Drop the cached profile (a user_change event, or a test that changes the workspace)."""
        self._users.pop(user_id, None)

    async def current_role(self, user_id: str) -> Role | None:
        """The role Slack gives ``user_id`` now; ``None`` when Slack could not be asked (keep what is stored)."""
        user = await self._user(user_id)
        return await self._role(user) if user is not None else None

    async def _user(self, user_id: str) -> dict[str, Any] | None:
        cached = self._users.get(user_id)
        if cached is not None and self._monotonic() - cached[0] < self._ttl:
            return cached[1]
        try:
            response = await self._client.users_info(user=user_id, include_locale=True)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            log.warning("users.info failed for %s (%s); using %s", user_id, type(error).__name__,
                        "the cached profile" if cached else "the outsider role")
            return cached[1] if cached else None
        user = dict(response.get("user") or {})
        self._users[user_id] = (self._monotonic(), user)
        return user

    async def _role(self, user: dict[str, Any]) -> Role:
        if (user.get("deleted") or user.get("is_bot") or user.get("is_restricted")
                or user.get("is_ultra_restricted") or user.get("is_stranger")):
            return Role.OUTSIDER
        home = await self._home_team()
        if home is None and user.get("team_id"):
            return Role.OUTSIDER  # fail closed: without our own team id a Slack Connect user looks like ours
        if home is not None and user.get("team_id") not in (None, home):
            return Role.OUTSIDER
        if user.get("id") in await self._coordinator_ids():
            return Role.COORDINATOR
        return Role.MEMBER

    async def _home_team(self) -> str | None:
        if self._team_id is None:
            try:
                self._team_id = str((await self._client.auth_test())["team_id"])
            except (SlackApiError, SlackClientError, OSError, TimeoutError, KeyError):
                log.warning("auth.test failed; cannot tell Slack Connect users apart")
                return None
        return self._team_id

    async def _coordinator_ids(self) -> frozenset[str]:
        if self._coordinator_group is None:
            return frozenset()
        if self._coordinators is not None and self._monotonic() - self._coordinators[0] < self._ttl:
            return self._coordinators[1]
        try:
            response = await self._client.usergroups_users_list(usergroup=self._coordinator_group)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            log.warning("usergroups.users.list failed (%s)", type(error).__name__)
            return self._coordinators[1] if self._coordinators else frozenset()
        members = frozenset(str(u) for u in response.get("users") or [])
        self._coordinators = (self._monotonic(), members)
        return members
