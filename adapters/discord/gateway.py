"""One shard's gateway connection, held only while this process has the shard's turn (:mod:`.turns`).

Why the client stays open between turns: its REST session is what every process sends through, turn or not.
Only the websocket comes and goes: :meth:`ShardGateway.run` connects when the turn is this process's, and on
losing it cancels the connection loop and closes the socket with 1000, so Discord ends the session (nothing to
resume: the next holder identifies afresh). The client's cache is then stale; readers that need the guild ask
:class:`adapters.discord.guilds.GuildView`, which goes to REST whenever the gateway is not live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import discord

from adapters.discord.turns import GatewayTurns

log = logging.getLogger(__name__)


class GatewayClient(discord.Client):
    """A client that says when each new gateway session is ready (``Client.wait_until_ready`` says it once)."""

    def __init__(self, *, intents: discord.Intents, **options: Any) -> None:
        super().__init__(intents=intents, **options)
        self.session_ready = asyncio.Event()

    async def on_ready(self) -> None:
        self.session_ready.set()


def socket_open(client: discord.Client) -> bool:
    ws = client.ws
    return ws is not None and ws.open


class ShardGateway:
    """Connects ``client``'s gateway for ``shard_id`` while ``turns`` says it is this process's turn."""

    def __init__(self, client: GatewayClient, shard_id: int, turns: GatewayTurns) -> None:
        self.client = client
        self.shard_id = shard_id
        self._turns = turns
        self.settled = asyncio.Event()
        """Set once the first attempt is over: the gateway is ready, the turn was another's, or it failed."""
        self.failure: BaseException | None = None
        self.live = False
        """Between a session's READY and this process dropping (or losing) the connection."""
        self.holding = asyncio.Event()
        """Set while :attr:`live`: what a caller waits on for this process to hold the shard."""
        self.sessions = 0
        self.lost_at: float | None = None  # time.monotonic() of the last turn lost here

    @property
    def held(self) -> bool:
        """Whether this process holds the shard's gateway now (its socket open, not between a drop and RESUME)."""
        return self.live and socket_open(self.client)

    async def run(self) -> None:
        """Take the turn, hold the gateway, drop it when the turn is lost; again, until cancelled or the
        connection ends for good (a bad token, a disallowed intent: every process would fail alike)."""
        try:
            while not self.client.is_closed():
                if not await self._turns.try_turn(self.shard_id):
                    self.settled.set()
                    log.info("Discord: shard %s's gateway is another process's; this one sends over REST",
                             self.shard_id)
                    await self._turns.wait_turn(self.shard_id)
                await self._hold()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.failure = error
            log.exception("Discord: shard %s's gateway connection ended for good", self.shard_id)
        finally:
            self.settled.set()

    async def _hold(self) -> None:
        client = self.client
        client.session_ready.clear()
        connection = asyncio.create_task(client.connect(reconnect=True), name=f"discord-gateway-{self.shard_id}")
        lost = asyncio.create_task(self._turns.wait_lost(self.shard_id))
        ready = asyncio.create_task(client.session_ready.wait())
        try:
            done, _ = await asyncio.wait({connection, lost, ready}, return_when=asyncio.FIRST_COMPLETED)
            if ready in done and not done & {connection, lost}:
                self.live = True
                self.holding.set()
                self.sessions += 1
                self.settled.set()
                log.info("Discord: this process holds shard %s's gateway", self.shard_id)
                done, _ = await asyncio.wait({connection, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.live = False
            self.holding.clear()
            lost.cancel()
            ready.cancel()
            await drop(client, connection)
        if lost in done:
            self.lost_at = time.monotonic()
            log.warning("Discord: this process lost shard %s's turn; its gateway is closed", self.shard_id)
            return
        connection.result()  # raises why the connection ended
        if not client.is_closed():
            raise RuntimeError("the Discord gateway connection ended")


async def drop(client: discord.Client, connection: asyncio.Task[None]) -> None:
    """End the connection loop first (so it does not reconnect), then the socket, with 1000: no resume."""
    connection.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await connection
    ws = client.ws
    if ws is not None and ws.open:
        with contextlib.suppress(Exception):
            await ws.close(code=1000)


def home_shard(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends the server's events on (DMs go to shard 0)."""
    return (guild_id >> 22) % shard_count


async def settled(gateways: tuple[ShardGateway, ...], seconds: float) -> None:
    """Until every gateway's first attempt is over; a connection that failed at once fails the start (a bad
    token or intent would fail every later attempt too)."""
    async with asyncio.timeout(seconds):
        for gateway in gateways:
            await gateway.settled.wait()
    for gateway in gateways:
        if gateway.failure is not None:
            raise gateway.failure


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
