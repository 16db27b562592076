"""The signal that a row was queued, shared by everyone who queues and the worker that sends.

It exists before either side, so the services that queue rows and the delivery worker are each built with
it in their constructor; neither needs the other, and the worker can be built last, once the platforms it
sends to are connected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Wakeup:
    """``also`` carries the wake-up beyond this process (other processes on the same database), if there are any."""

    def __init__(self, also: Callable[[], None] | None = None) -> None:
        self._event = asyncio.Event()
        self._also = also

    def __call__(self) -> None:
        """Ask the worker to look for due rows now (a row was just queued), and any other process's too."""
        self._event.set()
        if self._also is not None:
            self._also()

    def local(self) -> None:
        """Wake this process's worker only: another process queued a row and has woken everyone already."""
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
