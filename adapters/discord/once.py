"""Each Discord interaction handled once, however many gateway sessions receive it.

Why: one process at a time holds a shard's gateway (:mod:`adapters.discord.turns`), but a takeover is not
instantaneous at Discord's end: while the old holder's session closes and the new one identifies, both can receive
the same ``INTERACTION_CREATE``; and a session that resumes may be sent one again. Each copy would run the command —
an announcement created twice, a button's action done twice — and answer it, the second answer refused by Discord.
So before handling an interaction (a slash command, a button, a modal; not an autocomplete, which changes nothing and
comes at every keystroke), this process claims its id
in the memory every process on the database shares (``storage/handled_events.py``, the same one Slack's
redeliveries are claimed in). The claim is one insert only one connection can win; the loser does nothing at all,
not even answer: the winner answers.

Why claim before handling, not after: the two copies arrive together, so a claim written only afterwards would let
both run. The price: a process that dies between the claim and the handling has used the interaction up (Discord
shows "interaction failed"; the person tries again) — at most once, as for Slack.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import discord

from adapters.discord.stores import SeenDeliveries
from bot.clock import Clock

log = logging.getLogger(__name__)

KEEP = timedelta(hours=1)
"""How long a key is remembered: Discord's duplicates come within seconds, and an interaction's token expires
after 15 minutes. The same hour as Slack's, since one prune by age forgets every platform's keys."""
CLAIM_SECONDS = 0.5
"""The longest the claim may take (it waits for the database's write lock): past it the interaction is handled
without one, as when the database is unreachable, since Discord wants an answer within 3 seconds."""
PRUNE_EVERY = timedelta(minutes=10)
"""How often a process forgets the keys older than :data:`KEEP` (each process does; the delete is idempotent)."""


def interaction_key(interaction_id: int) -> str:
    """The key of one interaction: its id, which Discord gives every copy of it (a snowflake, unique)."""
    return f"discord:interaction:{interaction_id}"


class OnceInteractions:
    """Claims each interaction in ``seen`` (every process's memory), or lets every one through without it."""

    def __init__(self, seen: SeenDeliveries | None, clock: Clock) -> None:
        self._seen = seen
        self._clock = clock
        self._next_prune: datetime | None = None
        self._pruning: asyncio.Task[None] | None = None

    async def first(self, interaction: discord.Interaction) -> bool:
        """True when this copy of ``interaction`` is the one to handle: the first claim of its id by any process
        (or there is no memory to claim in). False for a copy claimed already; it must be left unanswered."""
        if self._seen is None or interaction.type == discord.InteractionType.autocomplete:
            return True  # suggestions change nothing, and a claim per keystroke would take the write lock as often
        key = interaction_key(interaction.id)
        try:
            async with asyncio.timeout(CLAIM_SECONDS):
                first = await self._seen.first_seen(key, self._clock.now())
        except Exception:
            # Handled rather than dropped: the person gets an answer; a second copy could run only if another
            # session received it during the same failure.
            log.exception("Discord: could not check whether interaction %s was handled already; handling it",
                          interaction.id)
            return True
        if not first:
            log.info("Discord: interaction %s reached this process after another copy of it was claimed; "
                     "not handled again", interaction.id)
            return False
        self._prune_now_and_then()
        return True

    def _prune_now_and_then(self) -> None:
        """Forget old keys every :data:`PRUNE_EVERY`, beside the handling (a delete waits for the write lock, and
        the interaction's 3 seconds are running); a failure only delays it (a later interaction tries again)."""
        now = self._clock.now()
        if (self._next_prune is not None and now < self._next_prune) or (
                self._pruning is not None and not self._pruning.done()):
            return
        self._next_prune = now + PRUNE_EVERY
        self._pruning = asyncio.get_running_loop().create_task(self._prune(now - KEEP))

    async def _prune(self, before: datetime) -> None:
        if self._seen is None:
            return
        try:
            await self._seen.prune(before)
        except Exception:
            log.exception("Discord: could not forget old interactions")
            self._next_prune = None
