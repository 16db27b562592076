"""Privacy commands: ``mydata`` and ``forget me`` (everyone's, outsiders included: it is their own data)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.context import Context
from bot.commands.routes import Route
from bot.messages import Message
from bot.privacy.declarations import CONFIRMATION, FORGET_ME, MYDATA
from bot.privacy.service import PrivacyService


@dataclass(frozen=True, slots=True)
class PrivacyCommandDeps:
    privacy: PrivacyService


async def mydata(ctx: Context[PrivacyCommandDeps]) -> Message:
    return await ctx.deps.privacy.mydata(ctx.caller)


async def forget_me(ctx: Context[PrivacyCommandDeps]) -> Message:
    """Without the confirmation, only asks (with the button that confirms); typed ``confirm`` erases at once."""
    if ctx.get(CONFIRMATION) is None:
        return ctx.deps.privacy.ask()
    return await ctx.deps.privacy.forget(ctx.caller)


def routes() -> list[Route[PrivacyCommandDeps]]:
    return [Route(MYDATA, mydata), Route(FORGET_ME, forget_me)]
