"""Delivery commands: ``delivery status`` for admins (``status`` alone is one of Slack's built-in commands)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.context import Context
from bot.commands.routes import Route, route
from bot.delivery.status import OutboxReports
from bot.i18n import _
from bot.messages import Message
from bot.model import Role


@dataclass(frozen=True, slots=True)
class DeliveryCommandDeps:
    outbox: OutboxReports


async def delivery_status(ctx: Context[DeliveryCommandDeps]) -> Message:
    return await ctx.deps.outbox.overview()


def routes() -> list[Route[DeliveryCommandDeps]]:
    return [
        route(("delivery", "status"), _("What is queued, paused, failed and missed, per platform and kind, and "
                                         "whether each platform is up."), delivery_status, role=Role.ADMIN),
    ]
