"""Delivery commands: ``delivery status`` for admins (``status`` alone is one of Slack's built-in commands)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.context import Context
from bot.commands.routes import Route
from bot.delivery.declarations import DELIVERY_STATUS
from bot.delivery.status import OutboxReports
from bot.messages import Message


@dataclass(frozen=True, slots=True)
class DeliveryCommandDeps:
    outbox: OutboxReports


async def delivery_status(ctx: Context[DeliveryCommandDeps]) -> Message:
    return await ctx.deps.outbox.overview()


def routes() -> list[Route[DeliveryCommandDeps]]:
    return [
        Route(DELIVERY_STATUS, delivery_status),
    ]
