"""Linking commands: ``link`` (a code), ``link <code>`` (claim it), ``link confirm`` / ``link cancel`` (the
issuer's answer, also its buttons; the claimer may cancel its own claim too) and ``unlink <platform>``. Everyone's,
outsiders included: it is their own data."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.context import Context
from bot.commands.routes import Route
from bot.linking.declarations import CANCEL, CODE, CONFIRM, LINK, PLATFORM, UNLINK
from bot.linking.service import LinkService
from bot.messages import Message


@dataclass(frozen=True, slots=True)
class LinkCommandDeps:
    links: LinkService


async def link(ctx: Context[LinkCommandDeps]) -> Message:
    typed = (ctx.get(CODE) or "").strip()
    if not typed:
        return await ctx.deps.links.issue(ctx.caller)
    # "confirm" or "cancel", then the proposal's reference when a button sent it (see bot.linking.declarations).
    word, *rest = typed.split()
    if word.lower() in (CONFIRM, CANCEL) and len(rest) <= 1:
        reference = rest[0].upper() if rest else None
        if word.lower() == CONFIRM:
            return await ctx.deps.links.confirm(ctx.caller, reference)
        return await ctx.deps.links.cancel(ctx.caller, reference)
    return await ctx.deps.links.claim(ctx.caller, typed)


async def unlink(ctx: Context[LinkCommandDeps]) -> Message:
    return await ctx.deps.links.unlink(ctx.caller, ctx.value(PLATFORM).lower())


def routes() -> list[Route[LinkCommandDeps]]:
    return [Route(LINK, link), Route(UNLINK, unlink)]
