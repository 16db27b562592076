"""Button tokens: stored once per invocation, found after a restart, not written again for every recipient."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.discord.tokens import ActionTokens, token_of

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class CountingStore:
    """An in-memory :class:`bot.adapter_stores.ActionTokenStore` that counts its writes."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.writes = 0

    async def remember(self, token: str, command: str, now: datetime) -> None:
        self.writes += 1
        self.rows.setdefault(token, command)

    async def command_for(self, token: str) -> str | None:
        return self.rows.get(token)


async def test_the_same_button_for_a_thousand_recipients_is_written_once() -> None:
    store = CountingStore()
    tokens = ActionTokens(store)
    issued = {await tokens.token_for("unsubscribe elections", NOW) for _ in range(1000)}
    assert issued == {token_of("unsubscribe elections")} and store.writes == 1
    assert await tokens.command_for(token_of("unsubscribe elections")) == "unsubscribe elections"


async def test_a_token_forgotten_by_the_bounded_memory_is_written_again_harmlessly() -> None:
    store = CountingStore()
    tokens = ActionTokens(store, remembered=2)
    for command in ("a", "b", "c", "a"):  # "a" fell out of the memory of two: written again (INSERT OR IGNORE)
        await tokens.token_for(command, NOW)
    assert store.writes == 4 and set(store.rows.values()) == {"a", "b", "c"}


async def test_a_new_process_finds_and_rewrites_nothing_it_needs() -> None:
    store = CountingStore()
    await ActionTokens(store).token_for("rsvp 1 yes", NOW)
    after_restart = ActionTokens(store)  # its memory is empty; the row is in the database
    assert await after_restart.command_for(token_of("rsvp 1 yes")) == "rsvp 1 yes"
