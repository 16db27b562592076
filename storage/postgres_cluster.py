"""What several bot processes on one PostgreSQL database tell each other: wake-ups, and who leads.

One extra connection per process, apart from the one the repositories use:

- **Wake-ups** (``LISTEN``/``NOTIFY``). A process that queued a row rings :meth:`ring`; the ``NOTIFY`` goes out
  through the repositories' connection once this process's open transaction (the one that queued the row) has
  ended, on its own in autocommit: a process woken by it finds the row, and the NOTIFY takes no write lock. Every
  process listening hears it and wakes its delivery worker, so a command answered by one process is delivered
  promptly by whichever claims the row.
- **Meeting notices** (the same channel, payload ``<sender> meeting <id>``). A process that changed a meeting rings
  :meth:`ring_meeting`; the others re-arm that meeting's timer, so the leader (which runs the reminders) knows of
  it within moments, not at its next housekeeping poll. Same channel, not a second one: one ``LISTEN``, and one
  ordered stream per sender; a process of the previous version takes the notice for a wake-up, which is harmless.
- **Leadership** (a session advisory lock). Scheduled work (digests, reminders, missed checks, request expiry,
  retention) must run once, not once per process: it runs where :attr:`leader` is true. The lock lives as long as
  this connection; when the leading process dies its connection ends and the server releases the lock, and
  another process takes it within :data:`LEAD_RETRY_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

import psycopg

from storage.postgres_database import PostgresDatabase, open_connection

CHANNEL = "coalition_bot_wakeup"
MEETING = "meeting"  # a notice's kind: "<sender> meeting <id>" (a bare "<sender>" is a wake-up)
LEADER_LOCK = 0x636F6132  # the session advisory lock of the process that runs scheduled work
LEAD_RETRY_SECONDS = 2.0
"""How often a process that does not lead tries to: the most a leader's death leaves scheduled work undone."""
RECONNECT_SECONDS = 2.0
PING_SECONDS = 5.0


class DatabaseLost(RuntimeError):
    """The repositories' connection closed: the process cannot work, and ends (its supervisor restarts it)."""

log = logging.getLogger(__name__)


class PostgresCluster:
    def __init__(self, url: str, db: PostgresDatabase, *, lead_retry_seconds: float = LEAD_RETRY_SECONDS) -> None:
        self._url = url
        self._db = db
        self._lead_retry = lead_retry_seconds
        self._me = secrets.token_hex(8)  # this member's own wake-ups come back to it: they are skipped
        self._sending: asyncio.Task[None] | None = None
        self._wake_pending = False
        self._meetings_pending: set[int] = set()
        self.leader = False
        self.listening = False
        self.on_wakeup: Callable[[], None] = lambda: None
        self.on_meeting: Callable[[int], None] = lambda _meeting_id: None
        self.on_leadership: Callable[[bool], None] = lambda _leads: None

    def ring(self) -> None:
        """Tell every other process to look for due rows, once what this process is writing has committed.

        Rings while one is on its way are folded into one more after it (not one per row queued)."""
        self._wake_pending = True
        self._send()

    def ring_meeting(self, meeting_id: int) -> None:
        """Tell every other process that meeting ``meeting_id`` changed, once this process's write has committed.

        Ids rung while notices are on their way are gathered into a set and sent after them, one notice each:
        none is lost, and a burst of changes makes one task, not one per change."""
        self._meetings_pending.add(meeting_id)
        self._send()

    def _send(self) -> None:
        if self._sending is None or self._sending.done():
            self._sending = asyncio.get_running_loop().create_task(self._send_pending())

    async def _send_pending(self) -> None:
        while self._wake_pending or self._meetings_pending:
            wake, meetings = False, list[int]()
            try:
                # Once this process's open transaction (the one that wrote the row) has ended; in autocommit, so
                # the NOTIFY neither waits for nor takes the write lock other processes share. What is pending is
                # taken only then: everything rung so far has committed, and goes out together.
                async with self._db.settled():
                    wake, self._wake_pending = self._wake_pending, False
                    meetings, self._meetings_pending = sorted(self._meetings_pending), set()
                    if wake:
                        await self._db.fetch_all("SELECT pg_notify(?, ?)", (CHANNEL, self._me))
                        wake = False
                    while meetings:
                        await self._db.fetch_all("SELECT pg_notify(?, ?)",
                                                 (CHANNEL, f"{self._me} {MEETING} {meetings[0]}"))
                        meetings.pop(0)
            except Exception:  # what was not sent goes with the next ring; never a loop that spins
                self._wake_pending |= wake
                self._meetings_pending.update(meetings)
                log.exception("cluster: a notice could not be sent; it goes with the next one, the others poll")
                return

    def _heard(self, payload: str) -> None:
        """One notice from the channel: another process's wake-up or meeting change; this process's own are
        skipped (it already knows), and one it cannot read is logged and ignored."""
        sender, _, rest = payload.partition(" ")
        kind, _, value = rest.partition(" ")
        try:
            if sender == self._me:
                return
            if not rest:
                self.on_wakeup()
            elif kind == MEETING and value.isascii() and value.isdigit():
                self.on_meeting(int(value))
            else:
                log.warning("cluster: ignored a notice that is neither a wake-up nor a meeting change: %r",
                            payload[:100])
        except Exception:  # a listener's failure must not end the connection, and with it the lead
            log.exception("cluster: a listener failed on notice %r", payload[:100])

    async def run(self) -> None:
        """Listen and try to lead until cancelled, reconnecting when the connection drops.

        Raises :class:`DatabaseLost` when the repositories' own connection has closed (a server restart): the
        process can do nothing any more, and must end so that its supervisor starts it afresh, rather than keep
        the lead (or a gateway) that it cannot serve."""
        while True:
            self._check_database()
            try:
                async with await open_connection(self._url) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening = True
                    while True:
                        self._check_database()
                        if self.leader:
                            # Still connected? A half-open connection would let the lock go on the server while
                            # this process went on leading.
                            async with asyncio.timeout(self._lead_retry + PING_SECONDS):
                                await conn.execute("SELECT 1")
                        else:
                            await self._try_to_lead(conn)
                        async for note in conn.notifies(timeout=self._lead_retry):
                            self._heard(note.payload)
            except (asyncio.CancelledError, DatabaseLost):
                raise
            except Exception:
                log.exception("cluster: the listening connection failed; reconnecting")
            self.listening = False
            self._set_leader(False)
            await asyncio.sleep(RECONNECT_SECONDS)

    def _check_database(self) -> None:
        if self._db.lost:
            self._set_leader(False)
            raise DatabaseLost("the connection to PostgreSQL was lost; this process stops so that it can be "
                               "started again")

    async def _try_to_lead(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,))
        row = await cursor.fetchone()
        self._set_leader(bool(row and row[0]))

    def _set_leader(self, leads: bool) -> None:
        if leads != self.leader:
            self.leader = leads
            log.info("cluster: this process %s the scheduled work", "now runs" if leads else "no longer runs")
            with contextlib.suppress(Exception):
                self.on_leadership(leads)
