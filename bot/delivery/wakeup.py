"""The signal that a row was queued, shared by everyone who queues and the worker that sends.

It exists before either side, so the services that queue rows and the delivery worker are each built with
it in their constructor; neither needs the other, and the worker can be built last, once the platforms it
sends to are connected.
"""

from __future__ import annotations

import asyncio


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def __call__(self) -> None:
        """Ask the worker to look for due rows now (a row was just queued)."""
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, seconds: float) -> None:
        """Until the next call, or ``seconds`` at most."""
        try:
            async with asyncio.timeout(seconds):
                await self._event.wait()
        except TimeoutError:
            pass
